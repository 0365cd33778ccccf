package server

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file holds the limits that keep one client from hurting a node:
// client-query-buffer-limit, client-output-buffer-limit and
// proto-max-bulk-len, with Redis 7.0's names, formats and errors, and the
// snapshot of them (with timeout) that each connection reads once per
// request. maxclients and timeout are in config.go.

// clientClass is the class of client-output-buffer-limit that applies to
// a connection. Only normal exists in LoomCache so far; the others are
// parsed, stored and shown as Redis does, for when pub/sub arrives (a
// subscribed connection picks classPubsub in classOf).
type clientClass int

const (
	classNormal clientClass = iota
	classReplica
	classPubsub
	numClasses
)

// classNames are the names CONFIG GET prints, in Redis's order; Redis
// still prints "slave", and accepts "replica" as well on input.
var classNames = [numClasses]string{"normal", "slave", "pubsub"}

func parseClass(name string) (clientClass, bool) {
	switch strings.ToLower(name) {
	case "normal":
		return classNormal, true
	case "slave", "replica":
		return classReplica, true
	case "pubsub":
		return classPubsub, true
	}
	return 0, false // "master" is a class Redis has and refuses here
}

// obufLimit is one class's client-output-buffer-limit: a connection is
// closed once its pending output reaches hard, or stays at or above soft
// for more than softSeconds; 0 turns either off.
type obufLimit struct {
	hard, soft  uint64
	softSeconds int32
}

// obufLimits is client-output-buffer-limit: one limit per class.
type obufLimits [numClasses]obufLimit

// defaultObufLimits is Redis's default,
// "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60".
func defaultObufLimits() obufLimits {
	return obufLimits{
		classNormal:  {},
		classReplica: {hard: 256 << 20, soft: 64 << 20, softSeconds: 60},
		classPubsub:  {hard: 32 << 20, soft: 8 << 20, softSeconds: 60},
	}
}

// String is CONFIG GET's form of the limits.
func (l *obufLimits) String() string {
	var b []byte
	for c := range l {
		if c > 0 {
			b = append(b, ' ')
		}
		b = append(b, classNames[c]...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, l[c].hard, 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, l[c].soft, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(l[c].softSeconds), 10)
	}
	return string(b)
}

// parseObufLimits applies a CONFIG SET value, "<class> <hard> <soft>
// <soft seconds>" any number of times, to cur, as Redis 7.0's
// setConfigClientOutputBufferLimitOption does: the value is split at
// every single space (so doubled spaces make empty arguments), each group
// is checked in turn, and nothing changes unless all are good.
func parseObufLimits(val string, cur obufLimits) (obufLimits, error) {
	var argv []string
	if val != "" {
		argv = strings.Split(val, " ")
	}
	if len(argv)%4 != 0 {
		return cur, errors.New("Wrong number of arguments in buffer limit configuration.")
	}
	next := cur
	for j := 0; j < len(argv); j += 4 {
		class, ok := parseClass(argv[j])
		if !ok {
			return cur, errors.New("Invalid client class specified in buffer limit configuration.")
		}
		hard, hardOK := memtoull(argv[j+1])
		soft, softOK := memtoull(argv[j+2])
		secs, secsOK := strtoint(argv[j+3])
		if !hardOK || !softOK || !secsOK || secs < 0 {
			return cur, errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		next[class] = obufLimit{hard: hard, soft: soft, softSeconds: secs}
	}
	return next, nil
}

// strtoint is Redis's `int n = strtoll(s, &end, 10)` with *end required
// to be the end: leading white space and a sign are accepted, an
// out-of-range value saturates at int64's bounds and is then truncated to
// 32 bits, as C's conversion to int does.
func strtoint(s string) (int32, bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	digits := s[i:]
	if digits == "" {
		// strtoll converts nothing and leaves end at the start: only an
		// empty string then ends there.
		return 0, s == ""
	}
	var u uint64
	over := false
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			over = true
			continue
		}
		u = u*10 + uint64(c-'0')
	}
	var n int64
	switch {
	case neg && (over || u > 1<<63):
		n = math.MinInt64
	case neg:
		n = -int64(u)
	case over || u > math.MaxInt64:
		n = math.MaxInt64
	default:
		n = int64(u)
	}
	return int32(n), true
}

