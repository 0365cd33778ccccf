package latency

import (
	"fmt"
	"math"
	"strings"
)

// DoctorFacts are what LATENCY DOCTOR's advice depends on besides the
// events: settings and the process's state.
type DoctorFacts struct {
	SlowerThanUsec int64 // slowlog-log-slower-than
	FsyncAlways    bool  // every write fsync'd before it is acknowledged
	Hz             int64
	AnonHugePages  bool // transparent huge pages in use
}

// The advice LATENCY DOCTOR may give, in the order Redis gives it.
const (
	adviseSlowlogEnabled = iota
	adviseSlowlogTuning
	adviseSlowlogInspect
	adviseScheduler
	adviseLocalDisk
	adviseSSD
	adviseDataWriteback
	adviseDiskContention
	adviseRelaxFsync
	adviseHz
	adviseLargeObjects
	adviseMassEviction
	adviseDisableTHP
	adviceKinds
)

// Doctor is LATENCY DOCTOR's report, Redis 7.0's createLatencyReport
// word for word, for the events this node records (it never forks nor
// rewrites an AOF, so the advice about those never comes).
func (m *Monitor) Doctor(f DoctorFacts, now int64) string {
	names, all := m.snapshot()
	threshold := m.threshold.Load()
	if len(names) == 0 && threshold == 0 {
		return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
	}
	var b strings.Builder
	var advise [adviceKinds]bool
	advices := 0
	give := func(kinds ...int) {
		for _, k := range kinds {
			advise[k] = true
			advices++
		}
	}
	for i, ev := range names {
		if i == 0 {
			b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		}
		st := all[i].analyze(now)
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). Worst all time event %dms.",
			i+1, ev, st.samples, st.avg, st.mad, float64(st.period)/float64(st.samples), all[i].max)
		switch strings.ToLower(ev) {
		case "command":
			if f.SlowerThanUsec < 0 {
				give(adviseSlowlogEnabled)
			} else if f.SlowerThanUsec/1000 > threshold {
				give(adviseSlowlogTuning)
			}
			give(adviseSlowlogInspect, adviseLargeObjects)
		case "fast-command":
			give(adviseScheduler)
		case "aof-fsync-always":
			give(adviseRelaxFsync)
		case "aof-fstat", "rdb-unlink-temp-file":
			give(adviseDiskContention, adviseLocalDisk)
		case "expire-cycle":
			give(adviseHz, adviseLargeObjects)
		case "eviction-del":
			give(adviseLargeObjects)
		case "eviction-cycle":
			give(adviseMassEviction)
		}
		b.WriteByte('\n')
	}
	if f.AnonHugePages {
		give(adviseDisableTHP)
	}
	switch {
	case len(names) == 0 && advices == 0:
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
	case len(names) > 0 && advices == 0:
		b.WriteString("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n")
	default:
		b.WriteString("\nI have a few advices for you:\n\n")
		writeAdvice(&b, &advise, f, threshold)
	}
	return b.String()
}

