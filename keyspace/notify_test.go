package keyspace

import (
	"slices"
	"testing"
)

// recorder is a Notifier that keeps what it is told, of the classes it
// wants.
type recorder struct {
	wants  EventClass
	events []string
}

func (r *recorder) Wants(c EventClass) bool { return r.wants&c != 0 }

func (r *recorder) Notify(db int, c EventClass, event string, key []byte) {
	if !r.Wants(c) {
		panic("told of an event it does not want")
	}
	r.events = append(r.events, string(rune('0'+db))+" "+event+" "+string(key))
}

// The keyspace names the events no applier can: a key added ("new"), a
// key a write or a delete found expired ("expired"), a read's miss
// ("keymiss"); in the database's current number; only the classes
// wanted.
func TestKeyspaceOwnEvents(t *testing.T) {
	s := New(2)
	r := &recorder{wants: EventNew | EventExpired | EventKeyMiss}
	s.SetNotifier(r)
	d := s.DB(1)
	d.Set([]byte("a"), NewString([]byte("1")), 0)
	d.Set([]byte("a"), NewString([]byte("2")), 0) // not new
	d.Set([]byte("b"), NewString([]byte("1")), 10)
	d.Set([]byte("c"), NewString([]byte("1")), 10)
	if d.GetForWrite([]byte("b"), 20) != nil {
		t.Fatal("expired key found for writing")
	}
	if d.Delete([]byte("c"), 20) {
		t.Fatal("expired key deleted as live")
	}
	d.GetRead([]byte("zz"), 20)
	d.GetRead([]byte("a"), 20)
	d.Get([]byte("zz"), 20) // not a command's read
	d.Notify(EventGeneric, "del", []byte("x"))
	s.Swap(0, 1)
	d.Set([]byte("d"), NewString([]byte("1")), 0)
	want := []string{"1 new a", "1 new b", "1 new c", "1 expired b", "1 expired c", "1 keymiss zz", "0 new d"}
	if !slices.Equal(r.events, want) {
		t.Errorf("events %q, want %q", r.events, want)
	}
	if d.Wants(EventGeneric) || !d.Wants(EventNew) {
		t.Error("Wants does not follow the notifier")
	}
	// A store without a notifier (a transaction's) tells no one.
	New(1).DB(0).Set([]byte("a"), NewString([]byte("1")), 0)
}
