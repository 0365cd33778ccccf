package server_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
)

// popResult is what one blocked client got: the element, or why not.
type popResult struct {
	client int
	elem   string
	err    error
}

// blpopLoop has c pop from key with BLPOP (timeout secs) until a timeout,
// an error or the connection's end, sending each element to out.
func blpopLoop(c *rawConn, client int, key, secs string, out chan<- popResult) {
	for {
		c.send("BLPOP", key, secs)
		c.nc.SetDeadline(time.Now().Add(2 * time.Minute))
		r, err := c.read()
		switch v := r.(type) {
		case []any:
			if len(v) == 2 {
				out <- popResult{client: client, elem: v[1].(string)}
				continue
			}
			out <- popResult{client: client, err: fmt.Errorf("timed out")}
		case string:
			out <- popResult{client: client, err: fmt.Errorf("reply %s", v)}
		default:
			out <- popResult{client: client, err: fmt.Errorf("read: %v (%v)", err, r)}
		}
		return
	}
}

func waitBlocked(t *testing.T, c *rawConn, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d blocked clients", n), func() bool {
		return infoInt(t, c, "clients", "blocked_clients") == n
	})
}

// Clients blocked on every node of a cluster are each served one element
// of a push made elsewhere: no element goes to two clients, none is lost,
// and the list ends empty on every node.
func TestBlockingPopsAcrossNodes(t *testing.T) {
	cl := nodetest.StartCluster(t, 3, nil)
	nodes := append([]*nodetest.InProcess{cl.Leader()}, cl.Followers()...)
	admin := make([]*rawConn, 3)
	for i, n := range nodes {
		admin[i] = dialRaw(t, n.Addr().String())
	}
	const perNode = 2
	out := make(chan popResult, 3*perNode)
	for i := 0; i < 3*perNode; i++ {
		c := dialRaw(t, nodes[i%3].Addr().String())
		c.send("BLPOP", "q", "0")
		go func() {
			c.nc.SetDeadline(time.Now().Add(time.Minute))
			r, err := c.read()
			if v, ok := r.([]any); ok && len(v) == 2 && v[0] == "q" {
				out <- popResult{client: i, elem: v[1].(string)}
				return
			}
			out <- popResult{client: i, err: fmt.Errorf("%v %v", r, err)}
		}()
	}
	for _, a := range admin {
		waitBlocked(t, a, perNode)
	}
	var want []string
	args := []string{"RPUSH", "q"}
	for i := 0; i < 3*perNode; i++ {
		want = append(want, "e"+strconv.Itoa(i))
	}
	if r := admin[1].do(append(args, want...)...); r != strconv.Itoa(len(want)) {
		t.Fatalf("RPUSH through a follower: %v", r)
	}
	var got []string
	for range want {
		r := <-out
		if r.err != nil {
			t.Fatalf("client %d: %v", r.client, r.err)
		}
		got = append(got, r.elem)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("served %v, pushed %v", got, want)
	}
	for i, a := range admin {
		a.str("READONLY")
		eventually(t, fmt.Sprintf("node %d's q empty, nobody blocked", i), func() bool {
			return a.str("EXISTS", "q") == "0" && infoInt(t, a, "clients", "blocked_clients") == 0
		})
	}
}

// The leader stops while clients blocked on every node are being served
// a stream of pushes: no element reaches two clients, and every element
// pushed is served or still in the list, but for at most one per client
// whose connection ended with the leader (its pop may have been applied
// with the reply lost, as for any write on a lost connection).
func TestBlockingPopsLeaderStops(t *testing.T) {
	cl := nodetest.StartCluster(t, 3, nil)
	leader, followers := cl.Leader(), cl.Followers()
	nodes := append([]*nodetest.InProcess{leader}, followers...)
	const perNode = 2
	out := make(chan popResult, 1000)
	for i := 0; i < 3*perNode; i++ {
		c := dialRaw(t, nodes[i%3].Addr().String())
		go blpopLoop(c, i, "q", "3", out)
	}
	pusher := dialRaw(t, followers[0].Addr().String())
	pushed, maybe := map[string]bool{}, map[string]bool{}
	const total = 60
	for i := 0; i < total; i++ {
		if i == total/2 {
			leader.Stop()
		}
		e := "e" + strconv.Itoa(i)
		for try := 0; ; try++ {
			r := pusher.do("RPUSH", "q", e)
			if s, ok := r.(string); ok && len(s) > 0 && s[0] != '-' {
				pushed[e] = true
				break
			}
			if s, _ := r.(string); len(s) > 8 && s[:8] == "-UNKNOWN" {
				maybe[e] = true
				break
			}
			if try > 200 {
				t.Fatalf("RPUSH %s: %v", e, r)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(10 * time.Millisecond)
	}
	served := map[string]int{}
	dropped := 0
	for ended := 0; ended < 3*perNode; {
		r := <-out
		if r.err != nil {
			ended++
			if r.client%3 == 0 {
				dropped++ // a client of the stopped leader
			} else if r.err.Error() != "timed out" {
				t.Errorf("client %d on a follower: %v", r.client, r.err)
			}
			continue
		}
		served[r.elem]++
	}
	for e, n := range served {
		if n > 1 {
			t.Errorf("%s served %d times", e, n)
		}
		if !pushed[e] && !maybe[e] {
			t.Errorf("%s served, never pushed", e)
		}
	}
	left := map[string]bool{}
	if r, ok := pusher.do("LRANGE", "q", "0", "-1").([]any); ok {
		for _, e := range r {
			left[e.(string)] = true
		}
	}
	lost := 0
	for e := range pushed {
		if served[e] == 0 && !left[e] {
			lost++
			t.Logf("%s: neither served nor in the list", e)
		}
	}
	if lost > dropped {
		t.Errorf("%d elements lost, %d clients dropped with the leader", lost, dropped)
	}
	t.Logf("%d pushed (%d unknown), %d served, %d left, %d lost, %d clients dropped", len(pushed), len(maybe), len(served), len(left), lost, dropped)
}
