package server_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// fieldNames lists the "name:value" fields of an INFO section's text.
func fieldNames(info string) []string {
	var names []string
	for _, line := range strings.Split(info, "\r\n") {
		if name, _, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			names = append(names, name)
		}
	}
	return names
}

// TestInfoStatsAndCPUFieldsAsRedis: INFO stats and INFO cpu have Redis
// 7.0's fields, in its order.
func TestInfoStatsAndCPUFieldsAsRedis(t *testing.T) {
	redis := nodetest.StartRedis(t)
	n := nodetest.Start(t, server.Config{})
	rc, lc := dialRaw(t, redis.Addr), dialRaw(t, n.Addr().String())
	for _, section := range []string{"stats", "cpu"} {
		want, got := fieldNames(rc.str("INFO", section)), fieldNames(lc.str("INFO", section))
		if !slices.Equal(got, want) {
			t.Errorf("INFO %s fields:\n got %v\nwant %v", section, got, want)
		}
	}
}

// TestInfoStatsCounts: keyspace hits and misses count the lookups of
// keys read, as Redis's lookupKeyRead; the socket counters move; CONFIG
// RESETSTAT zeroes them.
func TestInfoStatsCounts(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	c := dialRaw(t, n.Addr().String())
	c.do("SET", "a", "1")
	c.do("GET", "a")
	c.do("GET", "nosuch")
	c.do("MGET", "a", "b", "c")
	info := c.str("INFO", "stats")
	for name, want := range map[string]string{"keyspace_hits": "2", "keyspace_misses": "3"} {
		if got := infoField(info, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, name := range []string{"total_net_input_bytes", "total_net_output_bytes", "total_reads_processed", "total_writes_processed"} {
		if v := infoField(info, name); v == "0" || v == "" {
			t.Errorf("%s = %q", name, v)
		}
	}
	c.do("CONFIG", "RESETSTAT")
	info = c.str("INFO", "stats")
	if infoField(info, "keyspace_hits") != "0" || infoField(info, "keyspace_misses") != "0" {
		t.Errorf("after RESETSTAT: hits %s misses %s", infoField(info, "keyspace_hits"), infoField(info, "keyspace_misses"))
	}
}
