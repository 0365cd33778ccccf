package keyspace

import (
	"encoding/binary"
	"errors"
)

// Hash-field expiry, as Redis 7.4 has it: a field may carry a deadline
// (absolute unix ms, decided by the leader and carried in the op). Past
// it the field is invisible to every read given a time and treated as
// absent by writes; only the leader deletes it, by proposing the
// deletion (DB.SampleExpiredFields). A hash whose every field has
// expired reads as an absent key (expired in db.go).

// expired reports whether the field's deadline has passed at now, as a
// key's: at or after the deadline.
func (p *hashPair) expired(now int64) bool { return p.exp != 0 && p.exp <= now }

// visible reports whether the pair is a field not expired at now.
func (p *hashPair) visible(now int64) bool { return !p.dead && !p.expired(now) }

// findLive is find for a field not expired at now.
func (h *hashPairs) findLive(field []byte, now int64) int {
	if i := h.find(field); i >= 0 && !h.pairs[i].expired(now) {
		return i
	}
	return -1
}

// setExp sets the deadline of the field at i (0: none), keeping the count
// of fields with one and the earliest and latest deadlines.
func (h *hashPairs) setExp(i int, exp int64) {
	p := &h.pairs[i]
	old := p.exp
	if old == exp {
		return
	}
	p.exp = exp
	switch {
	case old == 0:
		h.ttls++
	case exp == 0:
		h.ttls--
	}
	if exp != 0 && (h.minExp == 0 || exp < h.minExp) {
		h.minExp = exp
	}
	if exp > h.maxExp {
		h.maxExp = exp
	}
	if old != 0 && (old == h.minExp || old == h.maxExp) {
		h.stale = true // settle finds the new bounds, once per change
	}
}

// settle recomputes the earliest and latest deadlines after a change
// that may have removed one: DB.Update calls it after each change, so a
// batch of deletions costs one pass over the fields, not one each.
func (h *Hash) settle() {
	if h.t != nil {
		h.t.settle()
	}
}

func (h *hashPairs) settle() {
	if !h.stale {
		return
	}
	h.stale = false
	h.minExp, h.maxExp = 0, 0
	if h.ttls == 0 {
		return
	}
	for i := range h.pairs {
		if p := &h.pairs[i]; !p.dead && p.exp != 0 {
			if h.minExp == 0 || p.exp < h.minExp {
				h.minExp = p.exp
			}
			h.maxExp = max(h.maxExp, p.exp)
		}
	}
}

// allExpired reports whether every field has expired at now: the hash
// then reads as an absent key. maxExp may only be too late (stale until
// settle), which errs on the side of the key being there.
func (h *Hash) allExpired(now int64) bool {
	t := h.t
	return t != nil && t.ttls != 0 && t.ttls == t.live && t.maxExp <= now
}

// Visible returns the number of fields not expired at now. Len counts
// the fields not deleted yet, as Redis 7.4's HLEN does.
func (h *Hash) Visible(now int64) int {
	if h.t == nil {
		return int(h.cnt)
	}
	return h.t.visible(now)
}

func (h *hashPairs) visible(now int64) int {
	if h.ttls == 0 {
		return h.live
	}
	n := 0
	for i := range h.pairs {
		if h.pairs[i].visible(now) {
			n++
		}
	}
	return n
}

// FieldDeadlines returns the number of fields with a deadline.
func (h *Hash) FieldDeadlines() int {
	if h.t == nil {
		return 0
	}
	return h.t.ttls
}

// FieldDeadline returns field's deadline (0: none); found is false when
// the field is absent or expired at now.
func (h *Hash) FieldDeadline(field []byte, now int64) (deadline int64, found bool) {
	if h.t == nil {
		_, found = h.packGet(field)
		return 0, found
	}
	if i := h.t.findLive(field, now); i >= 0 {
		return h.t.pairs[i].exp, true
	}
	return 0, false
}

// SetFieldDeadline sets field's deadline (0 removes it); false when the
// field is absent or expired at now. A listpack given a deadline becomes
// a "listpackex", as in Redis 7.4, and stays one.
func (h *Hash) SetFieldDeadline(field []byte, deadline, now int64) bool {
	if h.t == nil {
		if _, found := h.packGet(field); !found || deadline == 0 {
			return found
		}
		h.toPairs(EncListpackEx)
	}
	i := h.t.findLive(field, now)
	if i < 0 {
		return false
	}
	h.t.setExp(i, deadline)
	return true
}

// ExpiredFields returns up to n fields expired at now; a hash whose
// earliest deadline is later answers at once.
func (h *Hash) ExpiredFields(n int, now int64) [][]byte {
	if h.t == nil || h.t.ttls == 0 || h.t.minExp > now {
		return nil
	}
	return h.t.expiredFields(n, now)
}

func (h *hashPairs) expiredFields(n int, now int64) [][]byte {
	var out [][]byte
	for i := range h.pairs {
		if p := &h.pairs[i]; !p.dead && p.expired(now) {
			if out = append(out, []byte(p.field)); len(out) == n {
				break
			}
		}
	}
	return out
}

// appendDeadlines appends, when some fields have a deadline, their
// number, then each one's position among the fields written and its
// deadline.
func (h *hashPairs) appendDeadlines(b []byte) []byte {
	if h.ttls == 0 {
		return b
	}
	b = binary.AppendUvarint(b, uint64(h.ttls))
	pos := 0
	for i := range h.pairs {
		p := &h.pairs[i]
		if p.dead {
			continue
		}
		if p.exp != 0 {
			b = binary.AppendUvarint(b, uint64(pos))
			b = binary.AppendUvarint(b, uint64(p.exp))
		}
		pos++
	}
	return b
}

// decodeDeadlines reads what appendDeadlines wrote, if anything: a
// snapshot written before field deadlines existed ends with the fields.
func (h *hashPairs) decodeDeadlines(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	n, k := binary.Uvarint(data)
	if k <= 0 || n == 0 || n > uint64(h.live) {
		return errors.New("bad hash deadline count")
	}
	data = data[k:]
	next := -1
	for range n {
		pos, k := binary.Uvarint(data)
		if k <= 0 || pos >= uint64(len(h.pairs)) || int(pos) <= next {
			return errors.New("bad hash deadline position")
		}
		data = data[k:]
		exp, k := binary.Uvarint(data)
		if k <= 0 || exp == 0 || exp > 1<<62 {
			return errors.New("bad hash deadline")
		}
		data = data[k:]
		next = int(pos)
		h.setExp(next, int64(exp))
	}
	if len(data) != 0 {
		return errors.New("bytes after a hash")
	}
	h.settle()
	return nil
}

// FieldExpired reports whether field is there with a deadline at or
// before now (active expiry's check before deleting it).
func (h *Hash) FieldExpired(field []byte, now int64) bool {
	if h.t == nil {
		return false
	}
	i := h.t.find(field)
	return i >= 0 && h.t.pairs[i].expired(now)
}
