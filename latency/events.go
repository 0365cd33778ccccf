package latency

import (
	"strings"
	"sync"
	"sync/atomic"
)

// historyLen is Redis's LATENCY_TS_LEN: samples kept per event.
const historyLen = 160

// maxEvents bounds the events kept; the names are the node's own, a
// dozen at most, so it is never reached in practice.
const maxEvents = 64

// Sample is one latency sample: the second it was taken in and the worst
// latency seen in that second, in milliseconds.
type Sample struct {
	Time    int64
	Latency int64
}

type series struct {
	idx     int
	max     int64
	samples [historyLen]Sample
}

// Monitor is the latency monitor (LATENCY LATEST, HISTORY, RESET,
// DOCTOR, GRAPH): for each event, the worst latency of each second it
// went over latency-monitor-threshold, the last 160 of them. Per node.
type Monitor struct {
	threshold atomic.Int64 // ms; 0: off

	mu     sync.Mutex
	events map[string]*series
	order  []string // in the order first seen, as LATEST lists them
}

// NewMonitor returns a monitor, off (Redis's default threshold is 0).
func NewMonitor() *Monitor { return &Monitor{events: make(map[string]*series)} }

// SetThreshold sets latency-monitor-threshold, in ms.
func (m *Monitor) SetThreshold(ms int64) { m.threshold.Store(ms) }

// Threshold is latency-monitor-threshold.
func (m *Monitor) Threshold() int64 { return m.threshold.Load() }

// AddIfNeeded is latencyAddSampleIfNeeded: a sample of ms milliseconds
// for event, at unix second now, if the monitor is on and ms reaches
// the threshold.
func (m *Monitor) AddIfNeeded(event string, ms, now int64) {
	if m.Over(ms) {
		m.Add(event, ms, now)
	}
}

// Over reports whether a latency of ms is recorded: the monitor is on
// and ms reaches its threshold.
func (m *Monitor) Over(ms int64) bool {
	t := m.threshold.Load()
	return t != 0 && ms >= t
}

// Add is latencyAddSample.
func (m *Monitor) Add(event string, ms, now int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[event]
	if ts == nil {
		if len(m.events) >= maxEvents {
			return
		}
		ts = &series{}
		m.events[event] = ts
		m.order = append(m.order, event)
	}
	ts.max = max(ts.max, ms)
	prev := (ts.idx + historyLen - 1) % historyLen
	if ts.samples[prev].Time == now {
		ts.samples[prev].Latency = max(ts.samples[prev].Latency, ms)
		return
	}
	ts.samples[ts.idx] = Sample{Time: now, Latency: ms}
	ts.idx = (ts.idx + 1) % historyLen
}

// Reset drops the events named (case-insensitively), or all of them with
// none named, and returns how many it dropped.
func (m *Monitor) Reset(names ...string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	keep := m.order[:0]
	for _, ev := range m.order {
		drop := len(names) == 0
		for _, name := range names {
			drop = drop || strings.EqualFold(ev, name)
		}
		if drop {
			delete(m.events, ev)
			n++
		} else {
			keep = append(keep, ev)
		}
	}
	m.order = keep
	return n
}

// Latest is one line of LATENCY LATEST.
type Latest struct {
	Event         string
	Time, Latency int64
	Max           int64
}

// Latest is LATENCY LATEST: each event's newest sample and its worst.
func (m *Monitor) Latest() []Latest {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Latest, 0, len(m.order))
	for _, ev := range m.order {
		ts := m.events[ev]
		last := ts.samples[(ts.idx+historyLen-1)%historyLen]
		out = append(out, Latest{Event: ev, Time: last.Time, Latency: last.Latency, Max: ts.max})
	}
	return out
}

// History is LATENCY HISTORY: event's samples, oldest first, and
// whether there is such an event.
func (m *Monitor) History(event string) ([]Sample, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[event]
	if ts == nil {
		return nil, false
	}
	return ts.history(), true
}

func (ts *series) history() []Sample {
	var out []Sample
	for j := 0; j < historyLen; j++ {
		s := ts.samples[(ts.idx+j)%historyLen]
		if s.Time != 0 {
			out = append(out, s)
		}
	}
	return out
}

// eventStats are Redis's struct latencyStats.
type eventStats struct {
	allTimeHigh, avg, min, max, mad int64
	samples                         int64
	period                          int64
}

// analyze is analyzeLatencyForEvent.
func (ts *series) analyze(now int64) eventStats {
	st := eventStats{allTimeHigh: ts.max}
	var sum, oldest int64
	for _, s := range ts.samples {
		if s.Time == 0 {
			continue
		}
		st.samples++
		if st.samples == 1 {
			st.min, st.max = s.Latency, s.Latency
		} else {
			st.min, st.max = min(st.min, s.Latency), max(st.max, s.Latency)
		}
		sum += s.Latency
		if oldest == 0 || s.Time < oldest {
			oldest = s.Time
		}
	}
	if st.samples == 0 {
		return st
	}
	st.avg = sum / st.samples
	st.period = max(now-oldest, 1)
	sum = 0
	for _, s := range ts.samples {
		if s.Time != 0 {
			sum += abs(st.avg - s.Latency)
		}
	}
	st.mad = sum / st.samples
	return st
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// snapshot copies the events for a report, in the order first seen.
func (m *Monitor) snapshot() ([]string, []series) {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := append([]string(nil), m.order...)
	out := make([]series, len(names))
	for i, ev := range names {
		out[i] = *m.events[ev]
	}
	return names, out
}
