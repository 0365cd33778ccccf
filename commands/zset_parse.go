package commands

// The sorted sets family's argument parsing: scores as Redis's strtod
// reads them, score and lex ranges, and the options of ZRANGE and of the
// set algebra (ZUNION, ZINTER, ZDIFF and their *STORE forms). Appliers
// parse the arguments an op carries with the same functions, so every
// node reads them alike.

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
)

var (
	errZNaN        = errors.New("ERR resulting score is not a number (NaN)")
	errZMinMax     = errors.New("ERR min or max is not a float")
	errZLexRange   = errors.New("ERR min or max not valid string range item")
	errZWeight     = errors.New("ERR weight value is not a float")
	errZLimitRank  = errors.New("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
	errZLexScores  = errors.New("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
	errZNxXx       = errors.New("ERR XX and NX options at the same time are not compatible")
	errZGtLtNx     = errors.New("ERR GT, LT, and/or NX options at the same time are not compatible")
	errZIncrPair   = errors.New("ERR INCR option supports a single increment-element pair")
	errZOutOfRange = errors.New("ERR value is out of range")
)

// strtod reads b as C's strtod does when the whole of b must be a number
// (leading white space, a sign, decimal or hex digits, inf, infinity).
// ok is false if some of b is not part of the number; empty is true when
// b is empty (strtod converts nothing and stops at the end); erange as
// strtod's ERANGE (overflow, or a non-zero value that rounds to zero).
func strtod(b []byte) (f float64, ok, empty, erange bool) {
	if len(b) == 0 {
		return 0, true, true, false
	}
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	sign := 1.0
	if neg {
		sign = -1
	}
	if l := strings.ToLower(s); l == "inf" || l == "infinity" {
		return math.Inf(int(sign)), true, false, false
	}
	// A decimal mantissa and an e exponent, or after 0x a hex mantissa
	// and a p exponent.
	body, isDigit, expMark := s, func(c byte) bool { return c >= '0' && c <= '9' }, byte('e')
	hex := len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
	if hex {
		body, expMark = strings.ToLower(s[2:]), 'p'
		isDigit = func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
	}
	digits, nonzero, i := 0, false, 0
	for point := false; i < len(body); i++ {
		switch c := body[i]; {
		case isDigit(c):
			digits++
			nonzero = nonzero || c != '0'
			continue
		case c == '.' && !point:
			point = true
			continue
		}
		break
	}
	if digits == 0 {
		return 0, false, false, false // "0x" alone: strtod reads the 0 and stops
	}
	mant, exp := body[:i], "p0"
	if i < len(body) && body[i]|0x20 == expMark {
		j := i + 1
		if j < len(body) && (body[j] == '+' || body[j] == '-') {
			j++
		}
		k := j
		for k < len(body) && body[k] >= '0' && body[k] <= '9' {
			k++
		}
		if k == j {
			return 0, false, false, false // "1e": strtod stops before the e
		}
		exp, i = body[i:k], k
	}
	if i != len(body) {
		return 0, false, false, false
	}
	text := body
	if hex {
		text = "0x" + mant + exp
	}
	f, err := strconv.ParseFloat(text, 64)
	erange = err != nil || f == 0 && nonzero
	return sign * f, true, false, erange
}

// parseScore reads a double as Redis's getDoubleFromObject (string2d):
// no leading space, no NaN, no overflow or underflow to zero.
func parseScore(b []byte) (float64, bool) {
	f, ok, empty, erange := strtod(b)
	if !ok || empty || isSpaceByte(b[0]) || math.IsNaN(f) || erange && (math.IsInf(f, 0) || f == 0) {
		return 0, false
	}
	return f, true
}

// scoreRange is Redis's zrangespec.
type scoreRange struct {
	min, max     float64
	minex, maxex bool
}

// parseRangeBound reads one end of a score range as zslParseRange does:
// strtod over all of it, "(" for an open end, NaN refused.
func parseRangeBound(b []byte) (f float64, ex bool, ok bool) {
	if len(b) > 0 && b[0] == '(' {
		b, ex = b[1:], true
	}
	f, ok, _, _ = strtod(b)
	return f, ex, ok && !math.IsNaN(f)
}

func parseScoreRange(min, max []byte) (r scoreRange, err error) {
	var ok1, ok2 bool
	r.min, r.minex, ok1 = parseRangeBound(min)
	r.max, r.maxex, ok2 = parseRangeBound(max)
	if !ok1 || !ok2 {
		return r, errZMinMax
	}
	return r, nil
}

func (r *scoreRange) gteMin(s float64) bool {
	if r.minex {
		return s > r.min
	}
	return s >= r.min
}

func (r *scoreRange) lteMax(s float64) bool {
	if r.maxex {
		return s < r.max
	}
	return s <= r.max
}

// lexBound is one end of a lex range: "-" (below all), "+" (above all),
// or a string, open or closed.
type lexBound struct {
	inf int // -1 "-", +1 "+", 0 a string
	s   []byte
	ex  bool
}

type lexRange struct{ min, max lexBound }

func parseLexBound(b []byte) (lexBound, bool) {
	if len(b) == 0 {
		return lexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		if len(b) != 1 {
			return lexBound{}, false
		}
		if b[0] == '+' {
			return lexBound{inf: 1, ex: true}, true
		}
		return lexBound{inf: -1, ex: true}, true
	case '(', '[':
		return lexBound{s: append([]byte(nil), b[1:]...), ex: b[0] == '('}, true
	}
	return lexBound{}, false
}

func parseLexRange(min, max []byte) (r lexRange, err error) {
	var ok1, ok2 bool
	r.min, ok1 = parseLexBound(min)
	r.max, ok2 = parseLexBound(max)
	if !ok1 || !ok2 {
		return r, errZLexRange
	}
	return r, nil
}

// cmpLex compares m with bound as Redis's sdscmplex.
func cmpLex(m []byte, b *lexBound) int {
	if b.inf != 0 {
		return -b.inf
	}
	return bytes.Compare(m, b.s)
}

func (r *lexRange) gteMin(m []byte) bool {
	c := cmpLex(m, &r.min)
	return c > 0 || c == 0 && !r.min.ex
}

func (r *lexRange) lteMax(m []byte) bool {
	c := cmpLex(m, &r.max)
	return c < 0 || c == 0 && !r.max.ex
}

// The kinds of range of ZRANGE and ZREMRANGE*.
const (
	zrangeRank  = 0
	zrangeScore = 1
	zrangeLex   = 2
)

// zrangeSpec is a parsed ZRANGE (or ZRANGESTORE, or one of the older
// Z[REV]RANGE[BYSCORE|BYLEX]).
type zrangeSpec struct {
	kind          int
	rev           bool
	withScores    bool
	start, end    int64
	score         scoreRange
	lex           lexRange
	offset, limit int64
}

// parseZRange parses args (key, min, max, options...) as Redis's
// zrangeGenericCommand: kind -1 and dir -1 leave them to ZRANGE's own
// options (BYSCORE, BYLEX, REV); dir 0 is forward, 1 reverse; store for
// ZRANGESTORE (no WITHSCORES).
func parseZRange(args [][]byte, kind, dir int, store bool) (sp zrangeSpec, err error) {
	sp.limit = -1
	auto, autoDir, rev := kind < 0, dir < 0, dir == 1
	for j := 3; j < len(args); j++ {
		a, left := args[j], len(args)-j-1
		switch {
		case !store && eq(a, "WITHSCORES"):
			sp.withScores = true
		case eq(a, "LIMIT") && left >= 2:
			var ok bool
			if sp.offset, ok = parseInt(args[j+1]); !ok {
				return sp, errNotInt
			}
			if sp.limit, ok = parseInt(args[j+2]); !ok {
				return sp, errNotInt
			}
			j += 2
		case autoDir && !rev && eq(a, "REV"):
			rev = true
		case auto && kind < 0 && eq(a, "BYLEX"):
			kind = zrangeLex
		case auto && kind < 0 && eq(a, "BYSCORE"):
			kind = zrangeScore
		default:
			return sp, errSyntax
		}
	}
	if kind < 0 {
		kind = zrangeRank
	}
	sp.kind, sp.rev = kind, rev
	if sp.limit != -1 && kind == zrangeRank {
		return sp, errZLimitRank
	}
	if sp.withScores && kind == zrangeLex {
		return sp, errZLexScores
	}
	lo, hi := args[1], args[2]
	if rev && kind != zrangeRank {
		lo, hi = hi, lo // given as max, min
	}
	switch kind {
	case zrangeRank:
		var ok bool
		if sp.start, ok = parseInt(lo); !ok {
			return sp, errNotInt
		}
		if sp.end, ok = parseInt(hi); !ok {
			return sp, errNotInt
		}
	case zrangeScore:
		sp.score, err = parseScoreRange(lo, hi)
	case zrangeLex:
		sp.lex, err = parseLexRange(lo, hi)
	}
	return sp, err
}

// The aggregates of ZUNION and ZINTER.
const (
	aggSum = iota
	aggMin
	aggMax
)

// zalgebraSpec is a parsed ZUNION, ZINTER, ZDIFF, ZINTERCARD or *STORE.
type zalgebraSpec struct {
	keys       [][]byte
	weights    []float64
	aggregate  int
	withScores bool
	limit      int64
}

// parseZAlgebra parses args from numkeys on, as Redis's
// zunionInterDiffGenericCommand. Its errors before the keys are read
// (numkeys) come first; check reports an option's error, which Redis
// gives only after it has looked the keys up (WRONGTYPE first).
func parseZAlgebra(name string, args [][]byte, op int64, store, card bool) (sp zalgebraSpec, early, late error) {
	n, ok := parseInt(args[0])
	if !ok {
		return sp, errNotInt, nil
	}
	if n < 1 {
		return sp, errorf("ERR at least 1 input key is needed for '%s' command", name), nil
	}
	if n > int64(len(args)-1) {
		return sp, errSyntax, nil
	}
	sp.keys = args[1 : 1+n]
	sp.weights = make([]float64, n)
	for i := range sp.weights {
		sp.weights[i] = 1
	}
	rest := args[1+n:]
	diff := op == zopDiff
	for j := 0; j < len(rest); {
		a, remaining := rest[j], len(rest)-j
		switch {
		case !diff && !card && remaining >= int(n)+1 && eq(a, "WEIGHTS"):
			j++
			for i := range sp.weights {
				w, ok := parseScore(rest[j])
				if !ok {
					return sp, nil, errZWeight
				}
				sp.weights[i] = w
				j++
			}
		case !diff && !card && remaining >= 2 && eq(a, "AGGREGATE"):
			switch v := rest[j+1]; {
			case eq(v, "SUM"):
				sp.aggregate = aggSum
			case eq(v, "MIN"):
				sp.aggregate = aggMin
			case eq(v, "MAX"):
				sp.aggregate = aggMax
			default:
				return sp, nil, errSyntax
			}
			j += 2
		case !store && !card && eq(a, "WITHSCORES"):
			sp.withScores = true
			j++
		case card && remaining >= 2 && eq(a, "LIMIT"):
			l, ok := parseInt(rest[j+1])
			if !ok || l < 0 {
				return sp, nil, errLimit
			}
			sp.limit = l
			j += 2
		default:
			return sp, nil, errSyntax
		}
	}
	return sp, nil, nil
}

// The set algebra's operations, as op.SStore numbers them.
const (
	zopInter = 0
	zopUnion = 1
	zopDiff  = 2
)
