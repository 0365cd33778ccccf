package keyspace

import "bytes"

// The list operations. fill is list-max-listpack-size (the store's
// EncodingLimits().ListMaxListpackSize), given to every change that may
// grow a node or let two nodes become one. Node pointers do not survive
// insertNode or removeNode (the ring may move): the code below takes them
// again after either.

// Push adds e at the head, or at the tail.
func (l *List) Push(e []byte, tail bool, fill int64) {
	l.count++
	if l.nn > 0 {
		i, off := 0, 0
		if tail {
			i = int(l.nn) - 1
		}
		nd := l.node(i)
		if tail {
			off = len(nd.buf)
		}
		if nodeFits(len(nd.buf)+entryLen(len(e)), int(nd.n)+1, fill) {
			l.insertEntry(nd, off, e)
			return
		}
	}
	i := 0
	if tail {
		i = int(l.nn)
	}
	l.insertNode(i, newNode(e))
}

// Pop removes the element at the head (or the tail) and returns a copy of
// it; nil if the list is empty.
func (l *List) Pop(tail bool) []byte {
	if l.count == 0 {
		return nil
	}
	ni := 0
	if tail {
		ni = int(l.nn) - 1
	}
	nd := l.node(ni)
	var e []byte
	from, to := 0, len(nd.buf)
	if tail {
		e, from = entryBefore(nd.buf, to)
	} else {
		e, to = entryAt(nd.buf, 0)
	}
	out := append([]byte{}, e...)
	l.count--
	if nd.n == 1 {
		l.removeNode(ni)
	} else {
		l.cut(nd, from, to, 1)
	}
	return out
}

// PopN removes up to n elements from the head (or the tail) and returns
// copies of them in the order they were popped.
func (l *List) PopN(n int, tail bool, fill int64) [][]byte {
	n = min(n, l.count)
	if n <= 0 {
		return nil
	}
	out := make([][]byte, 0, n)
	start := 0
	if tail {
		start = l.count - 1
	}
	// The elements first as the list's own bytes, then copied into one
	// allocation before the range goes.
	size := 0
	it := l.Iter(start, tail)
	for range n {
		e, _ := it.Next()
		out = append(out, e)
		size += len(e)
	}
	buf := make([]byte, 0, size)
	for i, e := range out {
		buf = append(buf, e...)
		out[i] = buf[len(buf)-len(e) : len(buf) : len(buf)]
	}
	if tail {
		start = l.count - n
	}
	l.DelRange(start, n, fill)
	return out
}

// locate returns the node holding element i (0 <= i < Len) and i's
// position in it, walking node counts from the nearer end.
func (l *List) locate(i int) (ni, j int) {
	if i < l.count/2 {
		for ni = 0; ; ni++ {
			if n := int(l.node(ni).n); i < n {
				return ni, i
			} else {
				i -= n
			}
		}
	}
	i = l.count - 1 - i // from the tail
	for ni = int(l.nn) - 1; ; ni-- {
		if n := int(l.node(ni).n); i < n {
			return ni, n - 1 - i
		} else {
			i -= n
		}
	}
}

// Index returns element i, counted from the tail (-1 the last) when
// negative; false when out of range. The bytes are the list's own: use
// them under the lock, before any change.
func (l *List) Index(i int) ([]byte, bool) {
	if i < 0 {
		i += l.count
	}
	if i < 0 || i >= l.count {
		return nil, false
	}
	it := l.Iter(i, false)
	return it.Next()
}

// Set replaces element i (negative: from the tail); false when out of
// range.
func (l *List) Set(i int, e []byte, fill int64) bool {
	if i < 0 {
		i += l.count
	}
	if i < 0 || i >= l.count {
		return false
	}
	ni, j := l.locate(i)
	nd := l.node(ni)
	off := nd.offsetOf(j)
	_, next := entryAt(nd.buf, off)
	if nd.n == 1 || nodeFits(len(nd.buf)-(next-off)+entryLen(len(e)), int(nd.n), fill) {
		l.replaceEntry(nd, off, next, e)
		return true
	}
	// Too big for its node now: out, and in again as an insert, which
	// splits the node.
	l.cut(nd, off, next, 1)
	l.insertAt(ni, off, e, fill)
	return true
}