func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// memtoull is Redis's memtoull: digits and an optional unit (b, k, kb, m,
// mb, g, gb in any case; k is 1000, kb 1024). As in Redis, too many digits
// saturate and the product with the unit wraps; only a missing digit
// string is read as 0, and a sign or anything else is an error.
func memtoull(val string) (uint64, bool) {
	i := 0
	for i < len(val) && val[i] >= '0' && val[i] <= '9' {
		i++
	}
	var mul uint64
	switch strings.ToLower(val[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i >= 128 { // Redis copies the digits into a 128-byte buffer
		return 0, false
	}
	var n uint64
	if i > 0 {
		var err error
		if n, err = strconv.ParseUint(val[:i], 10, 64); err != nil {
			n = math.MaxUint64 // strtoull's ERANGE, which memtoull lets through
		}
	}
	return n * mul, true
}

// parseMemory parses a memory setting whose Redis type is long long:
// memtoull, then the bounds, compared as signed (so a value that wrapped
// past 2^63 is out of range, not unparsable).
func parseMemory(val string, lo int64) (int64, error) {
	u, ok := memtoull(val)
	if !ok {
		return 0, errors.New("argument must be a memory value")
	}
	n := int64(u)
	if n < lo {
		return 0, errors.New("argument must be between " + strconv.FormatInt(lo, 10) + " and " +
			strconv.FormatInt(math.MaxInt64, 10) + " inclusive")
	}
	return n, nil
}

// Redis's defaults and lower bounds.
const (
	defaultQueryBufferLimit = 1 << 30
	minQueryBufferLimit     = 1 << 20
	minProtoMaxBulkLen      = 1 << 20
)

func limitSettings() []setting {
	return []setting{
		{name: "client-query-buffer-limit", get: func(_ *Server, v *confValues) string {
			return strconv.FormatInt(v.queryBufferLimit(), 10)
		}, set: func(_ *Server, v *confValues, val string) error {
			n, err := parseMemory(val, minQueryBufferLimit)
			v.queryBuf = n
			return err
		}},
		{name: "client-output-buffer-limit", get: func(_ *Server, v *confValues) string {
			l := v.outputLimits()
			return l.String()
		}, set: func(_ *Server, v *confValues, val string) error {
			l, err := parseObufLimits(val, v.outputLimits())
			v.obuf = &l
			return err
		}},
		// Connections read it before each request, so it applies from
		// their next one.
		{name: "proto-max-bulk-len", get: func(s *Server, v *confValues) string {
			return strconv.FormatInt(v.protoMaxBulkLen(s), 10)
		}, set: func(_ *Server, v *confValues, val string) error {
			n, err := parseMemory(val, minProtoMaxBulkLen)
			v.maxBulk = n
			return err
		}},
	}
}

func (v *confValues) queryBufferLimit() int64 {
	if v.queryBuf == 0 {
		return defaultQueryBufferLimit
	}
	return v.queryBuf
}

func (v *confValues) outputLimits() obufLimits {
	if v.obuf == nil {
		return defaultObufLimits()
	}
	return *v.obuf
}

func (v *confValues) protoMaxBulkLen(s *Server) int64 {
	if v.maxBulk != 0 {
		return v.maxBulk
	}
	if s.cfg.MaxBulk != 0 {
		return s.cfg.MaxBulk
	}
	return 512 << 20
}

// connLimits is what a connection checks while it serves requests: an
// immutable snapshot, replaced whole by CONFIG SET, so that reading it
// costs one atomic load per request.
type connLimits struct {
	timeout  time.Duration // idle timeout; 0: none
	queryBuf int           // client-query-buffer-limit
	maxBulk  int64         // proto-max-bulk-len
	out      [numClasses]outLimit
}

// outLimit is one class's output limits as a connection applies them.
type outLimit struct {
	hard, soft int // bytes; 0: off
	softFor    time.Duration
	flushAt    int // write the replies out once this much is buffered
}

func newConnLimits(s *Server, v *confValues) *connLimits {
	l := &connLimits{
		timeout:  time.Duration(v.timeout) * time.Second,
		queryBuf: clampInt(uint64(v.queryBufferLimit())),
		maxBulk:  v.protoMaxBulkLen(s),
	}
	ob := v.outputLimits()
	for c := range ob {
		o := &l.out[c]
		o.hard, o.soft = pendingLimit(ob[c].hard), pendingLimit(ob[c].soft)
		// Redis closes on the first reply added once the soft limit has
		// been reached for more than softSeconds, counting whole seconds
		// of its clock: after between softSeconds and softSeconds+1
		// seconds, so a connection gets the longer.
		o.softFor = time.Duration(int64(ob[c].softSeconds)+1) * time.Second
		// Batching replies must not by itself reach a limit that a
		// client reading promptly would never reach in Redis: write the
		// batch out at half of the lower limit at the latest.
		o.flushAt = flushAt
		for _, lim := range []int{o.hard, o.soft} {
			if lim > 0 {
				o.flushAt = max(1, min(o.flushAt, lim/2))
			}
		}
	}
	return l
}

func clampInt(n uint64) int {
	if n > math.MaxInt {
		return math.MaxInt
	}
	return int(n)
}

// replyBufSize is Redis's static reply buffer: the first 16KB of a
// client's pending output go there, and Redis leaves them out of the
// output buffer size it checks against the limits (only the reply list
// counts), so that no limit, however small, closes a client over one
// small reply.
const replyBufSize = 16 * 1024

// pendingLimit is the pending output at which a limit of n bytes is
// reached; 0 stays off.
func pendingLimit(n uint64) int {
	if n == 0 {
		return 0
	}
	return clampInt(min(n, math.MaxInt-replyBufSize) + replyBufSize)
}

// limits returns the connection limits now (published by New, then by
// every CONFIG SET).
func (s *Server) limits() *connLimits { return s.conf.limits.Load() }

// classOf is the output buffer class of a connection: pubsub while
// subscribed, normal otherwise (no replication links on the client
// port). Only c's own goroutine asks.
func classOf(c *client) clientClass {
	if c.sess.Subscribed() {
		return classPubsub
	}
	return classNormal
}
