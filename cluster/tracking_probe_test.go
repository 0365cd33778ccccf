package cluster

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// A tracker is a RESP3 client with CLIENT TRACKING on, on one node, that
// caches the probe's counters as an application would: a key not cached
// is read and kept; an invalidation drops it (all of them, for a flush);
// a lost connection drops the cache (nothing is replayed), and the next
// one starts empty. The probe's publishers INCR the counters through
// every node in turn. At the end, once the writes stopped, each node's
// tracker has its pending invalidations delivered (a marker key it
// cached is written; its invalidation comes after every earlier one of
// its node) and must then hold no value older than the key's: a stale
// entry is an invalidation lost (docs/consistency.md, "Client-side
// caching").
type tracker struct {
	node  *node
	mu    sync.Mutex
	cn    *conn
	cache map[string]string
	conns int // incarnations
}

const (
	trackCounters = 8
	trackMarker   = probeKeys + "marker"
)

func counterKey(i int) string { return probeKeys + "c" + strconv.Itoa(i) }

// track runs t until stop: reads keys not cached, takes pushes.
func (t *tracker) track(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		cn, err := dial(t.node.addr, time.Second)
		if err == nil {
			_, err = cn.do(5*time.Second, "HELLO", "3")
		}
		if err == nil {
			var r reply
			r, err = t.call(cn, "CLIENT", "TRACKING", "ON")
			if err == nil && r != "OK" {
				err = fmt.Errorf("CLIENT TRACKING ON: %v", r)
			}
		}
		if err != nil {
			if cn != nil {
				cn.Close()
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		t.mu.Lock()
		t.cn, t.cache = cn, map[string]string{}
		t.conns++
		t.mu.Unlock()
		for err == nil {
			select {
			case <-stop:
				return // the connection stays, for finish
			default:
			}
			k := counterKey(rand.IntN(trackCounters))
			t.mu.Lock()
			_, cached := t.cache[k]
			t.mu.Unlock()
			if !cached {
				var v reply
				if v, err = t.call(cn, "GET", k); err == nil {
					if s, ok := v.(string); ok {
						t.mu.Lock()
						t.cache[k] = s
						t.mu.Unlock()
					}
				}
			} else {
				_, err = t.call(cn, "PING")
			}
			time.Sleep(5 * time.Millisecond)
		}
		cn.Close()
		t.mu.Lock()
		t.cn, t.cache = nil, nil // a lost connection: the cache goes too
		t.mu.Unlock()
	}
}

// call sends a command and returns its reply, applying the pushes that
// come before it.
func (t *tracker) call(cn *conn, args ...string) (reply, error) {
	var b []byte
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	cn.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := cn.nc.Write(b); err != nil {
		return nil, err
	}
	for {
		r, err := readReply(cn.r)
		if err != nil {
			return nil, err
		}
		if p, isPush := r.(push); isPush {
			t.invalidated(p)
			continue
		}
		return r, nil
	}
}

// invalidated applies an invalidation push; it reports the keys named
// (nil for "all").
func (t *tracker) invalidated(p push) []any {
	if len(p) != 2 || p[0] != "invalidate" {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	keys, _ := p[1].([]any)
	if keys == nil {
		clear(t.cache)
		return nil
	}
	for _, k := range keys {
		delete(t.cache, fmt.Sprint(k))
	}
	return keys
}

// settle has the tracker's pending invalidations delivered and checks its
// cache against the keys' values, read through its node; the writes have
// stopped. It returns the problems found.
func (t *tracker) settle(writer *conn) []string {
	t.mu.Lock()
	cn := t.cn
	t.mu.Unlock()
	if cn == nil {
		return []string{t.node.id + "'s tracker has no connection at the end"}
	}
	if _, err := served(func() (reply, error) { return t.call(cn, "GET", trackMarker) }); err != nil {
		return []string{fmt.Sprintf("%s's tracker: GET %s: %v", t.node.id, trackMarker, err)}
	}
	r, err := served(func() (reply, error) {
		return writer.do(10*time.Second, "SET", trackMarker, strconv.FormatInt(time.Now().UnixNano(), 10))
	})
	if err != nil || r != "OK" {
		return []string{fmt.Sprintf("SET %s: %v %v", trackMarker, r, err)}
	}
	cn.nc.SetDeadline(time.Now().Add(20 * time.Second))
	for marked := false; !marked; {
		r, err := readReply(cn.r)
		if err != nil {
			return []string{fmt.Sprintf("%s's tracker: no invalidation of %s: %v", t.node.id, trackMarker, err)}
		}
		p, _ := r.(push)
		keys := t.invalidated(p)
		marked = len(p) == 2 && p[1] == nil
		for _, k := range keys {
			marked = marked || k == trackMarker
		}
	}
	var problems []string
	t.mu.Lock()
	cache := make(map[string]string, len(t.cache))
	for k, v := range t.cache {
		cache[k] = v
	}
	t.mu.Unlock()
	for k, v := range cache {
		now, err := served(func() (reply, error) { return t.call(cn, "GET", k) })
		if err != nil {
			return append(problems, fmt.Sprintf("%s's tracker: GET %s: %v", t.node.id, k, err))
		}
		if fmt.Sprint(now) != v {
			problems = append(problems, fmt.Sprintf("%s's tracker holds %s=%s, its value is %v: an invalidation was lost", t.node.id, k, v, now))
		}
	}
	return problems
}

// served calls do until its reply is not a refusal (a leadership change
// as the faults end: CLUSTERDOWN, not applied), for at most leaderBound.
func served(do func() (reply, error)) (reply, error) {
	deadline := time.Now().Add(leaderBound)
	for {
		r, err := do()
		if e, ok := r.(errorReply); err != nil || !ok || !refusal(string(e)) || time.Now().After(deadline) {
			return r, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
