package keyspace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// The list kind. Redis 7.0 keeps every list as a quicklist (OBJECT
// ENCODING answers "quicklist" whatever the size): a deque of nodes, each
// a listpack of at most list-max-listpack-size. This is the same shape: a
// ring of nodes, each a packed buffer of entries (list_node.go), so an
// element costs its bytes and two more, pushes and pops at either end are
// O(1) amortized, and LINDEX walks node counts before it walks entries.
// The node limit is the applying node's (passed as fill to every change
// that may grow a node), as Redis reads its own configuration; a node's
// layout is a representation, never visible in a reply.

// List is a list value. Change it only inside DB.Update.
type List struct {
	// ring holds the nodes from head, wrapping around; its length is 0
	// or a power of two.
	ring  []listNode
	head  int32
	nn    int32 // nodes in use
	count int   // elements
	// mem is the memory of the ring and the node buffers, kept as they
	// change so Size is O(1).
	mem int64
}

const (
	listBytes     = int64(unsafe.Sizeof(List{}))
	listNodeBytes = int(unsafe.Sizeof(listNode{}))
)

// NewList returns an empty list.
func NewList() *List { return &List{} }

// Kind implements Object.
func (l *List) Kind() Kind { return KindList }

// Encoding implements Object: always quicklist, as in Redis 7.0.
func (l *List) Encoding() Encoding { return EncQuicklist }

// Len implements Object.
func (l *List) Len() int { return l.count }

// Size implements Object.
func (l *List) Size() int64 { return allocSize(int(listBytes)) + l.mem }

// Clone implements Object. The copy shares the node buffers, each
// marked shared so that whichever list changes a node first copies it:
// a snapshot's copy of a list about to change costs its ring, not its
// bytes. Both lists count the buffers, as two lists would hold them.
func (l *List) Clone() Object {
	c := &List{count: l.count}
	if l.nn == 0 {
		return c
	}
	c.growRing(int(l.nn))
	for i := range int(l.nn) {
		nd := l.node(i)
		atomic.StoreUint32(&nd.shared, 1)
		c.ring[i] = listNode{buf: nd.buf, n: nd.n, shared: 1}
		c.mem += allocSize(cap(nd.buf))
	}
	c.nn = l.nn
	return c
}

// node returns node i (0: the head).
func (l *List) node(i int) *listNode {
	return &l.ring[(int(l.head)+i)&(len(l.ring)-1)]
}

// growRing reallocates the ring to hold at least n nodes, in order from
// index 0.
func (l *List) growRing(n int) {
	size := 1
	for size < n {
		size *= 2
	}
	nr := make([]listNode, size)
	for i := range int(l.nn) {
		nr[i] = *l.node(i)
	}
	l.mem += allocSize(size*listNodeBytes) - allocSize(len(l.ring)*listNodeBytes)
	l.ring, l.head = nr, 0
}

// insertNode puts nd at position i (0..nn), moving the nodes on the
// shorter side.
func (l *List) insertNode(i int, nd listNode) {
	if int(l.nn) == len(l.ring) {
		l.growRing(int(l.nn) + 1)
	}
	mask := len(l.ring) - 1
	if i < int(l.nn)/2 {
		l.head = int32((int(l.head) - 1) & mask)
		for k := 0; k < i; k++ {
			*l.node(k) = *l.node(k + 1)
		}
	} else {
		for k := int(l.nn); k > i; k-- {
			l.ring[(int(l.head)+k)&mask] = *l.node(k - 1)
		}
	}
	l.nn++
	*l.node(i) = nd
	l.mem += allocSize(cap(nd.buf))
}

// removeNode drops node i, freeing its buffer.
func (l *List) removeNode(i int) {
	l.mem -= allocSize(cap(l.node(i).buf))
	if i < int(l.nn)/2 {
		for k := i; k > 0; k-- {
			*l.node(k) = *l.node(k - 1)
		}
		*l.node(0) = listNode{}
		l.head = int32((int(l.head) + 1) & (len(l.ring) - 1))
	} else {
		for k := i; k < int(l.nn)-1; k++ {
			*l.node(k) = *l.node(k + 1)
		}
		*l.node(int(l.nn) - 1) = listNode{}
	}
	l.nn--
	switch {
	case l.nn == 0:
		l.mem -= allocSize(len(l.ring) * listNodeBytes)
		l.ring, l.head = nil, 0
	case len(l.ring) >= 8 && int(l.nn) <= len(l.ring)/4:
		l.growRing(len(l.ring) / 2)
	}
}

// newNode returns a node holding e alone.
func newNode(e []byte) listNode {
	sz := entryLen(len(e))
	nd := listNode{buf: make([]byte, sz, bufCap(sz)), n: 1}
	putEntry(nd.buf, e)
	return nd
}

// AppendSnapshot implements Object: the node count, then each node's
// entry count and packed bytes, so a restore is a copy per node.
func (l *List) AppendSnapshot(b []byte) []byte {
	l.encodeSnapshot(func(p []byte) { b = append(b, p...) })
	return b
}

// encodeSnapshot hands AppendSnapshot's bytes to put, in order, a node's
// buffer as it is.
func (l *List) encodeSnapshot(put func([]byte)) {
	var tmp [2 * binary.MaxVarintLen64]byte
	put(binary.AppendUvarint(tmp[:0], uint64(l.nn)))
	for i := range int(l.nn) {
		nd := l.node(i)
		put(binary.AppendUvarint(binary.AppendUvarint(tmp[:0], uint64(nd.n)), uint64(len(nd.buf))))
		put(nd.buf)
	}
}

// streamForSnapshot returns, for a list big enough that a snapshot's
// writer should not encode it under the read lock, a copy that stays as
// it is (a clone: O(nodes), the buffers shared until changed) and its
// encoding's length; ok is false for a smaller list.
func (l *List) streamForSnapshot() (frozen *List, n int, ok bool) {
	if l.mem < snapshotDirect {
		return nil, 0, false
	}
	frozen = l.Clone().(*List)
	frozen.encodeSnapshot(func(p []byte) { n += len(p) })
	return frozen, n, true
}

var errBadList = errors.New("bad list")

// decodeList reads AppendSnapshot's bytes. Every node is checked entry by
// entry, and nothing is allocated beyond the input's size.
func decodeList(enc Encoding, data []byte) (Object, error) {
	if enc != EncQuicklist {
		return nil, fmt.Errorf("list encoding %d", enc)
	}
	nn, k := binary.Uvarint(data)
	// A node takes 4 bytes at least: its two counts and one entry.
	if k <= 0 || nn == 0 || nn > uint64(len(data)-k)/4 {
		return nil, errBadList
	}
	data = data[k:]
	l := &List{}
	l.growRing(int(nn))
	for i := range int(nn) {
		n, k1 := binary.Uvarint(data)
		if k1 <= 0 || n == 0 || n > 1<<31-1 {
			return nil, errBadList
		}
		size, k2 := binary.Uvarint(data[k1:])
		if k2 <= 0 || size > uint64(len(data)-k1-k2) {
			return nil, errBadList
		}
		raw := data[k1+k2 : k1+k2+int(size)]
		if !validNode(raw, n) {
			return nil, errBadList
		}
		buf := make([]byte, len(raw), allocSize(len(raw)))
		copy(buf, raw)
		l.ring[i] = listNode{buf: buf, n: int32(n)}
		l.mem += allocSize(cap(buf))
		l.nn++
		l.count += int(n)
		data = data[k1+k2+int(size):]
	}
	if len(data) != 0 {
		return nil, errBadList
	}
	return l, nil
}
