package keyspace

import (
	"container/heap"
	"unsafe"
)

// The skiplist of a big sorted set: Redis's zskiplist (levels with spans,
// so a rank is found in O(log n)), plus the member -> node map and the
// scan slots. A node's level follows from a hash of its member rather
// than a random draw, so every node builds the same structure and
// accounts the same memory.

const zslMaxLevel = 32

type zslLevel struct {
	forward *zslNode
	span    int
}

type zslNode struct {
	member   string
	score    float64
	backward *zslNode
	level    []zslLevel
	slot     uint32
}

type zskiplist struct {
	header, tail *zslNode
	length       int
	level        int
	dict         map[string]*zslNode
	// slots numbers the members for ZSCAN: a member keeps its slot while
	// it is in the set; a new one takes the lowest free slot.
	slots []*zslNode
	free  freeSlots
	// bytes is the memory of the nodes, their levels and members, kept
	// as they come and go so Size is O(1).
	bytes int64
}

// zslNodeBytes is a node's struct, its map entry (about 40 bytes at a Go
// map's load) and its slot.
const zslNodeBytes = 64 + 40 + 8

func newSkiplist() *zskiplist {
	return &zskiplist{header: &zslNode{level: make([]zslLevel, zslMaxLevel)}, level: 1, dict: map[string]*zslNode{}}
}

func (sl *zskiplist) size() int64 {
	return 96 + 64 + zslMaxLevel*16 + sl.bytes + allocSize(8*cap(sl.slots)) + allocSize(4*cap(sl.free))
}

// levelOf draws a level from a hash of the member, with Redis's
// probability 1/4 of each level up.
func levelOf(m string) int {
	h := uint64(14695981039346656037)
	for i := 0; i < len(m); i++ {
		h ^= uint64(m[i])
		h *= 1099511628211
	}
	// FNV's low bits hang on the bytes' low bits alone: finish with
	// MurmurHash3's fmix64 so every bit depends on every byte.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	lvl := 1
	for h&3 == 0 && lvl < zslMaxLevel {
		lvl++
		h >>= 2
	}
	return lvl
}

// newZslNode makes a node of lvl levels, with its levels in the node's
// own allocation up to 4 of them (Redis's flexible array member; 99.6%
// of nodes at p = 1/4): a walk along a level then reads one block per
// node, not the node and then its levels elsewhere, which was most of
// ZADD's time on a set too big for the caches.
func newZslNode(m string, score float64, lvl int) *zslNode {
	var x *zslNode
	switch {
	case lvl == 1:
		b := &struct {
			zslNode
			lv [1]zslLevel
		}{}
		b.level = b.lv[:]
		x = &b.zslNode
	case lvl == 2:
		b := &struct {
			zslNode
			lv [2]zslLevel
		}{}
		b.level = b.lv[:]
		x = &b.zslNode
	case lvl <= 4:
		b := &struct {
			zslNode
			lv [4]zslLevel
		}{}
		b.level = b.lv[:lvl]
		x = &b.zslNode
	default:
		x = &zslNode{level: make([]zslLevel, lvl)}
	}
	x.member, x.score = m, score
	return x
}

// add inserts a member known to be absent.
func (sl *zskiplist) add(m string, score float64) *zslNode {
	x := newZslNode(m, score, levelOf(m))
	sl.link(x)
	sl.dict[m] = x
	sl.bytes += zslNodeBytes + allocSize(16*len(x.level)) + allocSize(len(m))
	if len(sl.free) > 0 {
		x.slot = heap.Pop(&sl.free).(uint32)
		sl.slots[x.slot] = x
	} else {
		x.slot = uint32(len(sl.slots))
		sl.slots = append(sl.slots, x)
	}
	return x
}

// link puts x, whose levels are made, at its place (zslInsert).
func (sl *zskiplist) link(x *zslNode) {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	y := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		if i < sl.level-1 {
			rank[i] = rank[i+1]
		}
		for f := y.level[i].forward; f != nil && zless(f.score, f.member, x.score, x.member); f = y.level[i].forward {
			rank[i] += y.level[i].span
			y = f
		}
		update[i] = y
	}
	lvl := len(x.level)
	if lvl > sl.level {
		for i := sl.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = sl.header
			update[i].level[i].span = sl.length
		}
		sl.level = lvl
	}
	for i := 0; i < lvl; i++ {
		x.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = x
		x.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < sl.level; i++ {
		update[i].level[i].span++
	}
	x.backward = nil
	if update[0] != sl.header {
		x.backward = update[0]
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x
	} else {
		sl.tail = x
	}
	sl.length++
}

