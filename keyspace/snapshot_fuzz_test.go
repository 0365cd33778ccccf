package keyspace

import (
	"bytes"
	"testing"
)

// FuzzReadSnapshot: any bytes either restore or fail with an error, never
// a panic, and a failed restore leaves the store as it was; what restores
// writes back to a snapshot that restores to the same store.
func FuzzReadSnapshot(f *testing.F) {
	var good bytes.Buffer
	if err := sampleStore().WriteSnapshot(&good); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(snapshotMagicV1 + "\x04\x01\x00\x01k\x01\x02\x00\x01v\x00\x00\x00"))
	f.Add([]byte(snapshotMagicV2 + "\x04\x01\x05\x01\x02\x00\x01k\x01v\x00\x00\x00"))
	f.Add([]byte(snapshotMagic + "\x09\x04\x01\x05\x01\x02\x00\x07\x01k\x01v\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(4)
		s.DB(3).Set([]byte("keep"), NewString([]byte("v")), 0)
		before := dump(s)
		if err := s.ReadSnapshot(bytes.NewReader(data)); err != nil {
			if got := dump(s); len(got) != len(before) || got[0] != before[0] {
				t.Fatal("a failed restore changed the store")
			}
			return
		}
		var again bytes.Buffer
		if err := s.WriteSnapshot(&again); err != nil {
			t.Fatal(err)
		}
		r := New(4)
		if err := r.ReadSnapshot(&again); err != nil {
			t.Fatalf("a restored store's snapshot does not restore: %v", err)
		}
		a, b := dump(s), dump(r)
		if len(a) != len(b) {
			t.Fatalf("%d keys, then %d", len(a), len(b))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s, then %s", a[i], b[i])
			}
		}
	})
}
