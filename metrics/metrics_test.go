package metrics

import (
	"math"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/persistence"
	"github.com/loomcache/loomcache/raftfsm"
)

type fakeSource struct {
	r     Redis
	parts []Partition
}

func (f fakeSource) Redis() Redis            { return f.r }
func (f fakeSource) Partitions() []Partition { return f.parts }

// TestCollectors: a scrape turns the source's figures into the metrics
// with their names, types, labels and units.
func TestCollectors(t *testing.T) {
	h := persistence.NewHistogram([]uint64{1_000_000, 2_000_000}) // 1ms, 2ms
	h.Observe(500_000)
	h.Observe(1_500_000)
	h.Observe(9_000_000)
	src := fakeSource{
		r: Redis{KeyspaceHits: 7, Commands: []commands.CommandStat{{Name: "config|get", Calls: 3, Usec: 1500000}},
			Errors: map[string]int64{"WRONGTYPE": 2}, DBs: []DBKeys{{DB: 3, Keys: 5, Expires: 1}}},
		parts: []Partition{{ID: 2, Stats: raftfsm.Stats{State: "Follower", CommitIndex: 42},
			Metrics: raftfsm.Metrics{SyncLatency: h.Snapshot(), Followers: []raftfsm.FollowerLag{{ID: "n2", MatchIndex: 40, Lag: 2}}}}},
	}
	fams, err := NewRegistry(src).Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	one := func(name string, typ dto.MetricType, labels map[string]string) *dto.Metric {
		t.Helper()
		f := byName[name]
		if f == nil || f.GetType() != typ {
			t.Fatalf("%s: family %v", name, f)
		}
	next:
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue next
				}
			}
			if len(m.GetLabel()) == len(labels) {
				return m
			}
		}
		t.Fatalf("%s: no sample labelled %v", name, labels)
		return nil
	}
	if v := one("redis_keyspace_hits_total", dto.MetricType_COUNTER, nil).GetCounter().GetValue(); v != 7 {
		t.Errorf("hits %v", v)
	}
	if v := one("redis_commands_duration_seconds_total", dto.MetricType_COUNTER, map[string]string{"cmd": "config|get"}).GetCounter().GetValue(); v != 1.5 {
		t.Errorf("duration %v", v)
	}
	if v := one("redis_errors_total", dto.MetricType_COUNTER, map[string]string{"err": "WRONGTYPE"}).GetCounter().GetValue(); v != 2 {
		t.Errorf("errors %v", v)
	}
	if v := one("redis_db_keys_expiring", dto.MetricType_GAUGE, map[string]string{"db": "db3"}).GetGauge().GetValue(); v != 1 {
		t.Errorf("expiring %v", v)
	}
	p := map[string]string{"partition": "2"}
	if v := one("loomcache_raft_commit_index", dto.MetricType_GAUGE, p).GetGauge().GetValue(); v != 42 {
		t.Errorf("commit index %v", v)
	}
	if v := one("loomcache_raft_leader", dto.MetricType_GAUGE, p).GetGauge().GetValue(); v != 0 {
		t.Errorf("leader %v", v)
	}
	if v := one("loomcache_raft_state", dto.MetricType_GAUGE, map[string]string{"partition": "2", "state": "follower"}).GetGauge().GetValue(); v != 1 {
		t.Errorf("state follower %v", v)
	}
	if v := one("loomcache_raft_follower_lag_entries", dto.MetricType_GAUGE, map[string]string{"partition": "2", "follower": "n2"}).GetGauge().GetValue(); v != 2 {
		t.Errorf("lag %v", v)
	}
	hist := one("loomcache_wal_fsync_duration_seconds", dto.MetricType_HISTOGRAM, p).GetHistogram()
	if hist.GetSampleCount() != 3 || math.Abs(hist.GetSampleSum()-0.011) > 1e-12 {
		t.Errorf("fsync histogram count %d sum %v", hist.GetSampleCount(), hist.GetSampleSum())
	}
	want := map[float64]uint64{0.001: 1, 0.002: 2}
	for _, b := range hist.GetBucket() {
		if want[b.GetUpperBound()] != b.GetCumulativeCount() {
			t.Errorf("bucket le=%v: %d", b.GetUpperBound(), b.GetCumulativeCount())
		}
	}
}
