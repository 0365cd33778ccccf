package keyspace

import (
	"math/rand/v2"
	"testing"
)

func TestLFUIncr(t *testing.T) {
	for _, c := range []struct {
		counter   uint8
		logFactor int
		r         float64
		want      uint8
	}{
		{5, 10, 0.999999, 6},      // at LFU_INIT_VAL every access counts
		{0, 10, 0.999999, 1},      // below it too (a decayed counter)
		{4, 10, 0.999999, 5},      //
		{6, 10, 1.0/11 - 1e-9, 7}, // p = 1/((6-5)*10+1)
		{6, 10, 1.0 / 11, 6},
		{15, 10, 1.0/101 - 1e-9, 16}, // p = 1/(10*10+1)
		{15, 10, 0.5, 15},
		{100, 0, 0.999999, 101}, // lfu-log-factor 0: every access counts
		{255, 0, 0, 255},        // saturated
		{254, 1, 0, 255},
		{6, 1<<31 - 1, 1e-12, 7}, // INT_MAX factor: p tiny but positive
	} {
		if got := lfuIncr(c.counter, c.logFactor, c.r); got != c.want {
			t.Errorf("lfuIncr(%d, %d, %v) = %d, want %d", c.counter, c.logFactor, c.r, got, c.want)
		}
	}
}

// With lfu-log-factor 10, Redis's documentation gives about 10 for 100
// accesses, 18 for 1000 and 142 for 100K (redis.conf's table).
func TestLFUIncrGrowsLogarithmically(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := uint8(lfuInitVal)
	for i, check := range []struct {
		hits   int
		lo, hi uint8
	}{{100, 8, 13}, {1000, 15, 22}, {100_000, 120, 165}} {
		prev := 0
		if i > 0 {
			prev = []int{100, 1000}[i-1]
		}
		for range check.hits - prev {
			c = lfuIncr(c, 10, r.Float64())
		}
		if c < check.lo || c > check.hi {
			t.Errorf("after %d hits the counter is %d, want %d..%d", check.hits, c, check.lo, check.hi)
		}
	}
}

func TestLFUDecay(t *testing.T) {
	for _, c := range []struct {
		counter        uint8
		elapsed, decay int
		want           uint8
	}{
		{10, 0, 1, 10},
		{10, 3, 1, 7},
		{10, 3, 2, 9}, // one whole period of 2 minutes
		{10, 10, 1, 0},
		{10, 11, 1, 0},
		{10, 1000, 0, 10}, // lfu-decay-time 0: never decays
		{255, 60, 1, 195},
		{0, 5, 1, 0},
	} {
		if got := lfuDecay(c.counter, c.elapsed, c.decay); got != c.want {
			t.Errorf("lfuDecay(%d, %d, %d) = %d, want %d", c.counter, c.elapsed, c.decay, got, c.want)
		}
	}
}

func TestLFUElapsed(t *testing.T) {
	for _, c := range []struct {
		ldt, now uint16
		want     int
	}{
		{100, 100, 0},
		{100, 105, 5},
		{65535, 0, 0}, // Redis's wrap counts 65535 minutes to a turn
		{65530, 4, 9},
	} {
		if got := lfuElapsed(c.ldt, c.now); got != c.want {
			t.Errorf("lfuElapsed(%d, %d) = %d, want %d", c.ldt, c.now, got, c.want)
		}
	}
	if m := lfuMinutes(t0); m != uint16(t0/60000%65536) {
		t.Errorf("lfuMinutes = %d", m)
	}
}

