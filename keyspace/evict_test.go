package keyspace

import (
	"bytes"
	"slices"
	"testing"
)

// size is what UsedMemory counts for one key.
func size(key, val string) int64 { return int64(len(key)+len(val)) + entryOverhead }

func TestUsedMemory(t *testing.T) {
	s := New(3)
	s.SetOpTime(t0)
	d0, d1 := s.DB(0), s.DB(1)
	steps := []struct {
		name string
		run  func()
		want int64
	}{
		{"empty", func() {}, 0},
		{"set", func() { d0.Set([]byte("a"), NewString([]byte("hello")), 0) }, size("a", "hello")},
		{"overwrite", func() { d0.Set([]byte("a"), NewString([]byte("hi")), 0) }, size("a", "hi")},
		{"replace", func() { d0.Replace([]byte("a"), NewString([]byte("12345678"))) }, size("a", "12345678")},
		{"append", func() { d0.GetForWrite([]byte("a"), t0).Append([]byte("90")) }, size("a", "1234567890")},
		{"setrange inside", func() { d0.GetForWrite([]byte("a"), t0).SetRange(0, []byte("x")) }, size("a", "1234567890")},
		{"setrange past the end", func() { d0.GetForWrite([]byte("a"), t0).SetRange(12, []byte("yz")) }, size("a", "12345678901234")},
		{"second db", func() { d1.Set([]byte("bb"), NewString([]byte("v")), t0+10) }, size("a", "12345678901234") + size("bb", "v")},
		{"move (set there, delete here)", func() {
			v := d1.GetForWrite([]byte("bb"), t0)
			s.DB(2).Set([]byte("bb"), v, 0)
			d1.Delete([]byte("bb"), t0)
			v.Append([]byte("w")) // counted where it lives now
		}, size("a", "12345678901234") + size("bb", "vw")},
		{"swap", func() { s.Swap(0, 2) }, size("a", "12345678901234") + size("bb", "vw")},
		{"flushdb", func() { s.FlushDB(0) }, size("a", "12345678901234")},
		{"expired key deleted by a write", func() {
			s.DB(2).Set([]byte("e"), NewString([]byte("x")), t0)
			s.DB(2).GetForWrite([]byte("e"), t0)
		}, size("a", "12345678901234")},
		{"delete", func() { s.DB(2).Delete([]byte("a"), t0) }, 0},
		{"flushall", func() {
			d1.Set([]byte("c"), NewString([]byte("x")), 0)
			s.FlushAll()
		}, 0},
	}
	for _, st := range steps {
		st.run()
		if got := s.UsedMemory(); got != st.want {
			t.Errorf("%s: UsedMemory %d, want %d", st.name, got, st.want)
		}
	}
}

func TestUsedMemoryAfterSnapshot(t *testing.T) {
	s := New(2)
	s.SetOpTime(t0)
	for i := range 50 {
		s.DB(i%2).Set(key(i), NewString(bytes.Repeat([]byte("v"), i)), 0)
	}
	want := s.UsedMemory()
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	r := New(2)
	r.DB(0).Set([]byte("gone"), NewString([]byte("x")), 0)
	if err := r.ReadSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	if got := r.UsedMemory(); got != want {
		t.Errorf("restored UsedMemory %d, want %d", got, want)
	}
}

func TestEvictionSample(t *testing.T) {
	s := New(1)
	d := s.DB(0)
	for i := range 100 {
		s.SetOpTime(t0 + int64(i))
		deadline := int64(0)
		if i%10 == 0 {
			deadline = t0 + 1000 + int64(i)
		}
		d.Set(key(i), NewString([]byte("v")), deadline)
	}
	for i := range 60 { // holes in the order
		d.Delete(key(i+20), t0)
	}
	now := t0 + 500
	live := map[string]bool{}
	d.Each(0, func(k string, _ *Value) bool { live[k] = true; return true })

	got := d.EvictionSample(5, false, now, nil)
	if len(got) != 5 {
		t.Fatalf("sample of 5: %d keys", len(got))
	}
	for _, c := range got {
		if !live[c.Key] {
			t.Errorf("sampled %q, which is not a key", c.Key)
		}
		var i int64
		for j := range 100 {
			if string(key(j)) == c.Key {
				i = int64(j)
			}
		}
		if c.Idle != now-(t0+i) || c.Freq != 5 || (c.Deadline != 0) != (i%10 == 0) {
			t.Errorf("candidate %+v", c)
		}
	}

	got = d.EvictionSample(3, true, now, got[:0])
	if len(got) != 3 {
		t.Fatalf("volatile sample of 3: %d keys", len(got))
	}
	for _, c := range got {
		if c.Deadline == 0 {
			t.Errorf("volatile sample has %q without a deadline", c.Key)
		}
	}

	var all []string
	for _, c := range d.EvictionSample(1000, false, now, nil) {
		all = append(all, c.Key)
	}
	slices.Sort(all)
	if len(all) != len(live) || len(slices.Compact(all)) != len(live) {
		t.Errorf("a sample as large as the db has %d distinct keys, want %d", len(all), len(live))
	}
	if n := len(d.EvictionSample(1000, true, now, nil)); n != d.Expires() {
		t.Errorf("volatile sample of everything: %d keys, want %d", n, d.Expires())
	}
	if n := len(New(1).DB(0).EvictionSample(5, false, now, nil)); n != 0 {
		t.Errorf("empty db sampled %d keys", n)
	}
}
