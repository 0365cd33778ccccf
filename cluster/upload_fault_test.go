package cluster

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestFaultsMidUpload: a large write goes to Raft in pieces (op.Piece,
// raftfsm/pieces.go), and a fault that strikes its leader while the
// pieces are being replicated must leave either the whole value or
// none of it, on every node, with the workload's history still
// linearizable. The value is written through partition 0's leader, the
// node the fault hits, a random moment (up to 60 ms) after it was
// sent: the kill or pause falls during its pieces or just after them
// (the log says how the write ended).
func TestFaultsMidUpload(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name: "kill-leader-mid-upload", nodes: 3,
			doc:    "start 3; SET a 16 MB value through the leader and kill -9 it while the pieces replicate; restart it; check the value is whole or absent",
			inject: midUpload(false),
		},
		{
			name: "pause-leader-mid-upload-p3", nodes: 3, partitions: 3,
			doc:    "start 3 with 3 partitions; SET a 16 MB value through partition 0's leader and SIGSTOP it while the pieces replicate; SIGCONT it; check the value is whole or absent",
			inject: midUpload(true),
		},
	})
}

// uploadSize is the large value's size: 16 pieces.
const uploadSize = 16 << 20

// midUpload is the inject of TestFaultsMidUpload.
func midUpload(pause bool) func(c *cluster) (string, func()) {
	return func(c *cluster) (string, func()) {
		l := c.leader()
		seed := rand.Uint32()
		key := keyOf(fmt.Sprintf("upload:%d:", seed), 0, c.partitions) // the leader the fault hits leads partition 0
		val := largeValue(uploadSize, byte(seed))
		type outcome struct {
			r     reply
			err   error
			after time.Duration // from the value sent to the reply
		}
		sent, done := make(chan struct{}), make(chan outcome, 1)
		go func() {
			// A TTL makes the value evictable (the suite's nodes evict
			// volatile keys at 1 MB): it is gone soon after it lands.
			cn, err := sendLarge(l.addr, key, val, "PX", "600000")
			sentAt := time.Now()
			close(sent)
			if err != nil {
				done <- outcome{nil, err, 0}
				return
			}
			defer cn.Close()
			r, err := readReply(cn.r)
			done <- outcome{r, err, time.Since(sentAt)}
		}()
		// Once the value is sent the node has read all but a socket
		// buffer of it, and its pieces follow within milliseconds.
		<-sent
		wait := time.Duration(rand.IntN(60)) * time.Millisecond
		time.Sleep(wait)
		what := "kill -9"
		if pause {
			what = "SIGSTOP"
			c.pause(l)
		} else {
			c.kill(l)
		}
		what = fmt.Sprintf("%s leader %s %v after a SET of %d MB (%s) was sent", what, l.id, wait, uploadSize>>20, key)
		return what, func() {
			if pause {
				c.resume(l)
			} else {
				c.restart(l)
			}
			var o outcome
			select {
			case o = <-done:
			case <-time.After(2 * time.Minute):
				c.t.Errorf("the SET of %s never ended", key)
				return
			}
			c.t.Logf("the SET of %s ended %v after it was sent: %v %v", key, o.after.Round(time.Millisecond), o.r, o.err)
			// Whole or absent (evicted, or never applied), read
			// through the leader.
			err := getCompare(c.leader().addr, key, val)
			if err != nil && !strings.Contains(err.Error(), `"$-1\r\n"`) {
				c.t.Errorf("%s after its SET (%v %v) was cut by a fault: %v", key, o.r, o.err, err)
			}
		}
	}
}
