package persistence

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestOnSync: the observer hears of each synced log commit, and of none
// when the log is not synced.
func TestOnSync(t *testing.T) {
	for _, sync := range []bool{true, false} {
		s := openStore(t, t.TempDir(), sync)
		var calls int
		s.OnSync(func(d time.Duration) {
			if d < 0 {
				t.Errorf("negative duration %v", d)
			}
			calls++
		})
		for i := uint64(1); i <= 3; i++ {
			if err := s.StoreLogs([]*raft.Log{{Index: i, Term: 1, Type: raft.LogCommand, Data: []byte("x")}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetUint64([]byte("k"), 1); err != nil { // stable state: not a log commit
			t.Fatal(err)
		}
		want := 0
		if sync {
			want = 3
		}
		if calls != want {
			t.Errorf("sync=%v: %d calls, want %d", sync, calls, want)
		}
		closeStore(t, s)
	}
}
