package acl

import (
	"slices"
	"sync"
	"testing"
)

func TestRefsFollowUsers(t *testing.T) {
	cat := testCatalog(t)
	reg := NewRegistry(cat, false)
	def := reg.Default()
	if def.User().Describe() != "on nopass ~* &* +@all" || reg.Lookup("default") != def {
		t.Fatalf("default user: %q", def.User().Describe())
	}
	mustSet(t, reg, "alice", "on", ">pw")
	mustSet(t, reg, "bob", "on", "nopass")
	alice, bob := reg.Lookup("alice"), reg.Lookup("bob")

	// SETUSER keeps the identity, even when disabling: Redis lets
	// authenticated connections go on.
	mustSet(t, reg, "alice", "off")
	if reg.Lookup("alice") != alice || alice.User() == nil || alice.User().Enabled() {
		t.Error("SETUSER must update the user behind the same Ref")
	}
	if n, err := reg.DelUser("alice", "alice", "nosuch"); n != 1 || err != nil {
		t.Errorf("DelUser = %d, %v", n, err)
	}
	if alice.User() != nil || reg.Lookup("alice") != nil {
		t.Error("a deleted user's Ref must empty")
	}
	if n, err := reg.DelUser("bob", "default"); n != 0 || err == nil || err.Error() != "ERR The 'default' user cannot be removed" {
		t.Errorf("DelUser default = %d, %v", n, err)
	}
	if bob.User() == nil {
		t.Error("a refused DELUSER deleted a user")
	}
	if _, err := reg.DelUser("default\x00x"); err == nil {
		t.Error(`DelUser("default\x00x") must be refused as "default" (C strings)`)
	}

	// ACL LOAD replaces everyone but default, even users it redefines.
	mustSet(t, reg, "carol", "on")
	if err := reg.Load("f", []byte("user bob on nopass\nuser default on nopass ~* &* +@all -@hash\n")); err != nil {
		t.Fatal(err)
	}
	if bob.User() != nil || reg.Lookup("carol") != nil || reg.Lookup("bob") == bob {
		t.Error("LOAD must empty the Refs of every non-default user")
	}
	if reg.Default() != def {
		t.Error("LOAD must keep the default Ref")
	}
	if got := def.User().Describe(); got != "on nopass ~* &* +@all -@hash" {
		t.Errorf("default after LOAD: %q", got)
	}
	if got := reg.Users(); !slices.Equal(got, []string{"bob", "default"}) {
		t.Errorf("Users = %q", got)
	}

	// Restore keeps the Refs of users that remain.
	newBob := reg.Lookup("bob")
	mustSet(t, reg, "dave", "on")
	dave := reg.Lookup("dave")
	snap := reg.Snapshot()
	mustSet(t, reg, "erin")
	erin := reg.Lookup("erin")
	mustSet(t, reg, "bob", "+get")
	if err := reg.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if reg.Lookup("bob") != newBob || newBob.User().Describe() != "on nopass resetchannels -@all" || dave.User() == nil {
		t.Errorf("Restore must keep remaining Refs: bob %q", newBob.User().Describe())
	}
	if erin.User() != nil || reg.Lookup("erin") != nil {
		t.Error("Restore must drop users the snapshot lacks")
	}
}

func mustSet(t *testing.T, reg *Registry, name string, rules ...string) {
	t.Helper()
	if _, err := reg.SetUser(name, rules); err != nil {
		t.Fatalf("SetUser %s %q: %v", name, rules, err)
	}
}

func TestAuthenticate(t *testing.T) {
	reg := NewRegistry(testCatalog(t), false)
	mustSet(t, reg, "alice", "on", ">pw", ">pw2")
	mustSet(t, reg, "off", "off", ">pw")
	mustSet(t, reg, "free", "on", "nopass")
	mustSet(t, reg, "nopw", "on")
	tests := []struct {
		user, pass string
		ok         bool
	}{
		{"alice", "pw", true},
		{"alice", "pw2", true},
		{"alice", "PW", false},
		{"alice", "", false},
		{"off", "pw", false},
		{"free", "anything", true},
		{"nopw", "", false},
		{"nosuch", "pw", false},
		{"default", "x", true},
	}
	for _, tc := range tests {
		ref, ok := reg.Authenticate(tc.user, tc.pass)
		if ok != tc.ok || (ok && ref != reg.Lookup(tc.user)) {
			t.Errorf("Authenticate(%q, %q) = %v, %v", tc.user, tc.pass, ref, ok)
		}
	}
	if reg.Default().User().NeedsAuth() {
		t.Error("the default user starts nopass")
	}
	reg.SetRequirePass("secret")
	def := reg.Default().User()
	if got := def.Describe(); got != "on #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b ~* &* +@all" || !def.NeedsAuth() {
		t.Errorf("after requirepass: %q", got)
	}
	if _, ok := reg.Authenticate("default", "secret"); !ok {
		t.Error("requirepass password refused")
	}
	reg.SetRequirePass("other")
	if _, ok := reg.Authenticate("default", "secret"); ok {
		t.Error("requirepass must replace the old password")
	}
	reg.SetRequirePass("")
	if got := reg.Default().User().Describe(); got != "on nopass ~* &* +@all" {
		t.Errorf("after requirepass \"\": %q", got)
	}
}

