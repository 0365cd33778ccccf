package rdb

import (
	"math"
	"strconv"
)

// DecodeObject decodes an object body of RDB type typ, as rdbLoadObject
// with deep sanitization: anything damaged, an empty collection, a
// duplicate member, a module type, is ErrBadData.
func DecodeObject(typ byte, body []byte) (Value, error) {
	r := &reader{b: body}
	v := r.object(typ)
	if r.err != nil {
		return Value{}, ErrBadData
	}
	return v, nil
}

// object reads one object of type typ.
func (r *reader) object(typ byte) Value {
	switch typ {
	case TypeString:
		s := r.str()
		if s == nil {
			s = []byte{}
		}
		return Value{Kind: KindString, Str: s}
	case TypeList:
		n := r.count(1)
		v := Value{Kind: KindList, Elems: make([][]byte, 0, n)}
		for range n {
			v.Elems = append(v.Elems, r.str())
		}
		return r.nonEmpty(v, len(v.Elems))
	case TypeSet:
		n := r.count(1)
		v := Value{Kind: KindSet, Elems: make([][]byte, 0, n)}
		for range n {
			v.Elems = append(v.Elems, r.str())
		}
		if r.err == nil && hasDup(v.Elems, 1) {
			r.fail()
		}
		return r.nonEmpty(v, len(v.Elems))
	case TypeZSet, TypeZSet2:
		n := r.count(2)
		v := Value{Kind: KindZSet, ZSet: make([]ZMember, 0, n)}
		names := make([][]byte, 0, n)
		for range n {
			m := r.str()
			var f float64
			if typ == TypeZSet2 {
				f = r.binaryDouble()
			} else {
				f = r.textDouble()
			}
			if math.IsNaN(f) {
				r.fail()
			}
			v.ZSet = append(v.ZSet, ZMember{Member: m, Score: f})
			names = append(names, m)
		}
		if r.err == nil && hasDup(names, 1) {
			r.fail()
		}
		return r.nonEmpty(v, len(v.ZSet))
	case TypeHash:
		n := r.count(2)
		v := Value{Kind: KindHash, Elems: make([][]byte, 0, 2*n)}
		for range n {
			v.Elems = append(v.Elems, r.str(), r.str())
		}
		if r.err == nil && hasDup(v.Elems, 2) {
			r.fail()
		}
		return r.nonEmpty(v, len(v.Elems))
	case TypeListQuicklist, TypeListQuicklist2:
		return r.quicklist(typ)
	case TypeHashZipmap, TypeListZiplist, TypeSetIntset, TypeZSetZiplist, TypeZSetListpack,
		TypeHashZiplist, TypeHashListpack:
		return r.compact(typ)
	case TypeStreamListpacks, TypeStreamListpack2:
		return r.stream(typ)
	}
	r.fail() // module types and unknown ones
	return Value{}
}

// nonEmpty fails an empty collection, as Redis skips empty keys (and
// RESTORE answers Bad data format).
func (r *reader) nonEmpty(v Value, n int) Value {
	if n == 0 {
		r.fail()
	}
	return v
}

// hasDup reports whether the items at multiples of step repeat.
func hasDup(items [][]byte, step int) bool {
	seen := make(map[string]struct{}, len(items)/step)
	for i := 0; i < len(items); i += step {
		if _, ok := seen[string(items[i])]; ok {
			return true
		}
		seen[string(items[i])] = struct{}{}
	}
	return false
}

// quicklist reads a list of ziplist (v1) or listpack (v2) nodes.
func (r *reader) quicklist(typ byte) Value {
	n := r.count(2)
	if n == 0 {
		r.fail()
	}
	v := Value{Kind: KindList}
	for range n {
		if r.err != nil {
			break
		}
		container := uint64(2) // packed
		if typ == TypeListQuicklist2 {
			container = r.length()
			if container != 1 && container != 2 {
				r.fail()
				break
			}
		}
		data := r.str()
		if r.err != nil || len(data) == 0 {
			r.fail()
			break
		}
		if container == 1 { // a plain node: one element
			v.Elems = append(v.Elems, data)
			v.Nodes = append(v.Nodes, 1)
			continue
		}
		var es [][]byte
		var ok bool
		if typ == TypeListQuicklist2 {
			es, ok = lpEntries(data)
		} else {
			es, ok = zlEntries(data)
		}
		if !ok {
			r.fail()
			break
		}
		if len(es) == 0 { // skipped, as Redis skips empty nodes
			continue
		}
		v.Elems = append(v.Elems, es...)
		v.Nodes = append(v.Nodes, len(es))
	}
	return r.nonEmpty(v, len(v.Elems))
}

// compact reads a value held as one blob: a zipmap, ziplist, intset or
// listpack.
func (r *reader) compact(typ byte) Value {
	blob := r.str()
	if r.err != nil {
		return Value{}
	}
	var es [][]byte
	var ok bool
	var v Value
	switch typ {
	case TypeHashZipmap:
		v.Kind = KindHash
		es, ok = zipmapPairs(blob)
	case TypeListZiplist:
		v.Kind = KindList
		es, ok = zlEntries(blob)
	case TypeSetIntset:
		v.Kind = KindSet
		es, ok = intsetMembers(blob)
	case TypeZSetZiplist, TypeHashZiplist:
		v.Kind = KindZSet
		if typ == TypeHashZiplist {
			v.Kind = KindHash
		}
		es, ok = zlEntries(blob)
	case TypeZSetListpack, TypeHashListpack:
		v.Kind = KindZSet
		if typ == TypeHashListpack {
			v.Kind = KindHash
		}
		es, ok = lpEntries(blob)
	}
	if !ok {
		r.fail()
		return Value{}
	}
	if v.Kind == KindHash || v.Kind == KindZSet {
		if len(es)%2 != 0 || hasDup(es, 2) {
			r.fail()
			return Value{}
		}
	}
	if v.Kind == KindZSet {
		v.ZSet = make([]ZMember, 0, len(es)/2)
		for i := 0; i < len(es); i += 2 {
			f, ok := parseScore(es[i+1])
			if !ok {
				r.fail()
				return Value{}
			}
			v.ZSet = append(v.ZSet, ZMember{Member: es[i], Score: f})
		}
		return r.nonEmpty(v, len(v.ZSet))
	}
	v.Elems = es
	if v.Kind == KindList {
		v.Nodes = nil
	}
	return r.nonEmpty(v, len(es))
}

// parseScore reads a score a listpack or ziplist holds as text (as
// zzlStrtod, which takes what strtod takes).
func parseScore(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, !math.IsNaN(f)
}
