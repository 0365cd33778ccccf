package keyspace

import "hash/maphash"

// index maps a key to its slot. It is an open-addressing table with linear
// probing: each cell holds 32 bits of the key's hash and the slot + 1 (0:
// empty), so a probe compares keys only when the hash bits agree, and the
// keys themselves live once, in the slots. At 8 bytes a cell and a load of
// at most 3/4, it costs 11-21 bytes a key where a Go map keyed by string
// would cost 40 or more (the key's header, its copy, the map's slot).
//
// It grows (and shrinks) incrementally, as Redis's dict rehashes: a
// resize allocates the new table and leaves the cells in the old one,
// and every change after it moves a few runs of them across, so no
// single write pays for copying the whole table. Until the old table is
// empty, lookups look in both. Readers never move cells: they hold only
// the read lock.
//
// The table is local to a node (its seed is random): nothing replicated
// depends on where a key sits in it.
type index struct {
	t    table
	n    int // keys in t
	seed maphash.Seed
	// While resizing, old holds the cells not moved yet, oldN of them;
	// next is the position in old of the next cell to look at, and left
	// how many positions remain. Moving a whole run of cells (a maximal
	// stretch of full cells) at a time keeps every other run, and so
	// every lookup in old, intact.
	old  table
	oldN int
	next int
	left int
}

// table is one array of cells.
type table struct {
	cells []uint64
	shift uint8 // 32 - log2(len(cells)): a hash's top bits are its home
}

const (
	minIndexCells = 8
	// migrateStep is how many old positions each change moves on: with
	// the old table at most 3/4 full and the new one twice its size, the
	// move is done long before the new one fills.
	migrateStep = 16
	// incrementalCells: a table smaller than this (128KB) is moved at
	// once, which costs less than a write's round trip.
	incrementalCells = 1 << 14
)

func newIndex(capacity int) index {
	return index{seed: maphash.MakeSeed(), t: newTable(cellsFor(capacity))}
}

// cellsFor returns the table size that holds n keys under the load limit.
func cellsFor(n int) int {
	c := minIndexCells
	for c*3/4 < n {
		c *= 2
	}
	return c
}

func newTable(cells int) table {
	bits := uint8(0)
	for 1<<bits < cells {
		bits++
	}
	return table{cells: make([]uint64, cells), shift: 32 - bits}
}

func (x *index) hash(key []byte) uint32 { return uint32(maphash.Bytes(x.seed, key)) }

func (t *table) home(h uint32) int { return int(h >> t.shift) }

func (t *table) put(h uint32, slot uint32) {
	mask := len(t.cells) - 1
	i := t.home(h)
	for t.cells[i] != 0 {
		i = (i + 1) & mask
	}
	t.cells[i] = uint64(h)<<32 | uint64(slot+1)
}

// remove deletes slot's cell, found from its hash, shifting the cells of
// its probe run back so that no tombstone is left; false if it is not
// in t.
func (t *table) remove(h uint32, slot uint32) bool {
	if len(t.cells) == 0 {
		return false
	}
	mask := len(t.cells) - 1
	want := uint32(slot + 1)
	i := t.home(h)
	for uint32(t.cells[i]) != want {
		if t.cells[i] == 0 {
			return false
		}
		i = (i + 1) & mask
	}
	// Backward shift: move later cells of the run into the gap when their
	// home does not lie in (gap, cell].
	for j := (i + 1) & mask; t.cells[j] != 0; j = (j + 1) & mask {
		k := t.home(uint32(t.cells[j] >> 32))
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			t.cells[i] = t.cells[j]
			i = j
		}
	}
	t.cells[i] = 0
	return true
}

// insert adds a key known to be absent.
func (x *index) insert(h uint32, slot uint32) {
	x.migrate()
	if (x.n+x.oldN+1)*4 > len(x.t.cells)*3 {
		x.resize(len(x.t.cells) * 2)
	}
	x.t.put(h, slot)
	x.n++
}

// remove deletes slot's cell (it is in one of the tables).
func (x *index) remove(h uint32, slot uint32) {
	x.migrate()
	if x.t.remove(h, slot) {
		x.n--
	} else if x.old.remove(h, slot) {
		x.oldN--
	}
	if n := x.n + x.oldN; len(x.t.cells) > minIndexCells && n*8 < len(x.t.cells) {
		x.resize(max(cellsFor(n), len(x.t.cells)/2))
	}
}

// resize starts moving every key to a table of the given size; a resize
// still in progress is finished first.
func (x *index) resize(cells int) {
	for x.oldN > 0 {
		x.migrate()
	}
	x.old, x.oldN = x.t, x.n
	x.t, x.n = newTable(cells), 0
	// Start after an empty cell (there is one: the load is below 1), so
	// that no run is cut at the start.
	x.next, x.left = 0, len(x.old.cells)
	for x.old.cells[x.next] != 0 {
		x.next++
	}
	x.migrate()
	for x.oldN > 0 && len(x.old.cells) < incrementalCells {
		x.migrate()
	}
}

// migrate moves the runs of migrateStep positions of the old table into
// the new one; the hash bits kept in a cell are its home at any size, so
// no key is read or hashed again.
func (x *index) migrate() {
	if x.old.cells == nil {
		return
	}
	mask := len(x.old.cells) - 1
	for step := 0; step < migrateStep && x.left > 0; step++ {
		// Move the run that starts here, whole.
		for x.left > 0 && x.old.cells[x.next] != 0 {
			c := x.old.cells[x.next]
			x.t.put(uint32(c>>32), uint32(c)-1)
			x.old.cells[x.next] = 0
			x.n++
			x.oldN--
			x.next = (x.next + 1) & mask
			x.left--
		}
		if x.left > 0 {
			x.next = (x.next + 1) & mask
			x.left--
		}
	}
	if x.left == 0 || x.oldN == 0 {
		x.old, x.oldN, x.left = table{}, 0, 0
	}
}

// bytes is the tables' memory.
func (x *index) bytes() int64 { return int64(len(x.t.cells)+len(x.old.cells)) * 8 }
