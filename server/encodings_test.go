package server_test

import (
	"strings"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/server"
)

// encodingNames are the encoding directives and their aliases.
var encodingNames = []string{
	"hash-max-listpack-entries", "hash-max-ziplist-entries", "hash-max-listpack-value", "hash-max-ziplist-value",
	"list-max-listpack-size", "list-max-ziplist-size", "list-compress-depth", "set-max-intset-entries",
	"zset-max-listpack-entries", "zset-max-ziplist-entries", "zset-max-listpack-value", "zset-max-ziplist-value",
	"hll-sparse-max-bytes", "stream-node-max-bytes", "stream-node-max-entries", "activerehashing",
}

// The encoding directives at startup, under either name, with memory
// units, repeated (the last wins), and with the directives Redis ignores,
// end as in redis-server given the same command line, and reach the
// limits the keyspace reads.
func TestEncodingDirectivesAtStartup(t *testing.T) {
	directives := [][2]string{
		{"hash-max-ziplist-entries", "64"},
		{"hash-max-listpack-entries", "65"},
		{"hash-max-ziplist-value", "1kb"},
		{"list-max-ziplist-size", "-3"},
		{"list-max-ziplist-entries", "512"}, // ignored, as by Redis 7.0
		{"list-max-ziplist-value", "64"},
		{"list-compress-depth", "2"},
		{"set-max-intset-entries", "1000"},
		{"zset-max-listpack-entries", "7"},
		{"zset-max-ziplist-entries", "8"},
		{"zset-max-listpack-value", "2k"},
		{"hll-sparse-max-bytes", "5000"},
		{"stream-node-max-bytes", "8kb"},
		{"stream-node-max-entries", "0"},
		{"activerehashing", "no"},
	}
	node := sameAtStartup(t, directives, encodingNames)
	want := keyspace.EncodingLimits{
		HashMaxListpackEntries: 65, HashMaxListpackValue: 1024, SetMaxIntsetEntries: 1000,
		ZsetMaxListpackEntries: 8, ZsetMaxListpackValue: 2000, ListMaxListpackSize: -3, ListCompressDepth: 2,
		StreamNodeMaxBytes: 8192, StreamNodeMaxEntries: 0, HllSparseMaxBytes: 5000,
	}
	if got := node.EncodingLimits(); got != want {
		t.Errorf("limits:\n %+v\nwant\n %+v", got, want)
	}
}

// What CONFIG SET changes is what the keyspace reads next; a CONFIG SET
// refused changes nothing.
func TestEncodingLimitsFollowConfigSet(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	if got := node.EncodingLimits(); got != keyspace.DefaultEncodingLimits() {
		t.Fatalf("limits at start: %+v", got)
	}
	c := dialReplies(t, node.Addr().String())
	if r := c.raw("CONFIG", "SET", "hash-max-ziplist-entries", "3", "zset-max-listpack-value", "1kb",
		"stream-node-max-entries", "7"); r != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q", r)
	}
	want := keyspace.DefaultEncodingLimits()
	want.HashMaxListpackEntries, want.ZsetMaxListpackValue, want.StreamNodeMaxEntries = 3, 1024, 7
	if got := node.EncodingLimits(); got != want {
		t.Fatalf("limits:\n %+v\nwant\n %+v", got, want)
	}
	if r := c.raw("CONFIG", "SET", "list-compress-depth", "4", "set-max-intset-entries", "-1"); !strings.HasPrefix(r, "-ERR") {
		t.Fatalf("bad CONFIG SET: %q", r)
	}
	if got := node.EncodingLimits(); got != want {
		t.Fatalf("limits after a refused CONFIG SET:\n %+v\nwant\n %+v", got, want)
	}
}

func TestBadEncodingDirectivesAtStartup(t *testing.T) {
	refusedAtStartup(t, [][2]string{
		{"hash-max-listpack-entries", "-1"},
		{"hash-max-ziplist-entries", "1k"},
		{"hash-max-listpack-value", "1.5kb"},
		{"list-max-listpack-size", "2147483648"},
		{"list-compress-depth", "-1"},
		{"stream-node-max-entries", "x"},
		{"activerehashing", "maybe"},
	})
}
