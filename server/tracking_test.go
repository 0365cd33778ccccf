package server_test

import (
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// CLIENT TRACKING, byte for byte as Redis: RESP3 invalidation pushes
// (after the reply of the command that caused them, inside a transaction
// too), the null invalidation of FLUSHDB and FLUSHALL, RESP2 redirection
// to a subscriber of __redis__:invalidate, a broken redirection, BCAST
// with prefixes, OPTIN and OPTOUT with CLIENT CACHING, the option errors,
// CLIENT GETREDIR, CLIENT TRACKINGINFO in both protocols, CLIENT LIST's
// flags and redir, RESET and tracking-table-max-keys.
func TestTrackingAsRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	const (
		tr     = 0 // RESP3 tracking client
		wr     = 1 // writer
		sub    = 2 // RESP2 subscriber of __redis__:invalidate
		tr2    = 3 // RESP2 client redirecting to sub
		tr3    = 4 // RESP3 client redirecting to gone
		gone   = 5
		bc     = 6 // RESP3 BCAST client
		optin  = 7
		optout = 8
	)
	steps := []psStep{
		{wr, []string{"FLUSHALL"}, 1},
		{tr, []string{"CLIENT", "TRACKINGINFO"}, 1},
		{tr, []string{"CLIENT", "GETREDIR"}, 1},
		{tr, []string{"HELLO", "3"}, 1},
		{tr, []string{"CLIENT", "TRACKING", "ON"}, 1},
		{tr, []string{"CLIENT", "TRACKINGINFO"}, 1},
		{tr, []string{"CLIENT", "GETREDIR"}, 1},
		{tr, []string{"CLIENT", "INFO"}, 1},
		{tr, []string{"GET", "k"}, 1},
		{wr, []string{"SET", "k", "1"}, 1},
		{tr, nil, 1},
		{wr, []string{"SET", "k", "2"}, 1}, // not read since: no invalidation
		{tr, []string{"MGET", "k", "j"}, 1},
		{wr, []string{"MSET", "k", "3", "j", "4"}, 1},
		{tr, nil, 2},
		// The tracking client's own write: its reply, then the push.
		{tr, []string{"HSET", "h", "f", "v"}, 1},
		{tr, []string{"HGET", "h", "f"}, 1},
		{tr, []string{"HDEL", "h", "f"}, 2},
		{tr, []string{"GET", "k"}, 1},
		{tr, []string{"MULTI"}, 1},
		{tr, []string{"GET", "k"}, 1},
		{tr, []string{"SET", "k", "5"}, 1},
		{tr, []string{"EXEC"}, 2},
		{tr, []string{"GET", "k"}, 1},
		// A script that reads: its declared keys are tracked.
		{tr, []string{"EVAL", "return redis.call('get', KEYS[1])", "1", "sk"}, 1},
		{wr, []string{"SET", "sk", "1"}, 1},
		{tr, nil, 1},
		{wr, []string{"FLUSHDB"}, 1},
		{tr, nil, 1},
		{tr, []string{"FLUSHALL"}, 2},
		// Option errors.
		{tr, []string{"CLIENT", "TRACKING", "ON", "PREFIX", "x"}, 1},
		{tr, []string{"CLIENT", "TRACKING", "ON", "BCAST"}, 1},
		{tr, []string{"CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"}, 1},
		{tr, []string{"CLIENT", "TRACKING", "ON", "REDIRECT", "999999"}, 1},
		{tr, []string{"CLIENT", "TRACKING", "ON", "REDIRECT", "x"}, 1},
		{tr, []string{"CLIENT", "TRACKING", "ON", "REDIRECT", "{id:1}", "REDIRECT", "{id:2}"}, 1},
		{tr, []string{"CLIENT", "TRACKING", "ON", "BOGUS"}, 1},
		{tr, []string{"CLIENT", "TRACKING", "MAYBE"}, 1},
		{tr, []string{"CLIENT", "TRACKING", "ON", "OPTIN"}, 1},
		{tr, []string{"CLIENT", "CACHING", "YES"}, 1},
		{tr, []string{"CLIENT", "CACHING", "MAYBE"}, 1},
		{tr, []string{"CLIENT", "TRACKING", "OFF"}, 1},
		{tr, []string{"CLIENT", "CACHING", "YES"}, 1},
		{tr, []string{"CLIENT", "TRACKINGINFO"}, 1},
		// RESP2 redirection.
		{sub, []string{"SUBSCRIBE", "__redis__:invalidate"}, 1},
		{tr2, []string{"CLIENT", "TRACKING", "ON", "REDIRECT", "{id:2}"}, 1},
		{tr2, []string{"CLIENT", "GETREDIR"}, 1},
		{tr2, []string{"CLIENT", "TRACKINGINFO"}, 1},
		{tr2, []string{"GET", "rk"}, 1},
		{wr, []string{"SET", "rk", "1"}, 1},
		{sub, nil, 1},
		{wr, []string{"FLUSHALL"}, 1},
		{sub, nil, 1},
		// A redirection to a connection that is gone.
		{tr3, []string{"HELLO", "3"}, 1},
		{tr3, []string{"CLIENT", "TRACKING", "ON", "REDIRECT", "{id:5}"}, 1},
		{tr3, []string{"GET", "bk"}, 1},
		{gone, []string{"QUIT"}, 1},
		{wr, []string{"PING"}, 1},
		{wr, []string{"SET", "bk", "1"}, 1},
		{tr3, nil, 1},
		{tr3, []string{"CLIENT", "TRACKINGINFO"}, 1},
		{tr3, []string{"RESET"}, 1},
		{tr3, []string{"CLIENT", "TRACKINGINFO"}, 1},
		// BCAST.
		{bc, []string{"HELLO", "3"}, 1},
		{bc, []string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:", "PREFIX", "a"}, 1},
		{bc, []string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab"}, 1},
		{bc, []string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x", "PREFIX", "xy"}, 1},
		{bc, []string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "q:"}, 1},
		{bc, []string{"CLIENT", "TRACKINGINFO"}, 1},
		{bc, []string{"CLIENT", "TRACKING", "ON"}, 1},
		{bc, []string{"CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"}, 1},
		{wr, []string{"SET", "p:1", "v"}, 1},
		{wr, []string{"SET", "z", "v"}, 1},
		{wr, []string{"DEL", "q:2"}, 1},
		{wr, []string{"SET", "q:2", "v"}, 1},
		{bc, nil, 2},
		{wr, []string{"MSET", "q:b", "1", "q:a", "2", "p:x", "3", "q:b", "4"}, 1}, // one push per prefix
		{bc, nil, 2},
		{bc, []string{"CLIENT", "TRACKING", "OFF"}, 1},
		// OPTIN: only reads after CLIENT CACHING YES are tracked.
		{optin, []string{"HELLO", "3"}, 1},
		{optin, []string{"CLIENT", "TRACKING", "ON", "OPTIN"}, 1},
		{optin, []string{"GET", "o1"}, 1},
		{optin, []string{"CLIENT", "CACHING", "NO"}, 1},
		{optin, []string{"CLIENT", "CACHING", "YES"}, 1},
		{optin, []string{"CLIENT", "TRACKINGINFO"}, 1},
		{optin, []string{"GET", "o2"}, 1},
		{optin, []string{"GET", "o3"}, 1}, // CACHING YES was for one command
		{optin, []string{"CLIENT", "TRACKING", "ON", "OPTOUT"}, 1},
		{wr, []string{"MSET", "o1", "1", "o2", "2", "o3", "3"}, 1},
		{optin, nil, 1},
		// OPTOUT: every read but those after CLIENT CACHING NO.
		{optout, []string{"HELLO", "3"}, 1},
		{optout, []string{"CLIENT", "TRACKING", "ON", "OPTOUT", "NOLOOP"}, 1},
		{optout, []string{"CLIENT", "CACHING", "NO"}, 1},
		{optout, []string{"CLIENT", "TRACKINGINFO"}, 1},
		{optout, []string{"GET", "o1"}, 1},
		{optout, []string{"GET", "o2"}, 1},
		{wr, []string{"MSET", "o1", "1", "o2", "2"}, 1},
		{optout, nil, 1},
		{optout, []string{"CLIENT", "TRACKINGINFO"}, 1},
		// tracking-table-max-keys: a key evicted from the table is
		// invalidated.
		{wr, []string{"CONFIG", "GET", "tracking-table-max-keys"}, 1},
		{wr, []string{"CONFIG", "SET", "tracking-table-max-keys", "-1"}, 1},
		{wr, []string{"FLUSHALL"}, 1},
		{optout, nil, 1},
		{wr, []string{"CONFIG", "SET", "tracking-table-max-keys", "1"}, 1},
		{optout, []string{"GET", "m1"}, 1},
		{optout, []string{"GET", "m2"}, 2},
		{wr, []string{"CONFIG", "SET", "tracking-table-max-keys", "1000000"}, 1},
	}
	// Which key tracking-table-max-keys evicts is Redis's random choice.
	comparePubSubScript(t, node.Addr().String(), redis.Addr, 9, steps, `\$2\r\nm\d\r\n`)
}
