package keyspace

import "testing"

func TestStreamGroupDeliveryAndPEL(t *testing.T) {
	s := sampleStream(t, 5, DefaultEncodingLimits())
	all := ids(s, false)
	if !s.CreateGroup([]byte("g"), StreamID{}, 0) || s.CreateGroup([]byte("g"), StreamID{}, 0) {
		t.Fatal("a group created twice")
	}
	g := s.Group([]byte("g"))
	alice, _ := g.Touch([]byte("alice"), 10, true)
	bob, _ := g.Touch([]byte("bob"), 10, true)
	got := s.ReadNew(g, alice, StreamID{}, 2, false, 100)
	if len(got) != 2 || g.LastID != all[1] || g.EntriesRead != 2 || alice.Pending() != 2 {
		t.Fatalf("read %d, last %v, entries read %d, alice has %d", len(got), g.LastID, g.EntriesRead, alice.Pending())
	}
	if lag, ok := s.Lag(g); !ok || lag != 3 {
		t.Fatalf("lag %d %v, want 3", lag, ok)
	}
	// Taken over: bob owns it, its count starts again at 1.
	g.Deliver(all[0], alice, 150, false)
	if p := g.Pending(all[0]); p.DeliveryCount != 2 {
		t.Fatalf("redelivered count %d", p.DeliveryCount)
	}
	g.LastID = StreamID{}
	s.ReadNew(g, bob, StreamID{}, 1, false, 200)
	if p := g.Pending(all[0]); p.Consumer != bob || p.DeliveryCount != 1 || p.DeliveryTime != 200 || alice.Pending() != 1 {
		t.Fatalf("taken over: %+v, alice has %d", p, alice.Pending())
	}
	if !g.Ack(all[0]) || g.Ack(all[0]) || bob.Pending() != 0 {
		t.Fatal("ack")
	}
	if n := g.DeleteConsumer([]byte("alice")); n != 1 || len(g.PEL()) != 0 {
		t.Fatalf("deleted consumer had %d, PEL %d left", n, len(g.PEL()))
	}
	// A tombstone after the group's last id makes the lag unknown.
	s.Delete(all[3])
	s.NoteDeleted(all[3], false)
	g.EntriesRead = EntriesReadUnknown
	if _, ok := s.Lag(g); ok {
		t.Fatal("lag known across a tombstone")
	}
	if !s.DestroyGroup([]byte("g")) || s.Group([]byte("g")) != nil {
		t.Fatal("destroy")
	}
}
