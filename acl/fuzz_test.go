package acl

import (
	"strings"
	"testing"
)

// FuzzSetUser applies random rules (one per line). It must never panic; a
// refused SETUSER must leave no trace; an accepted user must come back
// identical from its description (Snapshot, then Restore) and describe
// itself the same way again.
func FuzzSetUser(f *testing.F) {
	cat := testCatalog(f)
	get, publish, sel := mustID(f, cat, "get"), mustID(f, cat, "publish"), mustID(f, cat, "select")
	f.Fuzz(func(t *testing.T, name, rules string) {
		reg := NewRegistry(cat, false)
		before := reg.Default().User()
		_, err := reg.SetUser(name, strings.Split(rules, "\n"))
		if err != nil {
			if name != "default" && reg.Lookup(name) != nil {
				t.Fatalf("refused SETUSER created %q: %v", name, err)
			}
			if reg.Default().User() != before {
				t.Fatal("refused SETUSER changed the default user")
			}
			return
		}
		u := reg.Lookup(name).User()
		snap := reg.Snapshot()
		again := NewRegistry(cat, false)
		if err := again.Restore(snap); err != nil {
			t.Fatalf("Restore of %q: %v", snap, err)
		}
		v := again.Lookup(name)
		if v == nil || !u.equal(v.User()) {
			t.Fatalf("user changed through its description %q", snap)
		}
		if u.Describe() != v.User().Describe() {
			t.Fatalf("description changed: %q, then %q", u.Describe(), v.User().Describe())
		}
		a := [][]byte{[]byte("x"), []byte(rules), []byte(name)}
		u.Check(get, a, []KeyRef{{Pos: 1, Perm: PermRead}, {Pos: 7}}, nil)
		u.Check(publish, a, nil, []ChannelRef{{Pos: 1}, {Pos: 2, Pattern: true}, {Pos: -1}})
		u.Check(sel, a[:2], nil, nil)
		u.Info()
	})
}
