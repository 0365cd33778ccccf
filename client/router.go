package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/partition"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// router holds what the client knows of the cluster: a go-redis client
// per node (by RESP address), each partition's leader, and the command
// table. The map is refreshed by one goroutine (refresher), every
// RefreshInterval and when a command asks for it.
type router struct {
	opt  Options
	cmds cmdTable // read-only once New returns

	mu      sync.RWMutex
	nodes   map[string]*redis.Client
	leaders []string // per partition: the leader's address, "" while unknown
	closed  bool

	refreshNow chan struct{}   // capacity 1: a pending request
	life       context.Context // done once the client is closed
	end        context.CancelFunc
	wg         sync.WaitGroup

	hashers sync.Pool // *keyHasher

	origin string        // this client's request id origin (reqid.go)
	seq    atomic.Uint64 // the last request id's sequence

	redirects, pauses, refreshes, resent atomic.Uint64 // Stats
}

// keyHasher is a partition.Hasher with a buffer for the key's bytes.
type keyHasher struct {
	h   partition.Hasher
	buf []byte
}

// partitionOf returns the partition of a key (any type go-redis sends).
func (r *router) partitionOf(key any, n int) int {
	kh, _ := r.hashers.Get().(*keyHasher)
	if kh == nil {
		kh = &keyHasher{}
	}
	switch k := key.(type) {
	case string:
		kh.buf = append(kh.buf[:0], k...)
	case []byte:
		kh.buf = append(kh.buf[:0], k...)
	default:
		kh.buf = append(kh.buf[:0], argString(k)...)
	}
	p := kh.h.Of(kh.buf, n)
	r.hashers.Put(kh)
	return p
}

// nodeClient returns the client for a node's address, creating it.
func (r *router) nodeClient(addr string) (*redis.Client, error) {
	r.mu.RLock()
	rc, closed := r.nodes[addr], r.closed
	r.mu.RUnlock()
	if rc != nil || closed {
		if closed {
			return nil, redis.ErrClosed
		}
		return rc, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, redis.ErrClosed
	}
	if rc = r.nodes[addr]; rc == nil {
		rc = newNodeClient(r.opt.Node, addr)
		r.nodes[addr] = rc
	}
	return rc, nil
}

// newNodeClient makes the go-redis client of one node from the template:
// no retries of its own (the router decides what is sent again), its
// connections in RAFT.REDIRECT ON, and a failure to connect marked as
// such (errNotSent): nothing was sent on it.
func newNodeClient(tmpl redis.Options, addr string) *redis.Client {
	o := tmpl
	o.Addr = addr
	o.MaxRetries = -1
	if o.DialerRetries == 0 {
		o.DialerRetries = 1
	}
	if o.MaintNotificationsConfig == nil {
		// The nodes have no CLIENT MAINT_NOTIFICATIONS; go-redis's auto
		// mode would ask on every new connection, then turn itself off
		// by writing the options a sticky Conn (sendTx) shares unlocked.
		o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	}
	onConnect := tmpl.OnConnect
	o.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
		if err := cn.Do(ctx, "RAFT.REDIRECT", "ON").Err(); err != nil {
			return notSent(err)
		}
		if onConnect != nil {
			return onConnect(ctx, cn)
		}
		return nil
	}
	rc := redis.NewClient(&o)
	rc.AddHook(dialMarker{})
	return rc
}

// errNotSent marks an error that happened before the command was written
// (dialing, or setting a new connection up): retrying it is safe.
type errNotSent struct{ err error }

func (e *errNotSent) Error() string { return e.err.Error() }
func (e *errNotSent) Unwrap() error { return e.err }

func notSent(err error) error { return &errNotSent{err} }

// dialMarker marks dial errors as errNotSent.
type dialMarker struct{}

func (dialMarker) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			return nil, notSent(err)
		}
		return c, nil
	}
}
func (dialMarker) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (dialMarker) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// leader returns the client of partition p's leader, or of any node
// when its leader is not known (that node forwards the command or waits
// for a leader).
func (r *router) leader(p int) (*redis.Client, error) {
	r.mu.RLock()
	var addr string
	if p < len(r.leaders) {
		addr = r.leaders[p]
	}
	r.mu.RUnlock()
	if addr == "" {
		if rc := r.anyNode(); rc != nil {
			return rc, nil
		}
		return nil, notSent(errors.New("loomcache: no node known"))
	}
	return r.nodeClient(addr)
}

// partitions is the number of partitions (at least 1).
func (r *router) partitions() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return max(len(r.leaders), 1)
}

