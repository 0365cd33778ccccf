package keyspace

import (
	"bytes"
	"slices"
	"testing"
)

// TestUsedMemory: a string's key and value are counted as the one
// allocation they share, a string grown in place as its buffer, a page as
// it is taken and given back; what goes away is uncounted to the byte.
func TestUsedMemory(t *testing.T) {
	s := New(3)
	s.SetOpTime(t0)
	base := s.UsedMemory()
	d0, d1 := s.DB(0), s.DB(1)
	inline := func(key, val string) int64 { return allocSize(len(key) + len(val)) }
	steps := []struct {
		name string
		run  func()
		want int64 // beyond base; -1: more than the step before
	}{
		{"set", func() { d0.Set([]byte("a"), NewString([]byte("hello")), 0) }, pageBytes + inline("a", "hello")},
		{"overwrite", func() { d0.Set([]byte("a"), NewString([]byte("hi")), 0) }, pageBytes + inline("a", "hi")},
		{"replace", func() { d0.Replace([]byte("a"), NewString(bytes.Repeat([]byte("x"), 40))) }, pageBytes + inline("a", string(bytes.Repeat([]byte("x"), 40)))},
		{"append", func() { d0.GetForWrite([]byte("a"), t0); d0.Append([]byte("a"), bytes.Repeat([]byte("y"), 100)) }, -1},
		{"second db", func() { d1.Set([]byte("bb"), NewString([]byte("v")), t0+10) }, -1},
		{"delete", func() { d0.Delete([]byte("a"), t0) }, pageBytes + inline("bb", "v")},
		{"move", func() {
			v := d1.GetForWrite([]byte("bb"), t0)
			s.DB(2).Set([]byte("bb"), v.Value(), 0)
			d1.Delete([]byte("bb"), t0)
		}, pageBytes + inline("bb", "v")},
		{"flushall", func() { s.FlushAll() }, 0},
	}
	last := int64(0)
	for _, st := range steps {
		st.run()
		got := s.UsedMemory() - base
		for i := range s.NumDBs() { // the slices' room, counted as it is
			got -= int64(cap(s.DB(i).slots.pages))*8 + int64(cap(s.DB(i).vol))*4
		}
		if (st.want >= 0 && got != st.want) || (st.want < 0 && got <= last) {
			t.Errorf("%s: UsedMemory base+%d, want base+%d (before: %d)", st.name, got, st.want, last)
		}
		last = got
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
	d.Each(0, func(k string, _ *Entry) bool { live[k] = true; return true })

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
		at := lruEpochMs + (t0+i-lruEpochMs)/1000*1000 // LRU times are whole seconds
		if c.Idle != now-at || c.Freq != 5 || (c.Deadline != 0) != (i%10 == 0) {
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

// TestEvictionSampleSpread: on a database of dense slots every key is
// picked about as often as the others (no key, such as the first, is
// favoured), as the pools of LRU and LFU eviction need.
func TestEvictionSampleSpread(t *testing.T) {
	d := New(1).DB(0)
	for i := range 100 {
		d.Set(key(i), NewString([]byte("v")), 0)
	}
	picked := map[string]int{}
	for range 2000 {
		for _, c := range d.EvictionSample(5, false, t0, nil) {
			picked[c.Key]++
		}
	}
	for k, n := range picked {
		if n > 250 { // 100 expected
			t.Errorf("%s picked %d times of 10,000", k, n)
		}
	}
	if len(picked) != 100 {
		t.Errorf("%d of 100 keys ever picked", len(picked))
	}
}
