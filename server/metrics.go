package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/loomcache/loomcache/metrics"
)

// The metrics endpoint (Config.MetricsAddr): Prometheus's text format on
// /metrics, served by its own HTTP server that New starts and Close
// stops. The collectors (package metrics) read the figures below at each
// scrape; nothing is counted for them on the request path.

// metricsServer is the endpoint's listener and HTTP server.
type metricsServer struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{} // closed when Serve has returned
}

// startMetrics listens on addr and serves /metrics until stopMetrics.
func (s *Server) startMetrics(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics-addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(metrics.NewRegistry(metricsSource{s}), promhttp.HandlerOpts{}))
	m := &metricsServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Printf("metrics endpoint %s: %v", addr, err)
		}
	}()
	s.metrics = m
	return nil
}

// MetricsAddr returns the metrics endpoint's address, nil when it is off.
func (s *Server) MetricsAddr() net.Addr {
	if s.metrics == nil {
		return nil
	}
	return s.metrics.ln.Addr()
}

// stopMetrics closes the endpoint and waits for its server, and for the
// scrapes under way (a scrape reads the node, which closes next), to
// return; a scrape still running after metricsStopWait has its
// connection closed.
func (s *Server) stopMetrics() {
	m := s.metrics
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), metricsStopWait)
	defer cancel()
	if m.srv.Shutdown(ctx) != nil {
		m.srv.Close()
	}
	<-m.done
}

// metricsStopWait bounds how long Close waits for scrapes under way.
const metricsStopWait = 5 * time.Second

// metricsSource is the server as the collectors see it.
type metricsSource struct{ s *Server }

func (m metricsSource) Redis() metrics.Redis {
	s := m.s
	s.conf.mu.Lock()
	maxmem := s.conf.v.maxMemory
	s.conf.mu.Unlock()
	r := metrics.Redis{
		UptimeSeconds:       int64(time.Since(s.started) / time.Second),
		StartTimeSeconds:    s.started.Unix(),
		ConnectedClients:    s.clientCount(),
		BlockedClients:      s.table.Waiters().Blocked() + s.pause.held.Load(),
		ConnectionsReceived: s.stats.connections.Load(),
		RejectedConnections: s.stats.rejected.Load(),
		CommandsProcessed:   s.stats.commands.Load(),
		ExpiredKeys:         s.table.ExpiredKeys(),
		EvictedKeys:         s.table.EvictedKeys(),
		ErrorReplies:        s.table.ErrorReplies(),
		MemoryUsed:          s.UsedMemory(),
		MemoryMax:           maxmem,
		MemoryRSS:           residentBytes(),
		Commands:            s.table.CommandStats(),
		Errors:              s.table.ErrorCounts(),
	}
	if s.openNode() == nil {
		return r // loading: the stores are not open
	}
	r.DBs = make([]metrics.DBKeys, s.cfg.Databases)
	for i := range r.DBs {
		r.DBs[i].DB = i
	}
	r.KeyspaceHits, r.KeyspaceMisses = s.keyspaceReads()
	for _, g := range s.groups {
		ks := g.Store()
		ks.RLock()
		for i := range r.DBs {
			r.DBs[i].Keys += int64(ks.DB(i).Len())
			r.DBs[i].Expires += int64(ks.DB(i).Expires())
		}
		ks.RUnlock()
	}
	return r
}

func (m metricsSource) Partitions() []metrics.Partition {
	s := m.s
	if s.openNode() == nil {
		return nil
	}
	out := make([]metrics.Partition, len(s.groups))
	for i, g := range s.groups {
		out[i] = metrics.Partition{ID: i, Stats: g.Stats(), Metrics: g.Metrics()}
	}
	return out
}

// clientCount is connected_clients without building Clients' list.
func (s *Server) clientCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.clients))
}
