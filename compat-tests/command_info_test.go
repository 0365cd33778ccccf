package compattests

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestCommandInfo asks redis-server and LoomCache for COMMAND INFO and
// COMMAND DOCS of every command and subcommand in LoomCache's table and
// compares the replies byte for byte, over RESP2 and RESP3. Two parts are
// left out, each logged rather than compared: subcommands LoomCache does
// not have (a container's list is compared through the ones it has), and
// DOCS "arguments", which the table does not describe.
func TestCommandInfo(t *testing.T) {
	redis := nodetest.StartRedis(t)
	loom := nodetest.Start(t, server.Config{})
	var names []string
	for _, c := range commands.NewTable().Commands() {
		names = append(names, c.Name)
		for _, s := range c.Subs {
			names = append(names, s.Name)
		}
	}
	for _, proto := range []int{2, 3} {
		rc, err := dial(redis.Addr, proto)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.close()
		lc, err := dial(loom.Addr().String(), proto)
		if err != nil {
			t.Fatal(err)
		}
		defer lc.close()
		ask := func(args ...string) (want, got Reply) {
			t.Helper()
			var a [][]byte
			for _, s := range args {
				a = append(a, []byte(s))
			}
			want, err := rc.do(a)
			if err != nil {
				t.Fatalf("redis %v: %v", args, err)
			}
			got, err = lc.do(a)
			if err != nil {
				t.Fatalf("loomcache %v: %v", args, err)
			}
			return want, got
		}
		for _, name := range names {
			t.Run(fmt.Sprintf("resp%d/info/%s", proto, name), func(t *testing.T) {
				want, got := ask("COMMAND", "INFO", name)
				w, g := only(t, want), only(t, got)
				if w.Type != '*' || len(w.Elems) != 10 {
					t.Fatalf("redis-server has no command %s: %q", name, w.Raw)
				}
				if g.Type != '*' || len(g.Elems) != 10 {
					t.Fatalf("loomcache: %q", g.Raw)
				}
				// Elements 0-8 compare whole; 9 is the subcommands.
				if wb, gb := concat(w.Elems[:9]), concat(g.Elems[:9]); !bytes.Equal(wb, gb) {
					t.Errorf("COMMAND INFO %s\nredis:     %s\nloomcache: %s", name, quote(wb), quote(gb))
				}
				ws, gs := w.Elems[9], g.Elems[9]
				if len(gs.Elems) == len(ws.Elems) && len(ws.Elems) == 0 {
					if !bytes.Equal(ws.Raw, gs.Raw) {
						t.Errorf("COMMAND INFO %s subcommands: redis %q, loomcache %q", name, ws.Raw, gs.Raw)
					}
					return
				}
				have := make(map[string]bool)
				for _, s := range gs.Elems {
					have[string(bulk(s.Elems[0]))] = true
				}
				var missing []string
				for _, s := range ws.Elems {
					if n := string(bulk(s.Elems[0])); !have[n] {
						missing = append(missing, n)
					}
				}
				if len(missing) > 0 {
					t.Logf("%s: subcommands LoomCache does not have: %v", name, missing)
				}
				if len(gs.Elems)+len(missing) != len(ws.Elems) {
					t.Errorf("%s: loomcache has subcommands redis-server does not: %q", name, gs.Raw)
				}
			})
			t.Run(fmt.Sprintf("resp%d/docs/%s", proto, name), func(t *testing.T) {
				want, got := ask("COMMAND", "DOCS", name)
				if len(want.Elems) != 2 || len(got.Elems) != 2 {
					t.Fatalf("COMMAND DOCS %s\nredis:     %s\nloomcache: %s", name, quote(want.Raw), quote(got.Raw))
				}
				wd, wdrop := withoutKeys(want.Elems[1], "arguments", "subcommands")
				gd, _ := withoutKeys(got.Elems[1], "arguments", "subcommands")
				if !bytes.Equal(wd, gd) {
					t.Errorf("COMMAND DOCS %s (arguments and subcommands left out)\nredis:     %s\nloomcache: %s",
						name, quote(wd), quote(gd))
				}
				if wdrop["arguments"] {
					t.Logf("%s: DOCS arguments not compared", name)
				}
			})
		}
	}
}

// only returns the single element of a one-element array reply.
func only(t *testing.T, r Reply) Reply {
	t.Helper()
	if r.Type != '*' || len(r.Elems) != 1 {
		t.Fatalf("want a one-element array, got %q", r.Raw)
	}
	return r.Elems[0]
}

func concat(rs []Reply) []byte {
	var b []byte
	for _, r := range rs {
		b = append(b, r.Raw...)
	}
	return b
}

// bulk returns a bulk or simple string's text.
func bulk(r Reply) []byte {
	if r.Type == '$' {
		if i := bytes.Index(r.Raw, []byte("\r\n")); i >= 0 {
			return bytes.TrimSuffix(r.Raw[i+2:], []byte("\r\n"))
		}
	}
	return r.Header[1:]
}

// withoutKeys re-encodes a map reply (a flat array in RESP2) without the
// given keys, and says which of them it dropped.
func withoutKeys(m Reply, keys ...string) ([]byte, map[string]bool) {
	drop := make(map[string]bool)
	var body []byte
	n := 0
	for i := 0; i+1 < len(m.Elems); i += 2 {
		k := string(bulk(m.Elems[i]))
		skip := false
		for _, d := range keys {
			if k == d {
				skip, drop[d] = true, true
			}
		}
		if skip {
			continue
		}
		body = append(body, m.Elems[i].Raw...)
		body = append(body, m.Elems[i+1].Raw...)
		n++
	}
	count := n
	if m.Type == '*' {
		count = 2 * n
	}
	out := append([]byte{m.Type}, strconv.Itoa(count)...)
	out = append(out, "\r\n"...)
	return append(out, body...), drop
}