// anyNode returns partition 0's leader's client, or any node's.
func (r *router) anyNode() *redis.Client {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.leaders) > 0 && r.leaders[0] != "" {
		if rc := r.nodes[r.leaders[0]]; rc != nil {
			return rc
		}
	}
	for _, rc := range r.nodes {
		return rc
	}
	return nil
}

// moved records that partition p is led at addr (a -MOVED reply).
func (r *router) moved(p int, addr string) {
	if _, err := r.nodeClient(addr); err != nil {
		return
	}
	r.mu.Lock()
	if p >= 0 && p < len(r.leaders) {
		r.leaders[p] = addr
	}
	r.mu.Unlock()
	r.redirects.Add(1)
	r.requestRefresh()
}

// requestRefresh asks the refresher for a new map, without waiting.
func (r *router) requestRefresh() {
	select {
	case r.refreshNow <- struct{}{}:
	default:
	}
}

// refresher refreshes the map every RefreshInterval and on request,
// until the client is closed.
func (r *router) refresher() {
	defer r.wg.Done()
	t := time.NewTicker(r.opt.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-r.life.Done():
			return
		case <-t.C:
		case <-r.refreshNow:
		}
		ctx, cancel := context.WithTimeout(r.life, r.opt.RefreshTimeout)
		_ = r.refresh(ctx) // a failure keeps the map; commands retry
		cancel()
	}
}

// refresh reads RAFT.PARTITIONS from the first node that answers:
// partition 0's leader, then the seeds, then the other nodes known.
func (r *router) refresh(ctx context.Context) error {
	var addrs []string
	r.mu.RLock()
	if len(r.leaders) > 0 && r.leaders[0] != "" {
		addrs = append(addrs, r.leaders[0])
	}
	addrs = append(addrs, r.opt.Seeds...)
	for a := range r.nodes {
		addrs = append(addrs, a)
	}
	r.mu.RUnlock()
	var errs []error
	tried := map[string]bool{}
	for _, a := range addrs {
		if tried[a] {
			continue
		}
		tried[a] = true
		rc, err := r.nodeClient(a)
		if err != nil {
			return err
		}
		leaders, voters, err := readPartitions(ctx, rc)
		if err == nil {
			// Every voter becomes a node to fall back on, not only
			// the seeds and the leaders.
			for _, l := range append(leaders, voters...) {
				if l != "" {
					if _, err := r.nodeClient(l); err != nil {
						return err
					}
				}
			}
			r.mu.Lock()
			r.leaders = leaders
			r.mu.Unlock()
			r.refreshes.Add(1)
			return nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", a, err))
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("loomcache: no node answered RAFT.PARTITIONS: %w", errors.Join(errs...))
}

// readPartitions asks a node for RAFT.PARTITIONS: each partition's
// leader's RESP address ("" while not known), in partition order, and
// the voters' addresses.
func readPartitions(ctx context.Context, rc *redis.Client) (leaders, voters []string, err error) {
	reply, err := rc.Do(ctx, "RAFT.PARTITIONS").Slice()
	if err != nil {
		return nil, nil, err
	}
	if len(reply) == 0 {
		return nil, nil, errors.New("RAFT.PARTITIONS: no partitions (node still opening)")
	}
	leaders = make([]string, len(reply))
	for i, e := range reply {
		fields := map[string]any{}
		switch e := e.(type) {
		case map[any]any: // RESP3
			for k, v := range e {
				if k, ok := k.(string); ok {
					fields[k] = v
				}
			}
		case []any: // RESP2: field, value, ...
			for j := 0; j+1 < len(e); j += 2 {
				if k, ok := e[j].(string); ok {
					fields[k] = e[j+1]
				}
			}
		default:
			return nil, nil, fmt.Errorf("RAFT.PARTITIONS: entry %d is %T", i, e)
		}
		p, ok := fields["partition"].(int64)
		if !ok || p < 0 || int(p) >= len(reply) {
			return nil, nil, fmt.Errorf("RAFT.PARTITIONS: entry %d: bad partition %v", i, fields["partition"])
		}
		leaders[p], _ = fields["leader-addr"].(string)
		if i == 0 {
			as, _ := fields["voter-addrs"].([]any)
			for _, a := range as {
				if a, ok := a.(string); ok && a != "" {
					voters = append(voters, a)
				}
			}
		}
	}
	return leaders, voters, nil
}

// close stops the refresher and closes every node's client.
func (r *router) close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	nodes := r.nodes
	r.nodes = nil
	r.mu.Unlock()
	r.end()
	r.wg.Wait()
	var errs []error
	for _, rc := range nodes {
		errs = append(errs, rc.Close())
	}
	return errors.Join(errs...)
}
