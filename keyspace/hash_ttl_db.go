package keyspace

// The databases' index of hashes with field deadlines, which active
// expiry samples as it samples DB.vol for keys.

// noteFieldTTL keeps slot in or out of d.fttl after its entry changed.
func (d *DB) noteFieldTTL(slot uint32, e *entry) {
	if h, ok := e.obj.(*Hash); ok && h.FieldDeadlines() > 0 {
		if d.fttl == nil {
			d.fttl = make(map[uint32]struct{})
		}
		d.fttl[slot] = struct{}{}
		return
	}
	delete(d.fttl, slot)
}

// FieldExpiry names fields of one hash that have expired.
type FieldExpiry struct {
	Key    []byte
	Fields [][]byte
}

// HashesWithFieldDeadlines returns the number of hashes with field
// deadlines.
func (d *DB) HashesWithFieldDeadlines() int { return len(d.fttl) }

// SampleExpiredFields returns up to n fields expired at now, grouped by
// hash, looking at no more than 20*n hashes with field deadlines. The
// leader proposes their deletion; this changes nothing by itself.
func (d *DB) SampleExpiredFields(n int, now int64) []FieldExpiry {
	if len(d.fttl) == 0 {
		return nil
	}
	var out []FieldExpiry
	look := 20 * n
	// A map's iteration starts at a random place: the sample is spread
	// over the hashes without a pass over all of them.
	for slot := range d.fttl {
		if look == 0 || n == 0 {
			break
		}
		look--
		e := d.slotEntry(slot)
		h := e.obj.(*Hash)
		if fs := h.ExpiredFields(n, now); len(fs) > 0 {
			out = append(out, FieldExpiry{Key: []byte(e.kv[:e.klen]), Fields: fs})
			n -= len(fs)
		}
	}
	return out
}
