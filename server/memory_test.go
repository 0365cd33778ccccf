package server_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// MEMORY USAGE answers what the keyspace accounts for the key
// (Entry.Usage), on a real node: a 64-byte value, and larger ones.
func TestMemoryUsageIsEntryUsage(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	c := dialRaw(t, n.Addr().String())
	var last int64
	for _, size := range []int{64, 65, 640, 64 << 10} {
		key := "k" + strconv.Itoa(size)
		c.do("SET", key, strings.Repeat("v", size))
		got, err := strconv.ParseInt(c.str("MEMORY", "USAGE", key), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ks := n.Node().Store()
		ks.RLock()
		want := ks.DB(0).Get([]byte(key), n.Node().Now()).Usage()
		ks.RUnlock()
		if got != want {
			t.Errorf("MEMORY USAGE of %d bytes = %d, Entry.Usage = %d", size, got, want)
		}
		if got < int64(size) || got < last {
			t.Errorf("MEMORY USAGE of %d bytes = %d, after %d", size, got, last)
		}
		last = got
	}
}

// used_memory_peak is noted as ops apply: keys written and flushed with
// no INFO or MEMORY in between still show in it.
func TestMemoryPeak(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	c := dialRaw(t, n.Addr().String())
	field := func(info, name string) int64 {
		t.Helper()
		v, err := strconv.ParseInt(infoField(info, name), 10, 64)
		if err != nil {
			t.Fatalf("INFO %s: %q", name, infoField(info, name))
		}
		return v
	}
	before := c.str("INFO", "memory")
	used0 := field(before, "used_memory")
	if p := field(before, "used_memory_peak"); p < used0 {
		t.Errorf("used_memory_peak %d < used_memory %d", p, used0)
	}
	// Redis's rule: under 5MB used, the doctor has nothing to judge.
	doctor := func(used int64) {
		t.Helper()
		if got := c.str("MEMORY", "DOCTOR"); (got == emptyDoctor) != (used < 5<<20) {
			t.Errorf("MEMORY DOCTOR with used_memory %d: %q", used, got)
		}
	}
	doctor(used0)

	// 8MB of values, pipelined, then flushed.
	const keys, size = 8000, 1024
	fill := func() {
		value := strings.Repeat("x", size)
		for i := 0; i < keys; i += 500 {
			for j := i; j < i+500; j++ {
				c.send("SET", "key:"+strconv.Itoa(j), value)
			}
			for j := i; j < i+500; j++ {
				if r, err := c.read(); err != nil || r != "OK" {
					t.Fatalf("SET: %v %v", r, err)
				}
			}
		}
	}
	fill()
	c.do("FLUSHALL")
	after := c.str("INFO", "memory")
	used, peak := field(after, "used_memory"), field(after, "used_memory_peak")
	if peak < used0+keys*size {
		t.Errorf("used_memory_peak %d after %d bytes were written and flushed; used_memory was %d", peak, keys*size, used0)
	}
	if used > used0+keys*size/8 {
		t.Errorf("used_memory %d after FLUSHALL, %d before the writes", used, used0)
	}
	perc := float64(float32(used) * 100 / float32(peak)) // Redis's single precision
	if got := infoField(after, "used_memory_peak_perc"); got != strconv.FormatFloat(perc, 'f', 2, 64)+"%" {
		t.Errorf("used_memory_peak_perc %s, used_memory %d, peak %d", got, used, peak)
	}
	doctor(used)
	fill()
	doctor(field(c.str("INFO", "memory"), "used_memory"))
	if r := c.do("MEMORY", "PURGE"); r != "OK" {
		t.Errorf("MEMORY PURGE: %v", r)
	}
}

const emptyDoctor = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
