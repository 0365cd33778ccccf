// Command pubbench measures Pub/Sub fan-out against Redis-protocol
// servers: N subscriber connections SUBSCRIBEd to one channel, spread
// round robin over the -addrs, and a few publisher connections (also
// spread over them) PUBLISHing messages that carry their send time
// (unix ns) and a sequence number, for a warm-up and a measured time.
//
// Each publisher sends one PUBLISH at a time and waits for its reply (no
// pipelining), and keeps at most -window of its messages in flight: a
// message is in flight from its send until every subscriber has it. So
// the publishers go as fast as the servers and subscribers deliver, and
// no queue grows without bound (latency measured with a growing backlog
// says how long the run was, not how fast delivery is). The default
// window, 1024/subs within [1, 16], keeps about a thousand deliveries
// in flight per publisher: 16 messages to 1 subscriber, 10 to 100, 1 to
// 10,000.
//
// Every subscriber reads with its own goroutine over a raw connection
// (10,000 go-redis PubSubs cost far more than the servers), records the
// delivery latency of every message sent in the measured time (receipt
// time minus send time) and checks, per publisher, that the sequence
// numbers come in order with none missing or repeated.
//
// It prints messages published per second, deliveries per second
// (messages received by all subscribers in the measured time), latency
// p50/p99/max, and the lost and reordered counts; with -csv, one line
// "subs,window,published,pub_per_s,deliveries,deliv_per_s,p50_ms,p99_ms,max_ms,lost,reordered,disconnected,errors,first_error".
//
// bench/pubsub.sh runs it against a 3-node LoomCache cluster and Redis.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	addrs      []string
	channel    string
	subs       int
	publishers int
	window     int
	dialers    int
	warmup     time.Duration
	duration   time.Duration
	drain      time.Duration
	csv        bool
}

func main() {
	var cfg config
	var addrs string
	flag.StringVar(&addrs, "addrs", "127.0.0.1:6379", "servers, comma-separated: subscribers and publishers are spread over them round robin")
	flag.StringVar(&cfg.channel, "channel", "pubbench", "channel")
	flag.IntVar(&cfg.subs, "subs", 100, "subscriber connections")
	flag.IntVar(&cfg.publishers, "publishers", 3, "publisher connections, one PUBLISH in flight each")
	flag.IntVar(&cfg.window, "window", 0, "messages a publisher may have sent and not yet delivered to every subscriber; 0: 1024/subs, within [1, 16]")
	flag.IntVar(&cfg.dialers, "dialers", 32, "subscribers connecting at once")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured time before the measured one")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured time")
	flag.DurationVar(&cfg.drain, "drain", 10*time.Second, "how long to wait, after the publishers stop, for messages still on their way")
	flag.BoolVar(&cfg.csv, "csv", false, "print one CSV line")
	flag.Parse()
	cfg.addrs = strings.Split(addrs, ",")
	if cfg.window == 0 {
		cfg.window = max(1, min(16, 1024/max(1, cfg.subs)))
	}
	if cfg.subs < 1 || cfg.publishers < 1 || cfg.window < 1 || cfg.window > ringSize/2 {
		fmt.Fprintln(os.Stderr, "pubbench: -subs and -publishers must be positive, -window in [1, 32768]")
		os.Exit(2)
	}
	res, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pubbench:", err)
		os.Exit(1)
	}
	res.print(cfg)
}

// bench is what the subscribers and publishers of one run share.
type bench struct {
	measureFrom, end  time.Time
	pubs              []*publisher
	delivered         atomic.Uint64 // deliveries, all of them
	deliveredInWindow atomic.Uint64 // deliveries received in the measured time
}

type result struct {
	published, publishedInWin, deliveries, deliveriesInWin uint64
	lost, reordered, errors                                uint64
	disconnected                                           int
	firstErr                                               error
	hist                                                   histogram
}