// ListPos is an element's place in a list, found by Find; valid until
// the list changes.
type ListPos struct{ ni, off, next int }

// Find returns the place of the first element equal to e, walking from
// the head (or, with fromTail, the last one, walking from the tail).
func (l *List) Find(e []byte, fromTail bool) (ListPos, bool) {
	if fromTail {
		for ni := int(l.nn) - 1; ni >= 0; ni-- {
			nd := l.node(ni)
			for end := len(nd.buf); end > 0; {
				v, start := entryBefore(nd.buf, end)
				if bytes.Equal(v, e) {
					return ListPos{ni, start, end}, true
				}
				end = start
			}
		}
		return ListPos{}, false
	}
	for ni := range int(l.nn) {
		nd := l.node(ni)
		for off := 0; off < len(nd.buf); {
			v, next := entryAt(nd.buf, off)
			if bytes.Equal(v, e) {
				return ListPos{ni, off, next}, true
			}
			off = next
		}
	}
	return ListPos{}, false
}

// Insert puts e before (or after) the element at p, as LINSERT does.
func (l *List) Insert(p ListPos, e []byte, after bool, fill int64) {
	off := p.off
	if after {
		off = p.next
	}
	l.insertAt(p.ni, off, e, fill)
	l.count++
}

// insertAt puts e at byte offset pos of node ni: in that node if it has
// room, else in the neighbour at that end, else in a node of its own,
// splitting node ni when pos is inside it. It does not count e.
func (l *List) insertAt(ni, pos int, e []byte, fill int64) {
	nd := l.node(ni)
	sz := entryLen(len(e))
	fits := func(nd *listNode) bool { return nodeFits(len(nd.buf)+sz, int(nd.n)+1, fill) }
	switch {
	case fits(nd):
		l.insertEntry(nd, pos, e)
		return
	case pos == len(nd.buf):
		if ni+1 < int(l.nn) && fits(l.node(ni+1)) {
			l.insertEntry(l.node(ni+1), 0, e)
		} else {
			l.insertNode(ni+1, newNode(e))
		}
		return
	case pos == 0:
		if ni > 0 && fits(l.node(ni-1)) {
			prev := l.node(ni - 1)
			l.insertEntry(prev, len(prev.buf), e)
		} else {
			l.insertNode(ni, newNode(e))
		}
		return
	}
	// Split at pos; e goes to the end of the first half or the start of
	// the second, whichever has room, or between them.
	j := 0
	for off := 0; off < pos; j++ {
		_, off = entryAt(nd.buf, off)
	}
	rest := listNode{buf: make([]byte, len(nd.buf)-pos, bufCap(len(nd.buf)-pos)), n: nd.n - int32(j)}
	copy(rest.buf, nd.buf[pos:])
	l.resize(nd, pos)
	nd.n = int32(j)
	l.insertNode(ni+1, rest)
	if first := l.node(ni); fits(first) {
		l.insertEntry(first, pos, e)
	} else if second := l.node(ni + 1); fits(second) {
		l.insertEntry(second, 0, e)
	} else {
		l.insertNode(ni+1, newNode(e))
	}
}

