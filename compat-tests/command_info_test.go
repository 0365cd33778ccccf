package compattests

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"testing"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestCommandInfo asks redis-server and LoomCache for COMMAND INFO and
// COMMAND DOCS of every command and subcommand in LoomCache's table and
// compares the replies byte for byte, over RESP2 and RESP3, "arguments"
// included. A container's subcommands are compared by name, each entry
// whole, because Redis lists them in its dict's (random) order; the ones
// LoomCache does not have are logged, and then only the list's type (not
// its length) can be compared.
func TestCommandInfo(t *testing.T) {
	redis := nodetest.StartRedis(t)
	loom := nodetest.Start(t, server.Config{})
	var names []string
	for _, c := range commands.NewTable().Commands() {
		if commands.LoomOnly(c) || commands.AfterReference(c) {
			continue // the reference Redis has nothing to compare with
		}
		names = append(names, c.Name)
		for _, s := range c.Subs {
			names = append(names, s.Name)
		}
	}
	t.Logf("comparing COMMAND INFO and DOCS of %d commands and subcommands", len(names))
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
				compareSubs(t, "COMMAND INFO "+name, w.Elems[9], g.Elems[9], infoEntries)
			})
			t.Run(fmt.Sprintf("resp%d/docs/%s", proto, name), func(t *testing.T) {
				want, got := ask("COMMAND", "DOCS", name)
				if len(want.Elems) != 2 || len(got.Elems) != 2 {
					t.Fatalf("COMMAND DOCS %s\nredis:     %s\nloomcache: %s", name, quote(want.Raw), quote(got.Raw))
				}
				if wn, gn := want.Elems[0].Raw, got.Elems[0].Raw; !bytes.Equal(wn, gn) {
					t.Errorf("COMMAND DOCS %s name: redis %q, loomcache %q", name, wn, gn)
				}
				wd, ws := withoutKey(want.Elems[1], "subcommands")
				gd, gs := withoutKey(got.Elems[1], "subcommands")
				if !bytes.Equal(wd, gd) {
					t.Errorf("COMMAND DOCS %s (subcommands apart)\nredis:     %s\nloomcache: %s",
						name, quote(wd), quote(gd))
				}
				switch {
				case ws == nil && gs == nil:
				case ws == nil || gs == nil:
					t.Errorf("COMMAND DOCS %s subcommands: redis %v, loomcache %v", name, ws != nil, gs != nil)
				default:
					compareSubs(t, "COMMAND DOCS "+name, *ws, *gs, mapEntries)
				}
			})
		}
	}
}

// compareSubs compares two lists of subcommand entries: their type byte,
// their header too when LoomCache has every subcommand, and each entry
// LoomCache has with Redis's entry of the same name.
func compareSubs(t *testing.T, what string, want, got Reply, entries func(Reply) map[string][]byte) {
	t.Helper()
	we, ge := entries(want), entries(got)
	var missing []string
	for n := range we {
		if _, ok := ge[n]; !ok {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Logf("%s: subcommands LoomCache does not have: %v", what, missing)
	}
	if want.Type != got.Type || (len(missing) == 0 && !bytes.Equal(want.Header, got.Header)) {
		t.Errorf("%s subcommands: redis %q, loomcache %q", what, want.Header, got.Header)
	}
	for n, g := range ge {
		w, ok := we[n]
		switch {
		case !ok:
			t.Errorf("%s: loomcache has subcommand %s, redis-server does not", what, n)
		case !bytes.Equal(w, g):
			t.Errorf("%s subcommand %s\nredis:     %s\nloomcache: %s", what, n, quote(w), quote(g))
		}
	}
}

// infoEntries indexes COMMAND INFO entries by their name.
func infoEntries(list Reply) map[string][]byte {
	m := make(map[string][]byte)
	for _, e := range list.Elems {
		if len(e.Elems) > 0 {
			m[string(bulk(e.Elems[0]))] = e.Raw
		}
	}
	return m
}

// mapEntries indexes a map reply (a flat array in RESP2) by its keys; each
// entry is the key's and the value's bytes.
func mapEntries(m Reply) map[string][]byte {
	out := make(map[string][]byte)
	for i := 0; i+1 < len(m.Elems); i += 2 {
		out[string(bulk(m.Elems[i]))] = append(append([]byte{}, m.Elems[i].Raw...), m.Elems[i+1].Raw...)
	}
	return out
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

// withoutKey re-encodes a map reply (a flat array in RESP2) without key,
// and returns key's value if it was there.
func withoutKey(m Reply, key string) ([]byte, *Reply) {
	var body []byte
	var dropped *Reply
	n := 0
	for i := 0; i+1 < len(m.Elems); i += 2 {
		if string(bulk(m.Elems[i])) == key {
			dropped = &m.Elems[i+1]
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
	return append(out, body...), dropped
}
