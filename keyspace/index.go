package keyspace

import "hash/maphash"

// index maps a key to its slot. It is an open-addressing table with linear
// probing: each cell holds 32 bits of the key's hash and the slot + 1 (0:
// empty), so a probe compares keys only when the hash bits agree, and the
// keys themselves live once, in the slots. At 8 bytes a cell and a load of
// at most 3/4, it costs 11-21 bytes a key where a Go map keyed by string
// would cost 40 or more (the key's header, its copy, the map's slot).
//
// The table is local to a node (its seed is random): nothing replicated
// depends on where a key sits in it.
type index struct {
	cells []uint64
	shift uint8 // 32 - log2(len(cells)): a hash's top bits are its home
	n     int
	seed  maphash.Seed
}

const minIndexCells = 8

func newIndex(capacity int) index {
	x := index{seed: maphash.MakeSeed()}
	x.alloc(cellsFor(capacity))
	return x
}

// cellsFor returns the table size that holds n keys under the load limit.
func cellsFor(n int) int {
	c := minIndexCells
	for c*3/4 < n {
		c *= 2
	}
	return c
}

func (x *index) alloc(cells int) {
	x.cells = make([]uint64, cells)
	bits := uint8(0)
	for 1<<bits < cells {
		bits++
	}
	x.shift = 32 - bits
}

func (x *index) hash(key []byte) uint32 { return uint32(maphash.Bytes(x.seed, key)) }

func (x *index) hashString(key string) uint32 { return uint32(maphash.String(x.seed, key)) }

func (x *index) home(h uint32) int { return int(h >> x.shift) }

// find returns the slot of key, or -1. keyAt reads a slot's key.
func (x *index) find(key []byte, h uint32, keyAt func(slot uint32) string) int {
	mask := len(x.cells) - 1
	for i := x.home(h); ; i = (i + 1) & mask {
		c := x.cells[i]
		if c == 0 {
			return -1
		}
		if uint32(c>>32) == h {
			if s := uint32(c) - 1; keyAt(s) == string(key) {
				return int(s)
			}
		}
	}
}

// insert adds a key known to be absent.
func (x *index) insert(h uint32, slot uint32) {
	if (x.n+1)*4 > len(x.cells)*3 {
		x.resize(len(x.cells) * 2)
	}
	x.put(h, slot)
	x.n++
}

func (x *index) put(h uint32, slot uint32) {
	mask := len(x.cells) - 1
	i := x.home(h)
	for x.cells[i] != 0 {
		i = (i + 1) & mask
	}
	x.cells[i] = uint64(h)<<32 | uint64(slot+1)
}

// remove deletes slot's cell, found from its hash, shifting the cells of
// its probe run back so that no tombstone is left.
func (x *index) remove(h uint32, slot uint32) {
	mask := len(x.cells) - 1
	want := uint64(slot + 1)
	i := x.home(h)
	for uint32(x.cells[i]) != uint32(want) {
		i = (i + 1) & mask
	}
	// Backward shift: move later cells of the run into the gap when their
	// home does not lie in (gap, cell].
	for j := (i + 1) & mask; x.cells[j] != 0; j = (j + 1) & mask {
		k := x.home(uint32(x.cells[j] >> 32))
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			x.cells[i] = x.cells[j]
			i = j
		}
	}
	x.cells[i] = 0
	x.n--
	if len(x.cells) > minIndexCells && x.n*8 < len(x.cells) {
		x.resize(len(x.cells) / 2)
	}
}

// resize rebuilds the table at a new size: the hash bits kept in a cell
// are its home at any size, so no key is read or hashed again.
func (x *index) resize(cells int) {
	old := x.cells
	x.alloc(cells)
	for _, c := range old {
		if c != 0 {
			x.put(uint32(c>>32), uint32(c)-1)
		}
	}
}

// bytes is the table's memory.
func (x *index) bytes() int64 { return int64(len(x.cells)) * 8 }
