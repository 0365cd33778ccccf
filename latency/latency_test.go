package latency

import (
	"slices"
	"strings"
	"testing"
)

func TestHistogramBuckets(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []int64 // ns
		want   []Bucket
	}{
		// Redis's example figures: 1µs calls land in the 1024ns level,
		// reported as 1; a 30µs call in the 32768ns level, as 33.
		{"one microsecond", []int64{1000}, []Bucket{{1, 1}}},
		{"below the range", []int64{0, -5}, []Bucket{{1, 2}}},
		{"spread", []int64{1000, 1500, 30000}, []Bucket{{1, 1}, {2, 2}, {33, 3}}},
		// Clamped to 1s, past the last power of two reported: the walk
		// ends on the last slot, 2^30ns.
		{"above the range is a second", []int64{5_000_000_000}, []Bucket{{1073741, 1}}},
	} {
		var h Histogram
		for _, v := range tc.values {
			h.Record(v)
		}
		if got := h.Buckets(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: buckets %v, want %v", tc.name, got, tc.want)
		}
		if h.Total() != int64(len(tc.values)) {
			t.Errorf("%s: total %d", tc.name, h.Total())
		}
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h Histogram
	for i := 0; i < 99; i++ {
		h.Record(1000)
	}
	h.Record(4000)
	// hdr_value_at_percentile: the highest value equivalent to the one
	// reached (1000ns sits in a 4ns-wide slot: 1003).
	for p, want := range map[float64]int64{0: 1000, 50: 1003, 99: 1003, 99.9: 4015, 100: 4015} {
		if got := h.ValueAtPercentile(p); got != want {
			t.Errorf("p%v = %d, want %d", p, got, want)
		}
	}
	var empty Histogram
	if got := empty.ValueAtPercentile(50); got != 0 {
		t.Errorf("empty p50 = %d", got)
	}
}

func TestSlowLogEntries(t *testing.T) {
	l := NewSlowLog()
	l.Configure(0, 3)
	args := [][]byte{[]byte("sadd"), []byte("set")}
	for i := 3; i <= 33; i++ {
		args = append(args, []byte(strings.Repeat("x", i)))
	}
	l.Add(100, 5, args, nil, "1.2.3.4:5", "name")
	l.Add(101, 6, [][]byte{[]byte("auth"), []byte("secret"), []byte(strings.Repeat("A", 129))}, []int{1}, "p", "")
	got := l.Get(-1)
	if len(got) != 2 || got[0].ID != 1 || got[1].ID != 0 {
		t.Fatalf("entries %+v", got)
	}
	old := got[1]
	if len(old.Args) != 32 || old.Args[31] != "... (2 more arguments)" || old.Args[30] != strings.Repeat("x", 31) {
		t.Errorf("trimmed args: %d, last %q", len(old.Args), old.Args[31])
	}
	if old.Time != 100 || old.Usec != 5 || old.Peer != "1.2.3.4:5" || old.Name != "name" {
		t.Errorf("entry %+v", old)
	}
	if want := []string{"auth", "(redacted)", strings.Repeat("A", 128) + "... (1 more bytes)"}; !slices.Equal(got[0].Args, want) {
		t.Errorf("args %q, want %q", got[0].Args, want)
	}
	for i := 0; i < 5; i++ {
		l.Add(102, 7, [][]byte{[]byte("ping")}, nil, "p", "")
	}
	if l.Len() != 3 || l.Get(10)[0].ID != 6 || len(l.Get(0)) != 0 || len(l.Get(2)) != 2 {
		t.Errorf("max-len 3: len %d, newest %d", l.Len(), l.Get(10)[0].ID)
	}
	l.Reset()
	l.Add(103, 7, [][]byte{[]byte("ping")}, nil, "p", "")
	if e := l.Get(-1); len(e) != 1 || e[0].ID != 7 {
		t.Errorf("after RESET: %+v (ids go on)", e)
	}
	l.Configure(-1, 3)
	l.Add(104, 1<<40, [][]byte{[]byte("ping")}, nil, "p", "")
	l.Configure(10, 0)
	l.Add(104, 9, [][]byte{[]byte("ping")}, nil, "p", "")
	if l.Len() != 1 {
		t.Errorf("disabled or too fast logged: len %d", l.Len())
	}
	l.Trim()
	if l.Len() != 0 {
		t.Errorf("max-len 0 kept %d", l.Len())
	}
}

