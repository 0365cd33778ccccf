package pubsub

import (
	"testing"
)

func inv(keys ...string) string {
	return string(appendKeys(append(appendHeader(nil, 3, 2), "$10\r\ninvalidate\r\n"...), keys))
}

// The tracking table on its own: what each applied change queues for
// whom, in default mode, BCAST (sent once the op is applied), OPTIN,
// with a flush, within tracking-table-max-keys, and to a redirect target
// that is gone.
func TestTrackingTable(t *testing.T) {
	tk := NewTracking()
	var n int
	subA, subB, subC := newTestSub(Limits{}, &n), newTestSub(Limits{}, &n), newTestSub(Limits{}, &n)
	for _, s := range []*Sub{subA, subB, subC} {
		s.SetProto(3)
	}
	a, b, c := tk.Register(1, subA), tk.Register(2, subB), tk.Register(3, subC)
	tk.Enable(a, TrackOptions{})
	tk.Enable(b, TrackOptions{BCast: true, Prefixes: []string{"p:"}})
	tk.Enable(c, TrackOptions{OptIn: true})

	tk.Remember(a, [][]byte{[]byte("k"), []byte("p:1")})
	tk.Remember(c, [][]byte{[]byte("k")}) // OPTIN without CACHING YES: not tracked
	tk.Changed("k", false)
	tk.Changed("k", false) // no longer tracked: invalidated once
	tk.Changed("p:2", false)
	tk.Changed("p:1", false)
	if got := take(t, subA); got != inv("k")+inv("p:1") {
		t.Errorf("default mode got %q", got)
	}
	if got := take(t, subB); got != "" {
		t.Errorf("BCAST got %q before the op ended", got)
	}
	tk.EndOp()
	if got := take(t, subB); got != inv("p:1", "p:2") {
		t.Errorf("BCAST got %q", got)
	}
	if got := take(t, subC); got != "" {
		t.Errorf("OPTIN got %q", got)
	}
	tk.SetCaching(c, true)
	tk.Remember(c, [][]byte{[]byte("o")})
	tk.SetCaching(c, false)
	tk.Remember(c, [][]byte{[]byte("o2")})
	if st := tk.Stats(); st != (TrackStats{Clients: 3, Keys: 1, Items: 1, Prefixes: 1}) {
		t.Errorf("stats %+v", st)
	}
	tk.Changed("", true)
	for i, s := range []*Sub{subA, subB, subC} {
		if got := take(t, s); got != ">2\r\n$10\r\ninvalidate\r\n_\r\n" {
			t.Errorf("flush: %d got %q", i, got)
		}
	}

	tk.SetMaxKeys(2)
	tk.Remember(a, [][]byte{[]byte("x"), []byte("y"), []byte("z")})
	if got := take(t, subA); got != inv("x") && got != inv("y") && got != inv("z") {
		t.Errorf("over max keys got %q, want one key invalidated", got)
	}
	if st := tk.Stats(); st.Keys != 2 {
		t.Errorf("%d keys, want 2", st.Keys)
	}
	tk.SetMaxKeys(1) // lowering the limit evicts at once
	if got := take(t, subA); len(got) != len(inv("x")) {
		t.Errorf("lowering the limit got %q, want one key invalidated", got)
	}

	// A redirect to a connection that leaves breaks.
	tk.SetMaxKeys(0)
	tk.Enable(a, TrackOptions{Redirect: 3})
	tk.Remember(a, [][]byte{[]byte("r")})
	tk.Unregister(c)
	tk.Changed("r", false)
	if got := take(t, subA); got != ">2\r\n$21\r\ntracking-redir-broken\r\n:3\r\n" {
		t.Errorf("broken redirect got %q", got)
	}
	if i := tk.Info(a); !i.Broken || !i.On || i.Redirect != 3 {
		t.Errorf("info %+v", i)
	}
	tk.Disable(a)
	if i := tk.Info(a); i.On || i.Broken {
		t.Errorf("after Disable %+v", i)
	}
}