func writeAdvice(b *strings.Builder, advise *[adviceKinds]bool, f DoctorFacts, threshold int64) {
	if advise[adviseSlowlogEnabled] {
		fmt.Fprintf(b, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %d'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n", threshold*1000)
	}
	if advise[adviseSlowlogTuning] {
		fmt.Fprintf(b, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %d'.\n", threshold*1000)
	}
	if advise[adviseSlowlogInspect] {
		b.WriteString("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n")
	}
	if advise[adviseScheduler] {
		b.WriteString("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
			"  1) Lower the system load.\n" +
			"  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
			"  3) Check if you have a \"noisy neighbour\" problem.\n" +
			"  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
			"  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n")
	}
	if advise[adviseLocalDisk] {
		b.WriteString("- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n")
	}
	if advise[adviseSSD] {
		b.WriteString("- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n")
	}
	if advise[adviseDataWriteback] {
		b.WriteString("- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n")
	}
	if advise[adviseDiskContention] {
		b.WriteString("- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n")
	}
	if advise[adviseRelaxFsync] && f.FsyncAlways {
		b.WriteString("- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n")
	}
	if advise[adviseHz] && f.Hz < 100 {
		b.WriteString("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n")
	}
	if advise[adviseLargeObjects] {
		b.WriteString("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n")
	}
	if advise[adviseMassEviction] {
		b.WriteString("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n")
	}
	if advise[adviseDisableTHP] {
		b.WriteString("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n")
	}
}

// graphCols is Redis's LATENCY_GRAPH_COLS.
const graphCols = 80

// Graph is LATENCY GRAPH's sparkline of event (latencyCommandGenSparkeline),
// and false when there is no such event.
func (m *Monitor) Graph(event string, now int64) (string, bool) {
	m.mu.Lock()
	ts := m.events[event]
	var samples []Sample
	var allTime int64
	if ts != nil {
		samples, allTime = ts.history(), ts.max
	}
	m.mu.Unlock()
	if ts == nil {
		return "", false
	}
	var seq sparkSeq
	var lo, hi int64
	for i, s := range samples {
		if i == 0 {
			lo, hi = s.Latency, s.Latency
		} else {
			lo, hi = min(lo, s.Latency), max(hi, s.Latency)
		}
		elapsed := now - s.Time
		var label string
		switch {
		case elapsed < 60:
			label = fmt.Sprintf("%ds", elapsed)
		case elapsed < 3600:
			label = fmt.Sprintf("%dm", elapsed/60)
		case elapsed < 3600*24:
			label = fmt.Sprintf("%dh", elapsed/3600)
		default:
			label = fmt.Sprintf("%dd", elapsed/(3600*24))
		}
		seq.add(float64(s.Latency), label)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", event, hi, lo, allTime)
	b.WriteString(strings.Repeat("-", graphCols))
	b.WriteByte('\n')
	seq.render(&b, graphCols, 4)
	return b.String(), true
}

// sparkSeq is Redis's sparkline sequence (sparkline.c), rendered with
// SPARKLINE_FILL.
type sparkSeq struct {
	values   []float64
	labels   []string
	min, max float64
	nlabels  int
}

func (s *sparkSeq) add(v float64, label string) {
	if len(s.values) == 0 {
		s.min, s.max = v, v
	} else if v < s.min {
		s.min = v
	} else if v > s.max {
		s.max = v
	}
	s.values = append(s.values, v)
	s.labels = append(s.labels, label)
	if label != "" {
		s.nlabels++
	}
}

func (s *sparkSeq) render(b *strings.Builder, columns, rows int) {
	for j := 0; j < len(s.values); j += columns {
		if j != 0 {
			b.WriteByte('\n')
		}
		s.renderRange(b, rows, j, min(len(s.values)-j, columns))
	}
}

func (s *sparkSeq) renderRange(b *strings.Builder, rows, offset, n int) {
	const fill = "_o#"
	const labelMarginTop = 1
	relmax := s.max - s.min
	if relmax == 0 {
		relmax = 1
	}
	steps := len(fill) * rows
	chars := make([]byte, n)
	for row := 0; ; row++ {
		loop := false
		for j := range chars {
			chars[j] = ' '
		}
		for j := 0; j < n; j++ {
			v, label := s.values[j+offset], s.labels[j+offset]
			// C's (int)(relval*steps)/relmax, truncated into an int.
			step := int(float64(int(math.Trunc((v-s.min)*float64(steps)))) / relmax)
			step = min(max(step, 0), steps-1)
			if row < rows {
				loop = true
				if c := step - (rows-row-1)*len(fill); c >= 0 && c < len(fill) {
					chars[j] = fill[c]
				} else if c >= len(fill) {
					chars[j] = '|'
				}
				continue
			}
			if s.nlabels > 0 && row-rows < labelMarginTop {
				loop = true
				break
			}
			if lc := row - rows - labelMarginTop; len(label) > lc {
				loop = true
				chars[j] = label[lc]
			}
		}
		if !loop {
			return
		}
		b.Write(chars)
		b.WriteByte('\n')
	}
}
