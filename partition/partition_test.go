package partition

import "testing"

// The map from keys to partitions is a contract between every node and
// every client of a cluster (and between versions of them): these values
// are pinned. They were computed with an independent implementation of
// MurmurHash3 x86_32 (seed 0), which gives the published vectors
// ("hello world" → 0x5e928f0f, "foo" → 0xf6a5c420).
func TestPinned(t *testing.T) {
	for _, tc := range []struct {
		key, tag string
		hash     uint32
		of3      int
		of16     int
	}{
		{"", "", 0, 0, 0},
		{"foo", "foo", 4138058784, 0, 0},
		{"bar", "bar", 1158584717, 2, 13},
		{"hello world", "hello world", 1586663183, 2, 15},
		{"{user1000}.following", "user1000", 2308796307, 0, 3},
		{"{user1000}.followers", "user1000", 2308796307, 0, 3},
		{"foo{}{bar}", "foo{}{bar}", 892750999, 1, 7},
		{"foo{{bar}}zap", "{bar", 1904658983, 2, 7},
		{"foo{bar}{zap}", "bar", 1158584717, 2, 13},
		{"{}", "{}", 2315792072, 2, 8},
		{"a{b", "a{b", 1911483505, 1, 1},
		{"\x00\xff\x10", "\x00\xff\x10", 4185813340, 1, 12},
	} {
		k := []byte(tc.key)
		if got := string(Tag(k)); got != tc.tag {
			t.Errorf("Tag(%q) = %q, want %q", tc.key, got, tc.tag)
		}
		if got := Hash(k); got != tc.hash {
			t.Errorf("Hash(%q) = %d, want %d", tc.key, got, tc.hash)
		}
		if got := Of(k, 3); got != tc.of3 {
			t.Errorf("Of(%q, 3) = %d, want %d", tc.key, got, tc.of3)
		}
		if got := Of(k, 16); got != tc.of16 {
			t.Errorf("Of(%q, 16) = %d, want %d", tc.key, got, tc.of16)
		}
		if got := Of(k, 1); got != 0 {
			t.Errorf("Of(%q, 1) = %d", tc.key, got)
		}
	}
}

// TestHasherAllocatesNothing: a connection routes every keyed command
// through its Hasher; after its first use it allocates nothing, and it
// agrees with Of.
func TestHasherAllocatesNothing(t *testing.T) {
	var h Hasher
	key := []byte("user:{1000}:followers")
	if h.Of(key, 7) != Of(key, 7) || h.Hash(key) != Hash(key) {
		t.Fatal("Hasher and Of disagree")
	}
	if n := testing.AllocsPerRun(100, func() { h.Of(key, 3) }); n != 0 {
		t.Errorf("Hasher.Of allocates %v times per call", n)
	}
}
