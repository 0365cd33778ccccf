package acl

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// testCatalog is Redis 7.0.15's whole command table (testdata, from its
// COMMAND reply), sorted by name, so descriptions count what Redis counts.
func testCatalog(t testing.TB) *Catalog {
	t.Helper()
	data, err := os.ReadFile("testdata/commands-7.0.15.txt")
	if err != nil {
		t.Fatal(err)
	}
	cats := RedisCategories()
	var cmds []Command
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		cmd := Command{Name: f[0], NoAuth: len(f) > 2 && f[2] == "noauth"}
		for _, c := range strings.Split(f[1], ",") {
			if i := slices.Index(cats, c); i >= 0 {
				cmd.Categories |= 1 << i
			}
		}
		if parent, _, isSub := strings.Cut(f[0], "|"); isSub {
			last := &cmds[len(cmds)-1]
			if last.Name != parent {
				t.Fatalf("subcommand %s out of order", f[0])
			}
			last.Subcommands = append(last.Subcommands, cmd)
			continue
		}
		cmds = append(cmds, cmd)
	}
	cat, err := NewCatalog(cats, cmds)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestNewCatalogRejects(t *testing.T) {
	cats := []string{"read", "write"}
	many := make([]string, 65)
	for i := range many {
		many[i] = strings.Repeat("c", i+1)
	}
	tests := []struct {
		name string
		cats []string
		cmds []Command
	}{
		{"too many categories", many, nil},
		{"duplicate category", []string{"read", "read"}, nil},
		{"category all", []string{"all"}, nil},
		{"upper category", []string{"Read"}, nil},
		{"duplicate command", cats, []Command{{Name: "get"}, {Name: "get"}}},
		{"upper command", cats, []Command{{Name: "GET"}}},
		{"empty command", cats, []Command{{Name: ""}}},
		{"bar in command", cats, []Command{{Name: "a|b"}}},
		{"unknown category bit", cats, []Command{{Name: "get", Categories: 4}}},
		{"nested subcommands", cats, []Command{{Name: "a", Subcommands: []Command{{Name: "b", Subcommands: []Command{{Name: "c"}}}}}}},
		{"duplicate subcommand", cats, []Command{{Name: "a", Subcommands: []Command{{Name: "b"}, {Name: "a|b"}}}}},
		{"nul in command", cats, []Command{{Name: "a\x00"}}},
	}
	for _, tc := range tests {
		if _, err := NewCatalog(tc.cats, tc.cmds); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestCatalogLookupRule(t *testing.T) {
	cat := testCatalog(t)
	tests := []struct {
		name string
		want string // "" for not found
	}{
		{"get", "get"},
		{"GeT", "get"},
		{"config", "config"},
		{"config|get", "config|get"},
		{"CONFIG|Get", "config|get"},
		{"config|nosuch", ""},
		{"config|get|x", ""},
		{"config|", ""},
		{"select|0", ""},
		{"|get", ""},
		{"", ""},
		{"nosuch", ""},
		{"get\x00junk", "get"},
	}
	for _, tc := range tests {
		id, ok := cat.lookupRule(tc.name)
		got := ""
		if ok {
			got = cat.Name(id)
		}
		if got != tc.want {
			t.Errorf("lookupRule(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if id, ok := cat.ID("CONFIG|GET"); !ok || cat.Parent(id) != mustID(t, cat, "config") {
		t.Errorf("ID(CONFIG|GET) = %d %v", id, ok)
	}
	if cat.Name(-1) != "" || cat.Name(CmdID(cat.Len())) != "" || cat.Parent(-5) != -1 {
		t.Error("out of range ids must be harmless")
	}
}

func mustID(t testing.TB, cat *Catalog, name string) CmdID {
	t.Helper()
	id, ok := cat.ID(name)
	if !ok {
		t.Fatalf("no command %q", name)
	}
	return id
}

func TestCommandsIn(t *testing.T) {
	cat, err := NewCatalog([]string{"read", "admin"}, []Command{
		{Name: "get", Categories: 1},
		{Name: "config", Subcommands: []Command{{Name: "get", Categories: 3}, {Name: "config|set", Categories: 2}}},
		{Name: "debug", Categories: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cat  string
		want []string
		err  string
	}{
		{"read", []string{"get", "config|get"}, ""},
		{"ADMIN", []string{"config|get", "config|set", "debug"}, ""},
		{"nosuch", nil, "ERR Unknown category 'nosuch'"},
		{strings.Repeat("y", 130), nil, "ERR Unknown category '" + strings.Repeat("y", 128) + "'"},
	}
	for _, tc := range tests {
		got, err := cat.CommandsIn(tc.cat)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("CommandsIn(%q) error = %v, want %q", tc.cat, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("CommandsIn(%q) = %q, %v; want %q", tc.cat, got, err, tc.want)
		}
	}
}