func TestSlowLogByteBound(t *testing.T) {
	l := NewSlowLog()
	l.Configure(0, 1<<40)
	big := [][]byte{[]byte(strings.Repeat("a", 200))}
	for i := 0; i < 32; i++ {
		big = append(big, []byte(strings.Repeat("b", 200)))
	}
	for i := 0; i < 20000; i++ {
		l.Add(1, 1, big, nil, "p", "")
	}
	if l.bytes > MaxSlowLogBytes || l.Len() == 20000 || l.Len() == 0 {
		t.Errorf("%d entries, %d bytes", l.Len(), l.bytes)
	}
}

func TestMonitorEvents(t *testing.T) {
	m := NewMonitor()
	m.AddIfNeeded("command", 500, 10)
	if len(m.Latest()) != 0 {
		t.Fatal("recorded with the monitor off")
	}
	if got := m.Doctor(DoctorFacts{}, 10); !strings.HasPrefix(got, "I'm sorry, Dave, I can't do that.") {
		t.Errorf("doctor, off: %q", got)
	}
	m.SetThreshold(100)
	if got := m.Doctor(DoctorFacts{}, 10); !strings.HasPrefix(got, "Dave, no latency spike was observed") {
		t.Errorf("doctor, nothing seen: %q", got)
	}
	m.AddIfNeeded("command", 99, 10)
	m.AddIfNeeded("command", 300, 10)
	m.AddIfNeeded("command", 200, 10) // same second: the worst stays
	m.AddIfNeeded("command", 400, 11)
	m.AddIfNeeded("expire-cycle", 150, 12)
	h, ok := m.History("command")
	if !ok || !slices.Equal(h, []Sample{{10, 300}, {11, 400}}) {
		t.Errorf("history %v", h)
	}
	want := []Latest{{"command", 11, 400, 400}, {"expire-cycle", 12, 150, 150}}
	if got := m.Latest(); !slices.Equal(got, want) {
		t.Errorf("latest %v, want %v", got, want)
	}
	doc := m.Doctor(DoctorFacts{SlowerThanUsec: 10000, Hz: 10}, 12)
	for _, want := range []string{
		"Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n",
		"1. command: 2 latency spikes (average 350ms, mean deviation 50ms, period 1.00 sec). Worst all time event 400ms.\n",
		"2. expire-cycle: 1 latency spikes (average 150ms, mean deviation 0ms, period 1.00 sec). Worst all time event 150ms.\n",
		"- Check your Slow Log", "'hz' configuration parameter to 100",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("doctor lacks %q:\n%s", want, doc)
		}
	}
	g, ok := m.Graph("command", 12)
	if !ok || !strings.HasPrefix(g, "command - high 400 ms, low 300 ms (all time high 400 ms)\n"+strings.Repeat("-", 80)+"\n") {
		t.Errorf("graph %q", g)
	}
	// Four rows of bars (the low sample a floor, the high one a full
	// column), the margin, then the labels ("2s", "1s") a character per
	// row, as sparkline.c draws them.
	if want := " #\n |\n |\n_|\n  \n21\nss\n"; !strings.HasSuffix(g, want) {
		t.Errorf("graph body %q, want suffix %q", g, want)
	}
	if _, ok := m.Graph("nosuch", 12); ok {
		t.Error("graph of no event")
	}
	if n := m.Reset("COMMAND", "nosuch"); n != 1 {
		t.Errorf("reset dropped %d", n)
	}
	if n := m.Reset(); n != 1 || len(m.Latest()) != 0 {
		t.Errorf("reset all dropped %d", n)
	}
}

// BenchmarkRecord is what every command pays: a histogram record and the
// slow log's and monitor's threshold checks.
func BenchmarkRecord(b *testing.B) {
	var h Histogram
	l, m := NewSlowLog(), NewMonitor()
	b.ReportAllocs()
	for i := int64(0); b.Loop(); i++ {
		ns := 500 + i&0xffff
		h.Record(ns)
		if l.Logs(ns/1000) || m.Over(ns/1e6) {
			b.Fatal("recorded a fast command")
		}
	}
}
