package acl

import (
	"strings"
	"testing"
)

// FuzzSetUser applies random rules (one per line). It must never panic; a
// refused SETUSER must leave no trace; TrySetUser must foresee the
// outcome; an accepted user must come back identical from its
// description (Snapshot, then Restore), describe itself the same way
// again, and be the same user when its passwords are given hashed
// (HashPasswords, as a node proposes them).
func FuzzSetUser(f *testing.F) {
	cat := testCatalog(f)
	get, publish, sel := mustID(f, cat, "get"), mustID(f, cat, "publish"), mustID(f, cat, "select")
	f.Fuzz(func(t *testing.T, name, rules string) {
		reg := NewRegistry(cat, false)
		before := reg.Default().User()
		tried := reg.TrySetUser(name, strings.Split(rules, "\n"))
		_, err := reg.SetUser(name, strings.Split(rules, "\n"))
		if (tried == nil) != (err == nil) || err != nil && tried.Error() != err.Error() {
			t.Fatalf("TrySetUser said %v, SetUser %v", tried, err)
		}
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
		hashed := NewRegistry(cat, false)
		if _, err := hashed.SetUser(name, HashPasswords(strings.Split(rules, "\n"))); err != nil {
			t.Fatalf("hashed passwords refused: %v", err)
		}
		if !u.equal(hashed.Lookup(name).User()) {
			t.Fatalf("hashed passwords made another user: %q vs %q", u.Describe(), hashed.Lookup(name).User().Describe())
		}
		a := [][]byte{[]byte("x"), []byte(rules), []byte(name)}
		u.Check(get, a, []KeyRef{{Pos: 1, Perm: PermRead}, {Pos: 7}}, nil)
		u.Check(publish, a, nil, []ChannelRef{{Pos: 1}, {Pos: 2, Pattern: true}, {Pos: -1}})
		u.Check(sel, a[:2], nil, nil)
		u.Info()
	})
}
