package client

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options configures a Client.
type Options struct {
	// Seeds are RESP addresses (host:port) of the cluster's nodes. One
	// that answers is enough to start; but the client knows only the
	// seeds and the nodes that have led a partition (RAFT.PARTITIONS
	// gives no other node's address), so list every node: with one seed
	// that is also the only leader (P = 1), its loss leaves no node to
	// ask.
	Seeds []string
	// Node is the template of every node's go-redis client (password,
	// TLS, timeouts, pool size, protocol, DB...). Addr is each node's;
	// MaxRetries is -1, since the Client decides what is sent again; its
	// OnConnect, if any, runs after RAFT.REDIRECT ON.
	Node redis.Options
	// RefreshInterval is how often the partition map is read again
	// (1 s by default); it is also read at once after a -MOVED, a
	// CLUSTERDOWN or a node that does not answer.
	RefreshInterval time.Duration
	// RefreshTimeout bounds one refresh (2 s by default).
	RefreshTimeout time.Duration
	// MaxAttempts bounds how many times one command is sent (10 by
	// default), counting its redirections.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the pause before sending a command
	// again after CLUSTERDOWN, LOADING, a node that does not answer or a
	// write's lost outcome (8 ms doubling up to 512 ms by default).
	MinBackoff, MaxBackoff time.Duration
}

func (o *Options) setDefaults() {
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = time.Second
	}
	if o.RefreshTimeout <= 0 {
		o.RefreshTimeout = 2 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 8 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(512*time.Millisecond, o.MinBackoff)
	}
}

// Client is a partition-aware client of a LoomCache cluster. The
// embedded *redis.Client gives go-redis's API (Get, Set, Pipeline,
// TxPipelined, Do, ...); its hooks send each command to its partition's
// leader over the node's own client, and it never connects anywhere
// itself. Close it to stop its refresher and close every connection.
type Client struct {
	*redis.Client
	r *router
}

// errNoOwnConn is what the embedded client's dialer answers: everything
// that reaches it bypassed the routing (Conn, Subscribe: see docs/client.md).
var errNoOwnConn = errors.New("loomcache client: this call has no partition routing (use a node's client, see docs/client.md)")

// New connects to the seeds, reads the partition map and the command
// table, and starts the refresher.
func New(ctx context.Context, opt Options) (*Client, error) {
	if len(opt.Seeds) == 0 {
		return nil, errors.New("loomcache client: no seed address")
	}
	opt.setDefaults()
	origin, err := newOrigin()
	if err != nil {
		return nil, err
	}
	life, end := context.WithCancel(context.Background())
	r := &router{
		opt: opt, nodes: map[string]*redis.Client{}, origin: origin,
		refreshNow: make(chan struct{}, 1), life: life, end: end,
	}
	for _, s := range opt.Seeds {
		if _, err := r.nodeClient(s); err != nil {
			return nil, err
		}
	}
	err = r.refresh(ctx)
	if err == nil {
		r.cmds, err = r.loadCommands(ctx)
	}
	if err != nil {
		return nil, errors.Join(err, r.close())
	}
	routed := redis.NewClient(&redis.Options{
		Addr: "loomcache-routed", Protocol: opt.Node.Protocol, MaxRetries: -1, DisableIdentity: true,
	})
	routed.AddHook(routeHook{r})
	r.wg.Add(1)
	go r.refresher()
	return &Client{Client: routed, r: r}, nil
}

// loadCommands reads the command table from the first node that gives it.
func (r *router) loadCommands(ctx context.Context) (cmdTable, error) {
	r.mu.RLock()
	nodes := make([]*redis.Client, 0, len(r.nodes))
	for _, rc := range r.nodes {
		nodes = append(nodes, rc)
	}
	r.mu.RUnlock()
	var errs []error
	for _, rc := range nodes {
		t, err := loadCommands(ctx, rc)
		if err == nil {
			return t, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// Close stops the refresher and closes every node's connections.
func (c *Client) Close() error {
	return errors.Join(c.r.close(), c.Client.Close())
}

// PartitionOf returns the partition of key.
func (c *Client) PartitionOf(key string) int { return c.r.partitionOf(key, c.r.partitions()) }

// Refresh reads the partition map again now.
func (c *Client) Refresh(ctx context.Context) error { return c.r.refresh(ctx) }

// Stats counts what the client did besides sending commands once.
type Stats struct {
	Redirects uint64 // -MOVED replies followed
	Pauses    uint64 // pauses before sending a command again (CLUSTERDOWN, LOADING, a node not answering, a moving leadership)
	Refreshes uint64 // partition maps read
	// Resent counts writes sent again under their request id after their
	// outcome was lost (-UNKNOWN, a connection lost or timed out after
	// sending), a transaction counting once.
	Resent uint64
}

// Stats returns the client's counts so far.
func (c *Client) Stats() Stats {
	return Stats{Redirects: c.r.redirects.Load(), Pauses: c.r.pauses.Load(), Refreshes: c.r.refreshes.Load(),
		Resent: c.r.resent.Load()}
}

// Node returns the go-redis client of partition p's leader (of any node
// while it is not known), for what the routing does not cover.
func (c *Client) Node(p int) (*redis.Client, error) { return c.r.leader(p) }

// Watch runs fn in a WATCH transaction (go-redis's Client.Watch) on the
// leader of the keys' partition (partition 0 without keys). It is not
// retried: fn's transaction may be retried by the caller, as with
// go-redis (redis.TxFailedErr).
func (c *Client) Watch(ctx context.Context, fn func(*redis.Tx) error, keys ...string) error {
	p := 0
	if len(keys) > 0 {
		p = c.PartitionOf(keys[0])
	}
	rc, err := c.r.leader(p)
	if err != nil {
		return err
	}
	return rc.Watch(ctx, fn, keys...)
}

// routeHook makes the embedded client route everything through the
// router and never dial.
type routeHook struct{ r *router }

func (routeHook) DialHook(redis.DialHook) redis.DialHook {
	return func(context.Context, string, string) (net.Conn, error) { return nil, errNoOwnConn }
}

func (h routeHook) ProcessHook(redis.ProcessHook) redis.ProcessHook { return h.r.process }

func (h routeHook) ProcessPipelineHook(redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return h.r.processPipeline
}
