package commands

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// redisSpec is the part of a Redis src/commands/*.json entry the table
// describes.
type redisSpec struct {
	Summary, Complexity, Group, Since string
	Arity                             int
	History                           [][2]string
	Flags                             []string `json:"command_flags"`
	ACL                               []string `json:"acl_categories"`
	KeySpecs                          []struct {
		Flags       []string
		BeginSearch struct {
			Index struct{ Pos int }
		} `json:"begin_search"`
		FindKeys struct {
			Range struct{ Lastkey, Step, Limit int }
		} `json:"find_keys"`
	} `json:"key_specs"`
	Arguments []redisArg
}

type redisArg struct {
	Name, Type, Token  string
	KeySpecIndex       *int `json:"key_spec_index"`
	Optional, Multiple bool
	Arguments          []redisArg
}

// TestHashTTLSpecs checks the table entries of Redis 7.4's hash-field
// expiry commands against 7.4's JSON specs (testdata/redis74, copied
// from src/commands at tag 7.4.1): redis-server 7.0, which
// TestCommandInfo compares with, has none of them.
func TestHashTTLSpecs(t *testing.T) {
	files, err := filepath.Glob("testdata/redis74/*.json")
	if err != nil || len(files) != 9 {
		t.Fatalf("specs: %v %v", files, err)
	}
	tab := NewTable()
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]redisSpec
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for name, want := range m {
			c := tab.Lookup([]byte(strings.ToLower(name)))
			if c == nil {
				t.Errorf("%s: not in the table", name)
				continue
			}
			if c.Arity != want.Arity || c.Group != want.Group || c.Since != want.Since || c.Summary != want.Summary ||
				c.Complexity != want.Complexity || len(c.History) != len(want.History) {
				t.Errorf("%s: arity/group/since/summary/complexity/history differ: %+v", name, c)
			}
			if !AfterReference(c) {
				t.Errorf("%s: not marked as newer than the reference Redis", name)
			}
			if got := bitNames(uint64(c.Flags), flagNames[:]); !sameFold(got, want.Flags) {
				t.Errorf("%s: flags %v, want %v", name, got, want.Flags)
			}
			if got := bitNames(uint64(c.Categories), CategoryNames[:]); !sameFold(got, want.ACL) {
				t.Errorf("%s: categories %v, want %v", name, got, want.ACL)
			}
			if len(c.Keys) != len(want.KeySpecs) {
				t.Fatalf("%s: %d key specs, want %d", name, len(c.Keys), len(want.KeySpecs))
			}
			for i, ks := range want.KeySpecs {
				k := c.Keys[i]
				r := ks.FindKeys.Range
				if got := bitNames(uint64(k.Flags), keyFlagNames[:]); !sameFold(got, ks.Flags) ||
					k.Index != ks.BeginSearch.Index.Pos || k.LastKey != r.Lastkey || k.KeyStep != r.Step || k.Limit != r.Limit {
					t.Errorf("%s: key spec %d: %+v, want %+v", name, i, k, ks)
				}
			}
			compareArgs(t, name, c.Args, want.Arguments)
		}
	}
}

func compareArgs(t *testing.T, where string, got []Arg, want []redisArg) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d arguments, want %d", where, len(got), len(want))
		return
	}
	for i, w := range want {
		g := got[i]
		ks := 0
		if w.KeySpecIndex != nil {
			ks = *w.KeySpecIndex + 1
		}
		if g.Name != w.Name || argTypeNames[g.Type] != w.Type || g.Token != w.Token || g.KeySpec != ks ||
			(g.Flags&ArgOptional != 0) != w.Optional || (g.Flags&ArgMultiple != 0) != w.Multiple {
			t.Errorf("%s: argument %d: %+v, want %+v", where, i, g, w)
		}
		compareArgs(t, where+" "+w.Name, g.Args, w.Arguments)
	}
}

func bitNames(bits uint64, names []string) []string {
	var out []string
	for i, n := range names {
		if bits&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func sameFold(a, b []string) bool {
	norm := func(s []string) []string {
		out := make([]string, len(s))
		for i, x := range s {
			out[i] = strings.ToLower(x)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}
