package commands

import (
	"fmt"
	"strings"
)

// memoryDoctor is MEMORY DOCTOR's report on m, by the rules and in the
// words of Redis 7.0's getMemoryDoctorReport: an instance using less
// than 5MB is too empty to judge; otherwise each condition found adds
// its paragraph.
func memoryDoctor(m MemoryStats) string {
	const mb = 1 << 20
	if m.TotalAllocated < 5*mb {
		return "Hi Sam, this instance is empty or is using very little memory, " +
			"my issues detector can't be used in these conditions. " +
			"Please, leave for your mission on Earth and fill it with some data. " +
			"The new Sam and I will be back to our programming as soon as I " +
			"finished rebooting.\n"
	}
	// Each condition Redis checks, in the order it reports them.
	checks := [...]struct {
		found bool
		text  string
	}{
		// The peak is over 150% of the memory used now.
		{float32(m.PeakAllocated)/float32(m.TotalAllocated) > 1.5, doctorBigPeak},
		// RSS over 1.4 times the memory used, by 10MB or more.
		{m.TotalFrag > 1.4 && m.TotalFragBytes > 10*mb, fmt.Sprintf(doctorHighFrag, m.Allocator)},
		{m.AllocatorFrag > 1.1 && m.AllocatorFragBytes > 10*mb, doctorAllocFrag},
		{m.AllocatorRSS > 1.1 && m.AllocatorRSSBytes > 10*mb, doctorAllocRSS},
		{m.RSSExtra > 1.1 && m.RSSExtraBytes > 10*mb, doctorProcRSS},
		// Replicas holding over 10MB of buffers (LoomCache has none).
		{m.ClientsSlaves > 10*mb, doctorSlaveBuf},
		// Clients holding over 200K each, on average.
		{m.Clients > 0 && m.ClientsNormal/int64(m.Clients) > 200*1024, doctorClientBuf},
		{m.Scripts > 1000, doctorManyScripts},
	}
	var found []string
	for _, c := range checks {
		if c.found {
			found = append(found, c.text)
		}
	}
	if len(found) == 0 {
		return "Hi Sam, I can't find any memory issue in your instance. " +
			"I can only account for what occurs on this base.\n"
	}
	var b strings.Builder
	b.WriteString("Sam, I detected a few issues in this Redis instance memory implants:\n\n")
	for _, p := range found {
		b.WriteString(" * ")
		b.WriteString(p)
		b.WriteString("\n\n")
	}
	b.WriteString("I'm here to keep you safe, Sam. I want to help you.\n")
	return b.String()
}

// Redis 7.0's paragraphs, word for word (doctorHighFrag's %s is the
// allocator's name).
const (
	doctorBigPeak     = "Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance."
	doctorHighFrag    = "High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"%s\"."
	doctorAllocFrag   = "High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option."
	doctorAllocRSS    = "High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it."
	doctorProcRSS     = "High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules."
	doctorSlaveBuf    = "Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). This likely means that there is some replica instance that is struggling receiving data, either because it is too slow or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and the CLIENT LIST command to check the output buffers of each replica."
	doctorClientBuf   = "Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory."
	doctorManyScripts = "Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory."
)
