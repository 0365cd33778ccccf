// Package memcopy copies large byte strings in pieces. A copy is one
// memmove, which the Go scheduler cannot preempt: copying 200 MB (into
// fresh memory, page faulting, on a busy machine) took 640 ms, and when a
// garbage collection needed every goroutine to reach a safe point
// meanwhile, the whole process stopped with it, Raft's heartbeats
// included, and the node lost its leadership. Each piece is copied by a
// function call whose prologue honours a pending preemption, so the
// process waits for one piece at most.
package memcopy

// Piece is the most one uninterruptible memmove copies.
const Piece = 256 << 10

// Append appends src to dst, growing dst at most once.
func Append(dst, src []byte) []byte {
	if len(src) <= Piece {
		return append(dst, src...)
	}
	n := len(dst)
	dst = Grow(dst, len(src))[:n+len(src)]
	Copy(dst[n:], src)
	return dst
}

// AppendString is Append for a string.
func AppendString(dst []byte, src string) []byte {
	if len(src) <= Piece {
		return append(dst, src...)
	}
	n := len(dst)
	dst = Grow(dst, len(src))[:n+len(src)]
	for off := 0; off < len(src); off += Piece {
		pieceString(dst[n+off:], src[off:min(off+Piece, len(src))])
	}
	return dst
}

// Copy is the built-in copy.
func Copy(dst, src []byte) int {
	k := min(len(dst), len(src))
	for off := 0; off < k; off += Piece {
		piece(dst[off:k], src[off:min(off+Piece, k)])
	}
	return k
}

// Grow returns dst with room for n more bytes: dst itself if it has the
// room, else a copy (made in pieces) with exactly that room.
func Grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	nd := make([]byte, len(dst), len(dst)+n)
	Copy(nd, dst)
	return nd
}

// piece and pieceString are calls, not inlined, so each checks for a
// pending preemption before its memmove.
//
//go:noinline
func piece(dst, src []byte) { copy(dst, src) }

//go:noinline
func pieceString(dst []byte, src string) { copy(dst, src) }
