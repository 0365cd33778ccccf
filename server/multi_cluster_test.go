package server_test

import (
	"bufio"
	"context"
	bin "encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
	"github.com/loomcache/loomcache/server"
	"github.com/redis/go-redis/v9"
)

// TestTransactionsOnEveryNode: a transaction sent to any node runs as one
// step on the leader, WATCH works from a follower, and under contention
// from every node at once the WATCH/compare-and-set loop and MULTI/EXEC
// lose no update and split none.
func TestTransactionsOnEveryNode(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader, followers := c.Leader(), c.Followers()
	lc, fc := dialRaw(t, leader.Addr().String()), dialRaw(t, followers[0].Addr().String())

	// A transaction through a follower.
	for _, cmd := range [][]string{{"MULTI"}, {"SET", "a", "1"}, {"INCR", "a"}, {"GET", "a"}} {
		fc.do(cmd...)
	}
	if got := fmt.Sprint(fc.do("EXEC")); got != "[OK 2 2]" {
		t.Fatalf("EXEC through a follower: %s", got)
	}
	if got := lc.str("GET", "a"); got != "2" {
		t.Fatalf("GET a on the leader: %q", got)
	}
	// A SELECT inside it moves the follower's connection, as it would have
	// had the transaction run there.
	for _, cmd := range [][]string{{"MULTI"}, {"SELECT", "3"}, {"SET", "in3", "x"}} {
		fc.do(cmd...)
	}
	if got := fmt.Sprint(fc.do("EXEC")); got != "[OK OK]" {
		t.Fatalf("EXEC with SELECT: %s", got)
	}
	if got := fc.str("GET", "in3"); got != "x" {
		t.Fatalf("GET in3 after the transaction's SELECT: %q", got)
	}
	fc.do("SELECT", "0")

	// WATCH on a follower, the key changed through the leader.
	fc.do("SET", "w", "1")
	fc.do("WATCH", "w")
	lc.do("SET", "w", "leader")
	fc.do("MULTI")
	fc.do("SET", "w", "follower")
	if r := fc.do("EXEC"); len(r.([]any)) != 0 {
		t.Fatalf("EXEC after the WATCHed key changed: %v", r)
	}
	if got := lc.str("GET", "w"); got != "leader" {
		t.Fatalf("w = %q", got)
	}
	// Unchanged, it runs.
	fc.do("WATCH", "w")
	fc.do("MULTI")
	fc.do("SET", "w", "follower")
	if got := fmt.Sprint(fc.do("EXEC")); got != "[OK]" {
		t.Fatalf("EXEC: %s", got)
	}

	// Contention from every node.
	const workers, rounds = 6, 40
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	nodes := append([]*nodetest.InProcess{leader}, followers...)
	for i := 0; i < workers; i++ {
		rc := redis.NewClient(&redis.Options{Addr: nodes[i%len(nodes)].Addr().String(), MaxRetries: -1})
		t.Cleanup(func() { rc.Close() })
		wg.Add(2)
		go func() { // compare-and-set: a counter incremented through WATCH
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				for {
					err := rc.Watch(ctx, func(tx *redis.Tx) error {
						n, err := tx.Get(ctx, "cas").Int()
						if err != nil && !errors.Is(err, redis.Nil) {
							return err
						}
						_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
							p.Set(ctx, "cas", n+1, 0)
							return nil
						})
						return err
					}, "cas")
					if err == nil {
						break
					}
					if !errors.Is(err, redis.TxFailedErr) {
						errs <- err
						return
					}
				}
			}
		}()
		go func() { // two counters moved together
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				cmds, err := rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Incr(ctx, "pa")
					p.Incr(ctx, "pb")
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
				a, b := cmds[0].(*redis.IntCmd).Val(), cmds[1].(*redis.IntCmd).Val()
				if a != b {
					errs <- fmt.Errorf("one transaction saw pa=%d pb=%d", a, b)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := strconv.Itoa(workers * rounds)
	for _, k := range []string{"cas", "pa", "pb"} {
		if got := lc.str("GET", k); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
}

// TestWatchOnSnapshotInstalledNode: versions are replicated state, so a
// node that caught up from a snapshot WATCHes with the leader's versions
// and its unchanged keys do not abort transactions.
func TestWatchOnSnapshotInstalledNode(t *testing.T) {
	c := nodetest.StartCluster(t, 3, func(_ int, cfg *server.Config) {
		cfg.SnapshotThreshold = 200
		cfg.TrailingLogs = 10
	})
	leader := c.Leader()
	lc := dialRaw(t, leader.Addr().String())
	for i := 0; i < 500; i++ {
		lc.do("SET", fmt.Sprintf("k%d", i%50), strconv.Itoa(i))
	}
	if err := leader.Node().Snapshot(); err != nil {
		t.Fatal(err)
	}
	joined := c.Join(nil)
	eventually(t, "the joined node to install a snapshot and catch up", func() bool {
		return joined.Node().Stats().Restores > 0 && joined.Node().Stats().AppliedIndex >= leader.Node().Stats().AppliedIndex
	})
	jc := dialRaw(t, joined.Addr().String())
	for i := 0; i < 50; i++ {
		k := fmt.Sprintf("k%d", i)
		jc.do("WATCH", k)
		jc.do("MULTI")
		jc.do("APPEND", k, "+")
		if r, ok := jc.do("EXEC").([]any); !ok || len(r) != 1 {
			t.Fatalf("EXEC with %s WATCHed on the snapshot-installed node: %v", k, r)
		}
	}
}

// TestForwardedTransactionRetry: a follower that loses its leader sends a
// forwarded EXEC again with the same request id, and its first attempt
// may have been applied. The retry must get the first attempt's reply,
// even though the keys it WATCHed or wrote changed since (by that very
// attempt): not a null array, nor the reply of a second run. The cluster
// fault suite found the WATCH case (a compare-and-set answered "not
// applied" that was applied, after a partition of the leader); here a
// forwarded block is sent twice, as the follower's retry would be.
func TestForwardedTransactionRetry(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader := c.Leader()
	lc := dialRaw(t, leader.Addr().String())
	lc.do("SET", "w", "1")
	nc, err := raftfsm.DialCluster(leader.Cfg.RaftAddr, raftfsm.ChannelForward, "test", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(nc)
	frame := uint64(0)
	send := func(o *op.Op) string {
		frame++
		nc.Write(forwardFrame(frame, o))
		id, status, reply := readForwardReply(t, br)
		if id != frame || status != 0 {
			t.Fatalf("frame %d: id %d status %d %q", frame, id, status, reply)
		}
		return reply
	}

	// WATCH w as a follower does: the leader reads its version.
	versions := send(&op.Op{Type: op.Forward, Int: 2, Flags: op.FlagVersions,
		Args: [][]byte{[]byte("WATCH"), []byte("w")}, Req: op.ReqID{Origin: "follower-x", Seq: 1}})
	var version uint64
	if _, err := fmt.Sscanf(versions, "*1\r\n:%d\r\n", &version); err != nil {
		t.Fatalf("versions %q: %v", versions, err)
	}
	watched := []op.Check{{Key: []byte("w"), Version: version, Watch: true}}
	block := func(seq uint64, watched []op.Check, cmd ...string) *op.Op {
		return &op.Op{Type: op.Forward, Int: 2, Flags: op.FlagBlock, Req: op.ReqID{Origin: "follower-x", Seq: seq},
			Args: [][]byte{[]byte("EXEC"), forwardedTransaction(watched, cmd)}}
	}
	for _, s := range []struct {
		name string
		o    *op.Op
		want string
	}{
		{"WATCH w, SET w 2", block(2, watched, "SET", "w", "2"), "*1\r\n+OK\r\n"},
		{"its retry", block(2, watched, "SET", "w", "2"), "*1\r\n+OK\r\n"},
		{"another with the stale WATCH", block(3, watched, "SET", "w", "3"), "*-1\r\n"},
		{"DEL w", block(4, nil, "DEL", "w"), "*1\r\n:1\r\n"},
		{"its retry", block(4, nil, "DEL", "w"), "*1\r\n:1\r\n"},
	} {
		if got := send(s.o); got != s.want {
			t.Errorf("%s: %q, want %q", s.name, got, s.want)
		}
	}
	if got := lc.str("EXISTS", "w"); got != "0" {
		t.Errorf("EXISTS w = %s after DEL", got)
	}
}

// forwardedTransaction encodes a transaction of one command as a follower
// forwards it (commands/transaction.go): the checks, length-prefixed,
// then the commands, each a flags byte, its argument count and its
// arguments, length-prefixed.
func forwardedTransaction(watched []op.Check, args []string) []byte {
	checks := op.AppendChecks(nil, watched)
	b := bin.AppendUvarint(nil, uint64(len(checks)))
	b = append(b, checks...)
	b = bin.AppendUvarint(b, 1)
	b = append(b, 0)
	b = bin.AppendUvarint(b, uint64(len(args)))
	for _, a := range args {
		b = bin.AppendUvarint(b, uint64(len(a)))
		b = append(b, a...)
	}
	return b
}
