// Package partition owns the map from a key to its partition: MurmurHash3
// (32-bit x86, seed 0) of the key, or of its hash tag by Redis Cluster's
// rule, modulo the number of partitions. Nodes and the native client use
// this one function, so they agree on where every key lives. It imports
// nothing of the project.
package partition

import (
	"hash"

	"github.com/spaolacci/murmur3"
)

// Tag returns the part of key that is hashed: the bytes between the first
// '{' and the first '}' after it when there is at least one between them
// (Redis Cluster's keyHashSlot), the whole key otherwise. Keys that share
// a tag share a partition.
func Tag(key []byte) []byte {
	for i, c := range key {
		if c != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j == i+1 {
					return key // "{}": no tag
				}
				return key[i+1 : j]
			}
		}
		return key // no closing brace
	}
	return key
}

// Hash is the key's MurmurHash3 (x86, 32-bit, seed 0) over its tag.
func Hash(key []byte) uint32 {
	var h Hasher
	return h.Hash(key)
}

// Of returns the partition of key among n (n >= 1): 0 .. n-1.
func Of(key []byte, n int) int {
	var h Hasher
	return h.Of(key, n)
}

// Hasher hashes keys as Hash does, reusing one digest: a connection
// keeps one, so that routing a command allocates nothing. Its zero value
// is ready; it is not safe for concurrent use.
//
// It goes through murmur3's streaming digest, not murmur3.Sum32: Sum32
// walks the bytes with uintptr arithmetic that the race detector's
// pointer checks reject (checkptr), while the digest indexes the slice.
type Hasher struct{ d hash.Hash32 }

// Hash is Hash(key).
func (h *Hasher) Hash(key []byte) uint32 {
	if h.d == nil {
		h.d = murmur3.New32()
	}
	h.d.Reset()
	h.d.Write(Tag(key))
	return h.d.Sum32()
}

// Of is Of(key, n).
func (h *Hasher) Of(key []byte, n int) int {
	if n <= 1 {
		return 0
	}
	return int(h.Hash(key) % uint32(n))
}