// Remove removes the elements equal to e, at most |count| of them (all
// when count is 0), the first ones or, for a negative count, the last
// ones; it returns how many it removed.
func (l *List) Remove(e []byte, count int64, fill int64) int {
	limit := count
	if limit < 0 {
		limit = -limit // math.MinInt64 stays negative: all, as in Redis
	}
	if limit < 0 {
		limit = 0
	}
	removed := 0
	var offs []int
	ni, step := 0, 1
	if count < 0 {
		ni, step = int(l.nn)-1, -1
	}
	for ni >= 0 && ni < int(l.nn) && (limit == 0 || int64(removed) < limit) {
		nd := l.node(ni)
		offs = offs[:0]
		for off := 0; off < len(nd.buf); {
			v, next := entryAt(nd.buf, off)
			if bytes.Equal(v, e) {
				offs = append(offs, off)
			}
			off = next
		}
		if want := limit - int64(removed); limit != 0 && int64(len(offs)) > want {
			if count > 0 {
				offs = offs[:want]
			} else {
				offs = offs[int64(len(offs))-want:]
			}
		}
		if len(offs) == 0 {
			ni += step
			continue
		}
		// Close the gaps left to right.
		l.own(nd)
		w := offs[0]
		for k, o := range offs {
			_, next := entryAt(nd.buf, o)
			end := len(nd.buf)
			if k+1 < len(offs) {
				end = offs[k+1]
			}
			w += copy(nd.buf[w:], nd.buf[next:end])
		}
		l.resize(nd, w)
		nd.n -= int32(len(offs))
		removed += len(offs)
		if nd.n == 0 {
			l.removeNode(ni)
			if step > 0 {
				continue // the next node has taken index ni
			}
		}
		ni += step
	}
	l.count -= removed
	if removed > 0 {
		l.compact(fill)
	}
	return removed
}

// DelRange removes n elements from index start on (both in range).
func (l *List) DelRange(start, n int, fill int64) {
	if n <= 0 {
		return
	}
	first, j := l.locate(start)
	ni := first
	for left := n; left > 0; {
		nd := l.node(ni)
		k := min(left, int(nd.n)-j)
		left -= k
		if j == 0 && k == int(nd.n) {
			l.removeNode(ni)
			continue
		}
		from, to := nd.offsetOf(j), len(nd.buf)
		if j+k < int(nd.n) {
			to = from
			for range k {
				_, to = entryAt(nd.buf, to)
			}
		}
		l.cut(nd, from, to, k)
		ni++
		j = 0
	}
	l.count -= n
	// The nodes on either side of the cut may now fit in one.
	l.mergeAt(first, fill)
	l.mergeAt(first-1, fill)
}

// mergeAt joins nodes i and i+1 when one node can hold both, and reports
// whether it did.
func (l *List) mergeAt(i int, fill int64) bool {
	if i < 0 || i+1 >= int(l.nn) {
		return false
	}
	a, b := l.node(i), l.node(i+1)
	if !nodeFits(len(a.buf)+len(b.buf), int(a.n+b.n), fill) {
		return false
	}
	old := len(a.buf)
	l.resize(a, old+len(b.buf)) // owns a
	copy(a.buf[old:], b.buf)
	a.n += b.n
	l.removeNode(i + 1)
	return true
}

// compact joins neighbouring nodes that fit in one, as removals in the
// middle of a list may leave many small nodes.
func (l *List) compact(fill int64) {
	for i := 0; i+1 < int(l.nn); {
		if !l.mergeAt(i, fill) {
			i++
		}
	}
}

// ListIter walks a list from an element towards the tail or the head.
// It is valid until the list changes.
type ListIter struct {
	l       *List
	ni      int // current node; out of range when done
	off     int // forward: the next entry's offset; backward: its end
	reverse bool
}

// Iter returns an iterator at element i (0 <= i < Len; anything else
// gives an iterator that is done), going to the tail or, with reverse,
// to the head.
func (l *List) Iter(i int, reverse bool) ListIter {
	if i < 0 || i >= l.count {
		return ListIter{l: l, ni: -1}
	}
	ni, j := l.locate(i)
	nd := l.node(ni)
	if reverse {
		j++
	}
	return ListIter{l: l, ni: ni, off: nd.offsetOf(j), reverse: reverse}
}

// Next returns the next element (the list's own bytes), or false when
// done.
func (it *ListIter) Next() ([]byte, bool) {
	if it.ni < 0 || it.ni >= int(it.l.nn) {
		return nil, false
	}
	nd := it.l.node(it.ni)
	if !it.reverse {
		e, next := entryAt(nd.buf, it.off)
		it.off = next
		if next == len(nd.buf) {
			it.ni, it.off = it.ni+1, 0
		}
		return e, true
	}
	e, start := entryBefore(nd.buf, it.off)
	it.off = start
	if start == 0 {
		if it.ni--; it.ni >= 0 {
			it.off = len(it.l.node(it.ni).buf)
		}
	}
	return e, true
}
