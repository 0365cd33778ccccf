package persistence

import (
	"testing"
	"time"
)

// TestEverySecSyncs: under everysec a commit is not fsync'd on its own
// (no counted sync) and the background fsync makes it durable soon after;
// switching to always syncs each commit again.
func TestEverySecSyncs(t *testing.T) {
	d, err := OpenDB(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.SetSyncMode(SyncEverySec)
	s, err := d.Group(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StoreLogs(entries(1, 5)); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Syncs != 0 {
		t.Fatalf("everysec commit synced on its own: %+v", st)
	}
	deadline := time.Now().Add(10 * time.Second)
	for d.BackgroundSyncs() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no background fsync under everysec")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Nothing new written: no more background fsyncs are owed.
	if d.sync.dirty.Load() {
		t.Fatal("still dirty after the background fsync")
	}
	d.SetSyncMode(SyncAlways)
	if err := s.StoreLogs(entries(6, 6)); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Syncs != 1 {
		t.Fatalf("always: want 1 synced commit, got %+v", st)
	}
	for _, w := range []string{"always", "everysec", "no"} {
		if m, ok := ParseSyncMode(w); !ok || m.String() != w {
			t.Errorf("ParseSyncMode(%q) = %v, %v", w, m, ok)
		}
	}
}