func TestRevokesChannels(t *testing.T) {
	cat := testCatalog(t)
	tests := []struct {
		before, after []string
		revokes       bool
	}{
		{[]string{"&a", "&b"}, []string{"&b", "&a", "&c"}, false},
		{[]string{"&a", "&b"}, []string{"resetchannels", "&a"}, true},
		{[]string{"&a"}, []string{"allchannels"}, false},
		{[]string{"allchannels"}, []string{"resetchannels", "&a"}, true},
		{[]string{"&a"}, []string{"resetchannels", "(&a)"}, false},
		{[]string{"(&a)"}, []string{"clearselectors"}, true},
		{[]string{"&a"}, []string{"(&*)"}, false},
	}
	for _, tc := range tests {
		reg := NewRegistry(cat, false)
		mustSet(t, reg, "u", tc.before...)
		prev, err := reg.SetUser("u", tc.after)
		if err != nil {
			t.Fatal(err)
		}
		if got := reg.Lookup("u").User().RevokesChannelsOf(prev); got != tc.revokes {
			t.Errorf("%q then %q: revokes = %v", tc.before, tc.after, got)
		}
	}
	reg := NewRegistry(cat, false)
	mustSet(t, reg, "u", "&news.*", "(&exact)")
	u := reg.Lookup("u").User()
	for _, tc := range []struct {
		name    string
		pattern bool
		keep    bool
	}{{"news.1", false, true}, {"news.*", true, true}, {"news.?", true, false}, {"exact", false, true}, {"other", false, false}} {
		if got := u.KeepsSubscription([]byte(tc.name), tc.pattern); got != tc.keep {
			t.Errorf("KeepsSubscription(%q, %v) = %v", tc.name, tc.pattern, got)
		}
	}
	if u.RevokesChannelsOf(nil) {
		t.Error("a new user revokes nothing")
	}
}

func TestPubsubDefault(t *testing.T) {
	reg := NewRegistry(testCatalog(t), true)
	mustSet(t, reg, "a", "(+get)")
	reg.SetPubsubDefault(false)
	mustSet(t, reg, "b")
	mustSet(t, reg, "a", "reset")
	want := map[string]string{
		"a": "off sanitize-payload resetchannels -@all",
		"b": "off resetchannels -@all",
	}
	for n, w := range want {
		if got := reg.Lookup(n).User().Describe(); got != w {
			t.Errorf("%s: %q, want %q", n, got, w)
		}
	}
	reg.SetPubsubDefault(true)
	mustSet(t, reg, "a", "reset", "(~x)")
	if got := reg.Lookup("a").User().Describe(); got != "off sanitize-payload &* -@all (~x &* -@all)" {
		t.Errorf("reset under allchannels: %q", got)
	}
}

// Readers check while a writer changes users; run with -race.
func TestConcurrentReadersAndWriter(t *testing.T) {
	cat := testCatalog(t)
	reg := NewRegistry(cat, false)
	mustSet(t, reg, "u", "on", "+get", "~k*")
	get := mustID(t, cat, "get")
	a := args("get k1")
	keys := []KeyRef{{Pos: 1, Perm: PermRead}}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if u := reg.Lookup("u").User(); u != nil && !u.Check(get, a, keys, nil).OK() {
					t.Error("a reader saw a half-applied user")
					return
				}
				reg.Default().User().Check(get, a, keys, nil)
				reg.List()
			}
		}()
	}
	for i := range 200 {
		mustSet(t, reg, "u", "+set", "-set", "~k*")
		mustSet(t, reg, "tmp", "on")
		reg.DelUser("tmp")
		if i%50 == 0 {
			if err := reg.Restore(reg.Snapshot()); err != nil {
				t.Error(err)
			}
		}
	}
	close(stop)
	wg.Wait()
}