func run(cfg config) (*result, error) {
	subs, err := connectSubscribers(cfg)
	defer func() {
		for _, s := range subs {
			s.conn.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	b := &bench{}
	for i := range cfg.publishers {
		p, err := dialPublisher(i, cfg.addrs[i%len(cfg.addrs)], cfg.window, cfg.subs)
		if err != nil {
			return nil, fmt.Errorf("publisher %d: %w", i, err)
		}
		defer p.conn.Close()
		b.pubs = append(b.pubs, p)
	}

	// Subscribers add to one of a few histograms, so that 10,000 of them
	// do not all contend for the same counters.
	hists := make([]histogram, min(cfg.subs, 16))
	var (
		stopping atomic.Bool
		readers  sync.WaitGroup
		pubsWG   sync.WaitGroup
	)
	start := time.Now()
	b.measureFrom = start.Add(cfg.warmup)
	b.end = b.measureFrom.Add(cfg.duration)
	for i, s := range subs {
		readers.Go(func() { s.receive(b, &hists[i%len(hists)], &stopping) })
	}
	for _, p := range b.pubs {
		pubsWG.Go(func() { p.run(b, cfg.channel) })
	}
	pubsWG.Wait()

	res := &result{}
	sent := make([]uint64, len(b.pubs))
	for i, p := range b.pubs {
		sent[i] = p.sent.Load()
		res.published += sent[i]
		res.publishedInWin += p.inWin
		res.errors += p.errors
		if res.firstErr == nil {
			res.firstErr = p.lastErr
		}
	}
	// Wait for what is still on its way, then stop the readers.
	want := res.published * uint64(cfg.subs)
	for deadline := time.Now().Add(cfg.drain); b.delivered.Load() < want && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	stopping.Store(true)
	for _, s := range subs {
		s.conn.Close()
	}
	readers.Wait()

	res.deliveries = b.delivered.Load()
	res.deliveriesInWin = b.deliveredInWindow.Load()
	for _, s := range subs {
		s.finish(sent)
		res.lost += s.lost
		res.reordered += s.reordered
		if s.disconnected != nil {
			res.disconnected++
			if res.firstErr == nil {
				res.firstErr = fmt.Errorf("subscriber disconnected: %w", s.disconnected)
			}
		}
	}
	for i := range hists {
		res.hist.merge(&hists[i])
	}
	return res, nil
}

// connectSubscribers connects and subscribes cfg.subs connections,
// subscriber i to cfg.addrs[i % len], cfg.dialers at a time (a burst of
// 10,000 connects would overflow the servers' listen backlogs).
func connectSubscribers(cfg config) ([]*subscriber, error) {
	subs := make([]*subscriber, cfg.subs)
	errs := make([]error, cfg.subs)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(cfg.dialers, cfg.subs) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < cfg.subs; i = int(next.Add(1) - 1) {
				subs[i], errs[i] = subscribe(cfg.addrs[i%len(cfg.addrs)], cfg.channel, cfg.publishers)
			}
		})
	}
	wg.Wait()
	ok := subs[:0]
	for _, s := range subs {
		if s != nil {
			ok = append(ok, s)
		}
	}
	for _, err := range errs {
		if err != nil {
			return ok, fmt.Errorf("%d of %d subscribers: %w", cfg.subs-len(ok), cfg.subs, err)
		}
	}
	return ok, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (r *result) print(cfg config) {
	secs := cfg.duration.Seconds()
	p50, p99, pmax := r.hist.percentile(0.50), r.hist.percentile(0.99), r.hist.percentile(1)
	errText := ""
	if r.firstErr != nil {
		errText = strings.NewReplacer(",", ";", "\n", " ", "\r", "").Replace(r.firstErr.Error())
	}
	if cfg.csv {
		fmt.Printf("%d,%d,%d,%.0f,%d,%.0f,%.3f,%.3f,%.3f,%d,%d,%d,%d,%s\n", cfg.subs, cfg.window, r.published,
			float64(r.publishedInWin)/secs, r.deliveries, float64(r.deliveriesInWin)/secs,
			ms(p50), ms(p99), ms(pmax), r.lost, r.reordered, r.disconnected, r.errors, errText)
		return
	}
	fmt.Printf("%d subscribers, %d publishers, window %d, %s measured\n", cfg.subs, cfg.publishers, cfg.window, cfg.duration)
	fmt.Printf("published %d (%.0f/s), deliveries %d (%.0f/s)\n", r.published, float64(r.publishedInWin)/secs,
		r.deliveries, float64(r.deliveriesInWin)/secs)
	fmt.Printf("delivery latency p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", ms(p50), ms(p99), ms(pmax))
	fmt.Printf("lost %d, reordered %d, subscribers disconnected %d, publish errors %d\n", r.lost, r.reordered, r.disconnected, r.errors)
	if errText != "" {
		fmt.Println("first error:", errText)
	}
}