// Under LFU a new key starts at 5, its first access takes it to 6, its
// counter decays a minute at a time, and a SET over it keeps it (Redis's
// dbOverwrite); under LRU accesses leave the counter alone.
func TestAccessCounting(t *testing.T) {
	s := New(2)
	s.SetAccessPolicy(true, 10, 1)
	s.SetOpTime(t0)
	d := s.DB(0)
	k := []byte("k")
	d.Set(k, NewString([]byte("v")), 0)
	v := d.Get(k, t0)
	steps := []struct {
		name string
		run  func() uint8
		want uint8
	}{
		{"new key", func() uint8 { return d.Freq(v, t0) }, 5},
		{"first access", func() uint8 { d.Touch(v, t0); return d.Freq(v, t0) }, 6},
		{"decayed two minutes later", func() uint8 { return d.Freq(v, t0+2*60000) }, 4},
		{"overwrite keeps it", func() uint8 {
			d.Set(k, NewString([]byte("w")), 0)
			v = d.Get(k, t0)
			return d.Freq(v, t0)
		}, 6},
		{"a new key elsewhere starts at 5", func() uint8 {
			s.DB(1).Set(k, NewString([]byte("x")), 0)
			return s.DB(1).Freq(s.DB(1).Get(k, t0), t0)
		}, 5},
		{"LRU: accesses are not counted", func() uint8 {
			s.SetAccessPolicy(false, 10, 1)
			u := s.DB(1).Get(k, t0)
			s.DB(1).Touch(u, t0)
			return s.DB(1).Freq(u, t0)
		}, 5},
		{"LRU: an overwrite starts afresh", func() uint8 {
			d.Set(k, NewString([]byte("y")), 0)
			return d.Freq(d.Get(k, t0), t0)
		}, 5},
		{"lfu-decay-time 0", func() uint8 {
			s.SetAccessPolicy(true, 10, 0)
			return d.Freq(d.Get(k, t0), t0+600*60000)
		}, 5},
	}
	for _, st := range steps {
		if got := st.run(); got != st.want {
			t.Errorf("%s: freq %d, want %d", st.name, got, st.want)
		}
	}
}

// A moved value (RENAME stores it under the new key, then deletes the
// old) keeps its counter rather than taking the replaced value's.
func TestMovedValueKeepsCounter(t *testing.T) {
	s := New(1)
	s.SetAccessPolicy(true, 0, 1) // factor 0: every access counts
	s.SetOpTime(t0)
	d := s.DB(0)
	d.Set([]byte("src"), NewString([]byte("a")), 0)
	d.Set([]byte("dst"), NewString([]byte("b")), 0)
	v := d.Get([]byte("src"), t0)
	for range 3 {
		d.Touch(v, t0)
	}
	d.Set([]byte("dst"), v.Value(), 0)
	d.Delete([]byte("src"), t0)
	if got := d.Freq(d.Get([]byte("dst"), t0), t0); got != 8 {
		t.Errorf("moved value's freq %d, want 8", got)
	}
}

// Readers touch values concurrently under the read lock while the policy
// changes: the access data is atomic (run with -race).
func TestConcurrentTouch(t *testing.T) {
	s := New(1)
	s.SetOpTime(t0)
	d := s.DB(0)
	for i := range 10 {
		d.Set(key(i), NewString([]byte("v")), 0)
	}
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for n := range 2000 {
				s.RLock()
				v := d.Get(key((g+n)%10), t0)
				d.Touch(v, t0+int64(n))
				_ = d.Freq(v, t0+int64(n))
				s.RUnlock()
			}
		}()
	}
	for n := range 200 {
		s.SetAccessPolicy(n%2 == 0, 10, 1)
	}
	for range 4 {
		<-done
	}
	for i := range 10 {
		if f := d.Freq(d.Get(key(i), t0), t0); f < lfuInitVal {
			t.Errorf("key %d: freq %d", i, f)
		}
	}
}

// The cost Touch adds to a read (GET touches its value) under each policy.
func BenchmarkTouch(b *testing.B) {
	for _, lfu := range []bool{false, true} {
		b.Run(map[bool]string{false: "lru", true: "lfu"}[lfu], func(b *testing.B) {
			s := New(1)
			s.SetAccessPolicy(lfu, 10, 1)
			d := s.DB(0)
			d.Set([]byte("k"), NewString([]byte("v")), 0)
			v := d.Get([]byte("k"), t0)
			for i := 0; b.Loop(); i++ {
				d.Touch(v, t0+int64(i))
			}
		})
	}
}
