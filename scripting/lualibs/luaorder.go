package lualibs

import (
	"math"
	"math/bits"

	lua "github.com/yuin/gopher-lua"
)

// This file reproduces the order in which Redis's Lua 5.1 (ltable.c) hands
// out a table's keys with lua_next, which is the order cjson writes object
// members and cmsgpack writes map entries in.
//
// A gopher-lua table does not keep C Lua's layout, so the layout is rebuilt
// by replaying the table's live keys into a simulated Lua 5.1 table that
// starts empty (lua_newtable) and grows by rehashing, exactly as ltable.c
// does: array part sizing (computesizes), node vector sizes, main positions
// (Redis hashes every byte of a string), collision chains and the lastfree
// pointer. The replay order is gopher-lua's: array-part integer keys
// ascending, then the other keys in first-insertion order. That is the
// history of a table built by cjson.decode, cmsgpack.unpack or assignments
// to an empty table; a table literal is presized in C Lua instead, which
// can place colliding keys differently.

const maxABits = 26 // MAXBITS: the array part holds keys 1..2^26

// l51Key is a key with what its main position needs: the hash, and whether
// it is reduced by power of two (strings, booleans) or by modulo (numbers
// and addresses).
type l51Key struct {
	key  lua.LValue
	h    uint32
	mod  bool
	zero bool // the number 0 always lives in node 0
	ai   int  // arrayindex of the key
}

type l51Node struct {
	k      l51Key
	hasKey bool
	hasVal bool
	next   int // index of the next node in the chain, -1 for none
}

type l51Table struct {
	array    []bool // which array slots hold a value
	node     []l51Node
	lastfree int
}

// ceillog2 is Lua's ceillog2 for x >= 1.
func ceillog2(x int) int { return bits.Len32(uint32(x - 1)) }

// luaStrHash is luaS_newlstr's hash in Redis 7.0 (step 1: every byte).
func luaStrHash(s string) uint32 {
	h := uint32(len(s))
	for i := len(s); i >= 1; i-- {
		h ^= (h << 5) + (h >> 2) + uint32(s[i-1])
	}
	return h
}

// arrayIndex is ltable.c's arrayindex: the int value of an integral number
// key, or -1.
func arrayIndex(k lua.LValue) int {
	n, ok := k.(lua.LNumber)
	if !ok {
		return -1
	}
	i := cInt32(float64(n))
	if float64(i) != float64(n) {
		return -1
	}
	return int(i)
}

// newL51Key hashes k as ltable.c's mainposition does; seq stands in for
// the address of a collectable key, which C Lua hashes and which is
// arbitrary anyway.
func newL51Key(k lua.LValue, seq int) l51Key {
	key := l51Key{key: k, ai: arrayIndex(k)}
	switch x := k.(type) {
	case lua.LNumber:
		f := float64(x)
		if f == 0 {
			key.zero = true
			break
		}
		b := math.Float64bits(f)
		key.h, key.mod = uint32(b)+uint32(b>>32), true
	case lua.LString:
		key.h = luaStrHash(string(x))
	case lua.LBool:
		if x {
			key.h = 1
		}
	default:
		key.h, key.mod = uint32(seq)*2654435761, true
	}
	return key
}

func (t *l51Table) mainPosition(k *l51Key) int {
	size := uint32(len(t.node))
	switch {
	case k.zero:
		return 0
	case k.mod:
		return int(k.h % ((size - 1) | 1))
	}
	return int(k.h & (size - 1))
}

func (t *l51Table) setNodeVector(size int) {
	if size == 0 {
		t.node = nil
		t.lastfree = 0
		return
	}
	size = 1 << ceillog2(size)
	t.node = make([]l51Node, size)
	for i := range t.node {
		t.node[i].next = -1
	}
	t.lastfree = size
}

func (t *l51Table) getFreePos() int {
	for t.lastfree > 0 {
		t.lastfree--
		if !t.node[t.lastfree].hasKey {
			return t.lastfree
		}
	}
	return -1
}

// set is luaH_set for a key the table does not hold yet.
func (t *l51Table) set(k l51Key) {
	if k.ai >= 1 && k.ai <= len(t.array) {
		t.array[k.ai-1] = true
		return
	}
	t.newKey(k)
}

