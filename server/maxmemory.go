package server

import (
	"errors"
	"math"
	"strconv"
	"time"
)

// This file is maxmemory's configuration: Redis 7.0's directives
// (maxmemory, maxmemory-policy, maxmemory-samples,
// maxmemory-eviction-tenacity, lfu-log-factor, lfu-decay-time) with
// Redis's defaults, value syntax and errors, what of them eviction reads
// (memPolicy, published at every change), and the one place that says
// what "used memory" is. The eviction itself is in evict.go.

// evictValues are the eviction settings whose Redis defaults are not zero.
type evictValues struct {
	samples   int64 // maxmemory-samples
	tenacity  int64 // maxmemory-eviction-tenacity
	logFactor int64 // lfu-log-factor
	decayTime int64 // lfu-decay-time, minutes
}

func defaultEvictValues() evictValues {
	return evictValues{samples: 5, tenacity: 10, logFactor: 10, decayTime: 1}
}

var maxmemoryPolicies = []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
	"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}

// intSetting is one of Redis's INTEGER_CONFIG settings, within lo..hi.
func intSetting(name string, lo int64, hi int64, field func(v *confValues) *int64) setting {
	return setting{name: name,
		get: func(_ *Server, v *confValues) string { return strconv.FormatInt(*field(v), 10) },
		set: func(_ *Server, v *confValues, val string) error {
			n, err := parseBounded(val, lo, hi, false)
			if err == nil {
				*field(v) = n
			}
			return err
		}}
}

func memorySettings() []setting {
	return []setting{
		{name: "maxmemory", get: func(_ *Server, v *confValues) string { return strconv.FormatUint(v.maxMemory, 10) },
			set: func(_ *Server, v *confValues, val string) error {
				n, ok := memtoull(val)
				if !ok {
					return errors.New("argument must be a memory value")
				}
				v.maxMemory = n
				return nil
			}, apply: applyMaxmemory},
		{name: "maxmemory-policy", get: func(_ *Server, v *confValues) string { return v.maxmemoryPolicy() },
			set: func(_ *Server, v *confValues, val string) error {
				p, err := parseEnum(val, maxmemoryPolicies)
				v.policy = p
				return err
			}},
		intSetting("maxmemory-samples", 1, math.MaxInt32, func(v *confValues) *int64 { return &v.evict.samples }),
		intSetting("maxmemory-eviction-tenacity", 0, 100, func(v *confValues) *int64 { return &v.evict.tenacity }),
		intSetting("lfu-log-factor", 0, math.MaxInt32, func(v *confValues) *int64 { return &v.evict.logFactor }),
		intSetting("lfu-decay-time", 0, math.MaxInt32, func(v *confValues) *int64 { return &v.evict.decayTime }),
	}
}

func (v *confValues) maxmemoryPolicy() string {
	if v.policy == "" {
		return "noeviction"
	}
	return v.policy
}

// evictPolicy is a maxmemory-policy.
type evictPolicy uint8

const (
	noEviction evictPolicy = iota
	volatileLRU
	volatileLFU
	volatileRandom
	volatileTTL
	allkeysLRU
	allkeysLFU
	allkeysRandom
)

func parsePolicy(name string) evictPolicy {
	switch name {
	case "volatile-lru":
		return volatileLRU
	case "volatile-lfu":
		return volatileLFU
	case "volatile-random":
		return volatileRandom
	case "volatile-ttl":
		return volatileTTL
	case "allkeys-lru":
		return allkeysLRU
	case "allkeys-lfu":
		return allkeysLFU
	case "allkeys-random":
		return allkeysRandom
	}
	return noEviction
}

// volatile: only keys with a deadline are evicted.
func (p evictPolicy) volatile() bool { return p >= volatileLRU && p <= volatileTTL }
func (p evictPolicy) lfu() bool      { return p == volatileLFU || p == allkeysLFU }
func (p evictPolicy) random() bool   { return p == volatileRandom || p == allkeysRandom }

// memPolicy is what eviction reads of the settings; configSet publishes a
// new one whenever it commits.
type memPolicy struct {
	maxmemory uint64 // 0: no limit
	policy    evictPolicy
	samples   int
	// timeLimit is how long one eviction may run before it leaves the
	// rest to the background loop (maxmemory-eviction-tenacity); < 0:
	// no limit.
	timeLimit time.Duration
}

// evictionTimeLimit is Redis's evictionTimeLimitUs: 50µs per step of
// tenacity up to 10, then 15% more per step, and no limit at 100.
func evictionTimeLimit(tenacity int64) time.Duration {
	switch {
	case tenacity <= 10:
		return time.Duration(50*tenacity) * time.Microsecond
	case tenacity < 100:
		return time.Duration(int64(500.0*math.Pow(1.15, float64(tenacity-10)))) * time.Microsecond
	}
	return -1
}

// publishMemory makes v's eviction settings the ones in force: for the
// evictor, for OBJECT FREQ and IDLETIME (the table), and for how the
// keyspace counts accesses. The caller holds s.conf.mu.
func (s *Server) publishMemory(v *confValues) {
	p := &memPolicy{
		maxmemory: v.maxMemory,
		policy:    parsePolicy(v.maxmemoryPolicy()),
		samples:   int(v.evict.samples),
		timeLimit: evictionTimeLimit(v.evict.tenacity),
	}
	s.conf.mem.Store(p)
	for _, g := range s.groups { // none yet at startup: the directives come before the node
		g.Store().SetAccessPolicy(p.policy.lfu(), int(v.evict.logFactor), int(v.evict.decayTime))
	}
}

// applyMaxmemory is Redis's updateMaxmemory: a warning when the new limit
// is below the memory in use, and the background eviction woken to bring
// it under.
func (s *Server) applyMaxmemory(tx *applyTx) error {
	if tx.startup || s.node == nil {
		return nil
	}
	limit := tx.next.maxMemory
	tx.onCommit(func() {
		if limit == 0 {
			return
		}
		if used := s.UsedMemory(); limit < used {
			s.log.Printf("WARNING: the new maxmemory value set via CONFIG SET (%d) is smaller than the current memory usage (%d). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.", limit, used)
		}
		s.evict.wake()
	})
	return nil
}