// unlink takes x out of the levels (zslDeleteNode).
func (sl *zskiplist) unlink(x *zslNode) {
	var update [zslMaxLevel]*zslNode
	y := sl.header
	for i := sl.level - 1; i >= 0; i-- {
		for f := y.level[i].forward; f != nil && f != x && zless(f.score, f.member, x.score, x.member); f = y.level[i].forward {
			y = f
		}
		update[i] = y
	}
	for i := 0; i < sl.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		sl.tail = x.backward
	}
	for sl.level > 1 && sl.header.level[sl.level-1].forward == nil {
		sl.level--
	}
	sl.length--
}

// remove deletes node x.
func (sl *zskiplist) remove(x *zslNode) {
	sl.unlink(x)
	delete(sl.dict, x.member)
	sl.bytes -= zslNodeBytes + allocSize(16*len(x.level)) + allocSize(len(x.member))
	i := x.slot
	sl.slots[i] = nil
	if int(i) == len(sl.slots)-1 {
		for len(sl.slots) > 0 && sl.slots[len(sl.slots)-1] == nil {
			sl.slots = sl.slots[:len(sl.slots)-1]
		}
		sl.free.below(len(sl.slots))
		// Give back what the trimmed slots held.
		if cap(sl.slots) > 2*len(sl.slots)+16 {
			sl.slots = append([]*zslNode(nil), sl.slots...)
			sl.free = append(freeSlots(nil), sl.free...)
		}
	} else {
		heap.Push(&sl.free, i)
	}
}

// update moves x to a new score, keeping its slot.
func (sl *zskiplist) update(x *zslNode, score float64) {
	// In place when x keeps its position (Redis's zslUpdateScore): a
	// leaderboard's small increments mostly do, and skip both walks.
	if (x.backward == nil || zless(x.backward.score, x.backward.member, score, x.member)) &&
		(x.level[0].forward == nil || zless(score, x.member, x.level[0].forward.score, x.level[0].forward.member)) {
		x.score = score
		return
	}
	sl.unlink(x)
	x.score = score
	sl.link(x)
}

// byRank returns the node of 1-based rank r, nil if out of range.
func (sl *zskiplist) byRank(r int) *zslNode {
	x, traversed := sl.header, 0
	for i := sl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= r {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == r {
			return x
		}
	}
	return nil
}

// search counts the members before the first for which pred holds.
func (sl *zskiplist) search(pred func(m []byte, score float64) bool) int {
	x, rank := sl.header, 0
	for i := sl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && !pred(bytesOf(f.member), f.score); f = x.level[i].forward {
			rank += x.level[i].span
			x = f
		}
	}
	return rank
}

// walk calls fn from rank start (0-based, from the end when rev).
func (sl *zskiplist) walk(start int, rev bool, fn func(m []byte, score float64) bool) {
	r := start + 1
	if rev {
		r = sl.length - start
	}
	for x := sl.byRank(r); x != nil; {
		if !fn(bytesOf(x.member), x.score) {
			return
		}
		if rev {
			x = x.backward
		} else {
			x = x.level[0].forward
		}
	}
}

func (sl *zskiplist) scan(cursor uint64, count int, fn func(m []byte, score float64)) uint64 {
	i := cursor
	for visited := 0; visited < count && i < uint64(len(sl.slots)); i++ {
		if x := sl.slots[i]; x != nil {
			fn(bytesOf(x.member), x.score)
			visited++
		}
	}
	if i >= uint64(len(sl.slots)) {
		return 0
	}
	return i
}

// clone copies the skiplist: the same members in the same slots.
func (sl *zskiplist) clone() *zskiplist {
	// A copy of the structure in one walk of the bottom level, O(n):
	// inserting each member again walked the list from the top each
	// time, and a sorted set written to while a snapshot is taken is
	// cloned once per snapshot (ZADD to a 100k-member set spent a third
	// of its time here).
	c := newSkiplist()
	c.level, c.length, c.bytes = sl.level, sl.length, sl.bytes
	c.dict = make(map[string]*zslNode, len(sl.dict))
	c.slots = make([]*zslNode, len(sl.slots))
	c.free = append(freeSlots(nil), sl.free...)
	var last [zslMaxLevel]*zslNode // per level, the node whose link is set next
	for i := range c.header.level {
		c.header.level[i].span = sl.header.level[i].span
		last[i] = c.header
	}
	var prev *zslNode
	for x := sl.header.level[0].forward; x != nil; x = x.level[0].forward {
		n := newZslNode(x.member, x.score, len(x.level))
		n.backward, n.slot = prev, x.slot
		for i := range n.level {
			last[i].level[i].forward = n
			n.level[i].span = x.level[i].span
			last[i] = n
		}
		c.dict[n.member] = n
		c.slots[n.slot] = n
		prev = n
	}
	c.tail = prev
	return c
}

// addAt inserts a member with a given slot, which the caller records.
func (sl *zskiplist) addAt(m string, score float64, slot uint32) *zslNode {
	saved := sl.slots
	sl.slots = nil
	x := sl.add(m, score)
	sl.slots = saved
	x.slot = slot
	return x
}

// bytesOf views s as bytes; callers never modify them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
