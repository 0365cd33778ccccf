package server

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/latency"
)

// This file is the server's side of SLOWLOG and LATENCY: their CONFIG
// parameters, INFO latencystats, and what LATENCY DOCTOR asks of the
// node (commands/latency.go keeps the records).

// latencyValues are the settings of the slow log and latency monitor.
type latencyValues struct {
	slowerThan int64 // slowlog-log-slower-than, usec; -1: off
	slowMaxLen int64 // slowlog-max-len
	threshold  int64 // latency-monitor-threshold, ms; 0: off
	noTracking bool  // latency-tracking no
	// percentiles is latency-tracking-info-percentiles as CONFIG GET
	// shows it (confValues stays comparable).
	percentiles string
}

func defaultLatencyValues() latencyValues {
	return latencyValues{slowerThan: 10000, slowMaxLen: 128, percentiles: "50 99 99.9"}
}

func latencySettings() []setting {
	return []setting{
		intSetting("slowlog-log-slower-than", -1, math.MaxInt64, func(v *confValues) *int64 { return &v.lat.slowerThan }),
		intSetting("slowlog-max-len", 0, math.MaxInt64, func(v *confValues) *int64 { return &v.lat.slowMaxLen }),
		intSetting("latency-monitor-threshold", 0, math.MaxInt64, func(v *confValues) *int64 { return &v.lat.threshold }),
		{name: "latency-tracking", get: func(_ *Server, v *confValues) string { return yesNo(!v.lat.noTracking) },
			set: func(_ *Server, v *confValues, val string) error {
				on, err := parseYesNo(val)
				v.lat.noTracking = !on
				return err
			}},
		{name: "latency-tracking-info-percentiles", get: func(_ *Server, v *confValues) string { return v.lat.percentiles },
			set: func(_ *Server, v *confValues, val string) error {
				ps, err := parsePercentiles(val)
				if err == nil {
					v.lat.percentiles = formatPercentiles(ps)
				}
				return err
			}},
	}
}

// parsePercentiles parses latency-tracking-info-percentiles as Redis
// does: space-separated doubles within [0, 100]; "" is none.
func parsePercentiles(val string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Fields(val) {
		p, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(p) || strings.ContainsAny(f, "xXpP_") {
			return nil, errors.New("Invalid latency-tracking-info-percentiles parameters")
		}
		if p > 100 || p < 0 {
			return nil, errors.New("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
		}
		out = append(out, p)
	}
	return out, nil
}

func formatPercentiles(ps []float64) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = commands.FormatPercentile(p)
	}
	return strings.Join(s, " ")
}

// publishLatency hands the settings to the records.
func (s *Server) publishLatency(v *latencyValues) {
	slow := s.table.SlowLog()
	slow.Configure(v.slowerThan, v.slowMaxLen)
	slow.Trim()
	s.table.LatencyMonitor().SetThreshold(v.threshold)
	ps, _ := parsePercentiles(v.percentiles)
	s.table.SetLatencyTracking(!v.noTracking, ps)
}

// doctorFacts are LATENCY DOCTOR's facts about this node. LoomCache has
// no hz setting: its expiry runs at Redis's default 10 times a second.
func (s *Server) doctorFacts() latency.DoctorFacts {
	return latency.DoctorFacts{FsyncAlways: s.cfg.Fsync, Hz: 10, AnonHugePages: anonHugePages()}
}

// anonHugePages reports whether the process has transparent huge pages
// (Redis's THPGetAnonHugePagesSize).
func anonHugePages() bool {
	data, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return false
	}
	_, rest, ok := bytes.Cut(data, []byte("AnonHugePages:"))
	if !ok {
		return false
	}
	f := bytes.Fields(rest)
	return len(f) > 0 && string(f[0]) != "0"
}

// infoLatencyStats is INFO latencystats.
func (s *Server) infoLatencyStats(b []byte) []byte { return s.table.AppendLatencyStats(b) }

// latencySample records event, begun at start, in the latency monitor if
// it took latency-monitor-threshold or longer. Events of our own, named
// as Redis names its equivalents: expire-cycle (the leader's active
// expiry, its proposals included), eviction-cycle and eviction-del (the
// leader's eviction, and its victims' deletion through Raft),
// aof-fsync-always (an fsync of the Raft log under --fsync always).
func (s *Server) latencySample(event string, start time.Time) {
	now := time.Now()
	s.table.LatencyMonitor().AddIfNeeded(event, int64(now.Sub(start)/time.Millisecond), now.Unix())
}