// newKey is ltable.c's newkey.
func (t *l51Table) newKey(k l51Key) {
	if len(t.node) == 0 {
		t.rehash(k)
		t.set(k)
		return
	}
	mp := t.mainPosition(&k)
	if t.node[mp].hasVal {
		n := t.getFreePos()
		if n < 0 {
			t.rehash(k)
			t.set(k)
			return
		}
		othern := t.mainPosition(&t.node[mp].k)
		if othern != mp {
			for t.node[othern].next != mp {
				othern = t.node[othern].next
			}
			t.node[othern].next = n
			t.node[n] = t.node[mp]
			t.node[mp].next = -1
			t.node[mp].hasVal = false
		} else {
			t.node[n].next = t.node[mp].next
			t.node[mp].next = n
			mp = n
		}
	}
	t.node[mp].k = k
	t.node[mp].hasKey = true
	t.node[mp].hasVal = true
}

func countInt(k *l51Key, nums *[maxABits + 1]int) int {
	if i := k.ai; i > 0 && i <= 1<<maxABits {
		nums[ceillog2(i)]++
		return 1
	}
	return 0
}

func computeSizes(nums *[maxABits + 1]int, narray *int) int {
	a, na, n := 0, 0, 0
	for i, twotoi := 0, 1; twotoi/2 < *narray; i, twotoi = i+1, twotoi*2 {
		if nums[i] > 0 {
			a += nums[i]
			if a > twotoi/2 {
				n = twotoi
				na = a
			}
		}
		if a == *narray {
			break
		}
	}
	*narray = n
	return na
}

// rehash is ltable.c's rehash for extra key ek.
func (t *l51Table) rehash(ek l51Key) {
	var nums [maxABits + 1]int
	nasize := 0
	// numusearray
	for lg, ttlg, i := 0, 1, 1; lg <= maxABits; lg, ttlg = lg+1, ttlg*2 {
		lim := ttlg
		if lim > len(t.array) {
			lim = len(t.array)
			if i > lim {
				break
			}
		}
		for ; i <= lim; i++ {
			if t.array[i-1] {
				nums[lg]++
				nasize++
			}
		}
	}
	totaluse := nasize
	for i := len(t.node) - 1; i >= 0; i-- { // numusehash
		if t.node[i].hasVal {
			nasize += countInt(&t.node[i].k, &nums)
			totaluse++
		}
	}
	nasize += countInt(&ek, &nums)
	totaluse++
	na := computeSizes(&nums, &nasize)
	t.resize(nasize, totaluse-na)
}

func (t *l51Table) resize(nasize, nhsize int) {
	oldarray := t.array
	oldnode := t.node
	if nasize > len(oldarray) {
		grown := make([]bool, nasize)
		copy(grown, oldarray)
		t.array = grown
	}
	t.setNodeVector(nhsize)
	if nasize < len(oldarray) {
		t.array = append([]bool(nil), oldarray[:nasize]...)
		for i := nasize; i < len(oldarray); i++ {
			if oldarray[i] {
				t.set(newL51Key(lua.LNumber(i+1), 0))
			}
		}
	}
	for i := len(oldnode) - 1; i >= 0; i-- {
		if oldnode[i].hasVal {
			t.set(oldnode[i].k)
		}
	}
}

// luaNextOrder returns tb's keys in the order Redis's lua_next would give
// them for a table built by inserting the same keys into an empty table.
func luaNextOrder(tb *lua.LTable) []lua.LValue {
	var keys []lua.LValue
	for k, _ := tb.Next(lua.LNil); k != lua.LNil; k, _ = tb.Next(k) {
		keys = append(keys, k)
	}
	if len(keys) < 2 {
		return keys
	}
	t := &l51Table{}
	for i, k := range keys {
		t.set(newL51Key(k, i))
	}
	order := make([]lua.LValue, 0, len(keys))
	for i, used := range t.array {
		if used {
			order = append(order, lua.LNumber(i+1))
		}
	}
	for _, n := range t.node {
		if n.hasVal {
			order = append(order, n.k.key)
		}
	}
	return order
}
