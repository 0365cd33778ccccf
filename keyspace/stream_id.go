package keyspace

import (
	"math"
	"strconv"
)

// StreamID is a stream entry's id: milliseconds and a sequence number.
type StreamID struct{ Ms, Seq uint64 }

// MaxStreamID is the largest id ("+").
var MaxStreamID = StreamID{math.MaxUint64, math.MaxUint64}

// Cmp compares two ids: -1, 0 or 1.
func (a StreamID) Cmp(b StreamID) int {
	switch {
	case a.Ms < b.Ms:
		return -1
	case a.Ms > b.Ms:
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// Less reports whether a comes before b.
func (a StreamID) Less(b StreamID) bool { return a.Cmp(b) < 0 }

// IsZero reports whether the id is 0-0.
func (a StreamID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// Incr returns the next id; past the largest, 0-0 and false (Redis's
// streamIncrID).
func (a StreamID) Incr() (StreamID, bool) {
	switch {
	case a.Seq < math.MaxUint64:
		a.Seq++
	case a.Ms < math.MaxUint64:
		a.Ms, a.Seq = a.Ms+1, 0
	default:
		return StreamID{}, false
	}
	return a, true
}

// Decr returns the previous id, false before 0-0 (streamDecrID).
func (a StreamID) Decr() (StreamID, bool) {
	switch {
	case a.Seq > 0:
		a.Seq--
	case a.Ms > 0:
		a.Ms, a.Seq = a.Ms-1, math.MaxUint64
	default:
		return a, false
	}
	return a, true
}

// Append appends the id as Redis prints it, "ms-seq".
func (a StreamID) Append(b []byte) []byte {
	b = strconv.AppendUint(b, a.Ms, 10)
	b = append(b, '-')
	return strconv.AppendUint(b, a.Seq, 10)
}

// String returns "ms-seq".
func (a StreamID) String() string { return string(a.Append(nil)) }

// ParseStreamID parses an id as Redis's streamGenericParseIDOrReply does:
// "ms-seq", "ms" (the sequence is missingSeq), "-" and "+" unless strict,
// and with star "ms-*" (then seqGiven is false). ok is false for anything
// else.
func ParseStreamID(b []byte, missingSeq uint64, strict, star bool) (id StreamID, seqGiven, ok bool) {
	if len(b) > 127 {
		return id, false, false
	}
	if len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		if strict {
			return id, false, false
		}
		if b[0] == '+' {
			return MaxStreamID, true, true
		}
		return StreamID{}, true, true
	}
	msPart, seqPart, dash := cutByte(b, '-')
	ms, valid := parseUint64(msPart)
	if !valid {
		return id, false, false
	}
	id.Ms, id.Seq, seqGiven = ms, missingSeq, true
	if dash {
		if star && len(seqPart) == 1 && seqPart[0] == '*' {
			id.Seq, seqGiven = 0, false
		} else if id.Seq, valid = parseUint64(seqPart); !valid {
			return id, false, false
		}
	}
	return id, seqGiven, true
}

func cutByte(b []byte, c byte) (before, after []byte, found bool) {
	for i, x := range b {
		if x == c {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}

// parseUint64 is Redis's string2ull: string2ll's strict form, refused
// when negative, else what C's strtoull takes whole (leading space, a
// sign, leading zeros; "-5" wraps as strtoull wraps it).
func parseUint64(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil && strictInt(b) {
		return uint64(n), n >= 0
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] >= '\t' && b[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var n uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, false // ERANGE
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// strictInt reports whether b is written as string2ll accepts: no sign but
// a leading '-', no leading zeros, no space.
func strictInt(b []byte) bool {
	d := b
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || d[0] < '0' || d[0] > '9' || (d[0] == '0' && len(b) > 1) {
		return false
	}
	return true
}
