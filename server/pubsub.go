package server

import (
	"sync"
	"sync/atomic"

	"github.com/loomcache/loomcache/pubsub"
)

// A subscribed connection's messages come from the node's Pub/Sub hub,
// which the FSM goroutine feeds: it only appends to the connection's
// queue (pubsub.Sub), bounded by the pubsub class of
// client-output-buffer-limit, and never waits on the socket. The
// connection's writer, a goroutine started with its first subscription
// and stopped when the connection ends, writes the queue out. It and the
// connection's own reply flushes write under the connection's write
// mutex, so no frame is ever split by another.

// pubsubConn is what a connection adds for Pub/Sub.
type pubsubConn struct {
	sub *pubsub.Sub
	// wmu serializes the connection's writes: its replies and the
	// writer's messages.
	wmu sync.Mutex
	// overflowed: the hub found the queue over its limits and closed the
	// socket; the connection logs it as it ends.
	overflowed atomic.Bool
	// lifeMu guards starting the writer, which another connection may do
	// (one redirecting its invalidations here), against its end.
	lifeMu     sync.Mutex
	ended      bool
	stop, done chan struct{} // the writer's; nil until it starts
}

// newSub gives c its queue; the hub calls the hooks.
func (s *Server) newSub(c *client) {
	c.sub = pubsub.NewSub(pubsub.Hooks{
		Limits: func() pubsub.Limits {
			lim := s.limits()
			l := lim.out[classPubsub]
			// A monitor is a normal client to Redis 7.0. Normal's default
			// is no limit, which replies can afford (TCP backpressure
			// stops a client that does not read them) and a monitor's
			// queue cannot: the pubsub class's limits bound it then.
			if n := lim.out[classNormal]; c.sess.MonitoringNow() && !c.sess.HasSubscriptions() && (n.hard > 0 || n.soft > 0) {
				l = n
			}
			return pubsub.Limits{Hard: l.hard, Soft: l.soft, SoftFor: l.softFor}
		},
		// On the FSM goroutine: nothing here blocks (dropConn does not
		// wait for a TLS close_notify).
		Overflow: func() {
			c.overflowed.Store(true)
			resetOnClose(c)
			dropConn(c.nc)
		},
		Start: func() { s.startSubWriter(c) },
	})
	c.sess.Sub = c.sub
	c.sess.Track = s.table.Tracking().Register(c.sess.ID, c.sub)
}

// startSubWriter starts c's writer; endSub stops it.
func (s *Server) startSubWriter(c *client) {
	c.lifeMu.Lock()
	defer c.lifeMu.Unlock()
	if c.ended {
		return
	}
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(c.done)
		for {
			select {
			case <-c.stop:
				return
			case <-c.sub.Wake():
			}
			c.wmu.Lock()
			b, over := c.sub.Take()
			var err error
			if len(b) > 0 {
				var n int
				n, err = c.nc.Write(b)
				c.net.wrote(n)
				c.sub.Written()
			}
			c.wmu.Unlock()
			if over || err != nil {
				dropConn(c.nc) // the connection's read fails and it ends
				return
			}
		}
	}()
}

// endSub leaves every subscription and stops the writer; the caller has
// closed the socket, so a write in progress fails.
func (s *Server) endSub(c *client) {
	if c.sub == nil {
		return
	}
	s.table.LeaveMonitor(c.sess)
	s.table.PubSub().Leave(c.sub)
	s.table.Tracking().Unregister(c.sess.Track)
	c.lifeMu.Lock()
	c.ended = true // a redirecting connection no longer starts the writer
	c.lifeMu.Unlock()
	if c.stop != nil {
		close(c.stop)
		<-c.done
	}
	if c.overflowed.Load() {
		s.log.Printf("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", c.desc())
	}
}

// writeOut writes b, a batch of replies, to c's socket under the write
// mutex (then what the queue held meanwhile).
func (c *client) writeOut(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	n, err := c.nc.Write(b)
	c.net.wrote(n)
	if err != nil {
		return err
	}
	return c.writeHeld()
}

// writeHeld writes the messages queued while the connection held its
// queue (pubsub.Sub.Hold), after the replies that confirmed the
// subscriptions. The caller holds wmu.
func (c *client) writeHeld() error {
	if c.sub == nil {
		return nil
	}
	q := c.sub.Release()
	if len(q) == 0 {
		return nil
	}
	n, err := c.nc.Write(q)
	c.net.wrote(n)
	c.sub.Written()
	return err
}
