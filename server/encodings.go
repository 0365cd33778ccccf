package server

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/loomcache/loomcache/keyspace"
)

// This file holds Redis 7.0's encoding directives (the *-max-* family,
// list-compress-depth) and activerehashing: their names and the ziplist
// names Redis 7.0 still accepts as aliases, defaults, bounds, value syntax
// and errors, as src/config.c has them, and the limits the keyspace reads.

// numKind is how one of Redis's numeric configs parses and bounds a value.
type numKind uint8

const (
	numSigned   numKind = iota // int or long long: string2ll, signed bounds
	numUnsigned                // size_t: string2ll, bounds compared as unsigned
	numMemory                  // size_t with memory units (memtoull), at most LONG_MAX
)

// encodingSetting is one encoding directive over a field of the limits.
func encodingSetting(name, alias string, kind numKind, lo, hi int64, field func(*keyspace.EncodingLimits) *int64) setting {
	return setting{name: name, alias: alias,
		get: func(_ *Server, v *confValues) string { return strconv.FormatInt(*field(&v.enc), 10) },
		set: func(_ *Server, v *confValues, val string) error {
			var n int64
			var err error
			if kind == numMemory {
				n, err = parseMemory(val, lo) // its upper bound is LONG_MAX
			} else {
				n, err = parseBounded(val, lo, hi, kind == numUnsigned)
			}
			if err == nil {
				*field(&v.enc) = n
			}
			return err
		}}
}

type encLimits = keyspace.EncodingLimits

// encodingSettings are the encoding directives in the order of Redis's
// redis.conf. None has an apply step in Redis: a value already encoded
// keeps its encoding until it next changes.
func encodingSettings() []setting {
	const intMin, intMax, longMax = math.MinInt32, math.MaxInt32, math.MaxInt64
	return []setting{
		encodingSetting("hash-max-listpack-entries", "hash-max-ziplist-entries", numUnsigned, 0, longMax,
			func(l *encLimits) *int64 { return &l.HashMaxListpackEntries }),
		encodingSetting("hash-max-listpack-value", "hash-max-ziplist-value", numMemory, 0, longMax,
			func(l *encLimits) *int64 { return &l.HashMaxListpackValue }),
		encodingSetting("list-max-listpack-size", "list-max-ziplist-size", numSigned, intMin, intMax,
			func(l *encLimits) *int64 { return &l.ListMaxListpackSize }),
		encodingSetting("list-compress-depth", "", numSigned, 0, intMax,
			func(l *encLimits) *int64 { return &l.ListCompressDepth }),
		encodingSetting("set-max-intset-entries", "", numUnsigned, 0, longMax,
			func(l *encLimits) *int64 { return &l.SetMaxIntsetEntries }),
		encodingSetting("zset-max-listpack-entries", "zset-max-ziplist-entries", numUnsigned, 0, longMax,
			func(l *encLimits) *int64 { return &l.ZsetMaxListpackEntries }),
		encodingSetting("zset-max-listpack-value", "zset-max-ziplist-value", numMemory, 0, longMax,
			func(l *encLimits) *int64 { return &l.ZsetMaxListpackValue }),
		encodingSetting("hll-sparse-max-bytes", "", numMemory, 0, longMax,
			func(l *encLimits) *int64 { return &l.HllSparseMaxBytes }),
		encodingSetting("stream-node-max-bytes", "", numMemory, 0, longMax,
			func(l *encLimits) *int64 { return &l.StreamNodeMaxBytes }),
		encodingSetting("stream-node-max-entries", "", numSigned, 0, longMax,
			func(l *encLimits) *int64 { return &l.StreamNodeMaxEntries }),
		// Redis rehashes its dicts a step at a time, and with this on also
		// 1ms in every 100 of idle time; Go's maps grow on their own, so
		// here it is accepted, kept and shown, and changes nothing.
		{name: "activerehashing", get: func(_ *Server, v *confValues) string { return yesNo(!v.noActiveRehashing) },
			set: func(_ *Server, v *confValues, val string) error {
				on, err := parseYesNo(val)
				v.noActiveRehashing = !on
				return err
			}},
	}
}

// withAliases adds, for each setting that has an alias, an entry under
// the alias, as Redis registers one: CONFIG GET * lists both names, an
// error names the one given, and setting both in one CONFIG SET is no
// duplicate (the later wins).
func withAliases(all []setting) []setting {
	for _, st := range all {
		if st.alias != "" {
			st.name, st.alias = st.alias, st.name
			all = append(all, st)
		}
	}
	return all
}

// IgnoredDirectives are directives Redis 7.0 accepts at startup (in its
// config file or on its command line, with one value) and ignores, since
// they set nothing any more: a node accepts and ignores them too, so that
// a redis.conf holding them still starts one. CONFIG SET knows none.
func IgnoredDirectives() []string {
	return []string{"list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"}
}

// withoutIgnored drops the ignored directives from startup pairs.
func withoutIgnored(pairs [][2]string) [][2]string {
	out := pairs[:0:0]
	for _, p := range pairs {
		if !slices.ContainsFunc(IgnoredDirectives(), func(n string) bool { return strings.EqualFold(n, p[0]) }) {
			out = append(out, p)
		}
	}
	return out
}

// EncodingLimits returns the encoding thresholds now: Redis's defaults,
// then the startup directives, then each CONFIG SET that changed one.
func (s *Server) EncodingLimits() keyspace.EncodingLimits {
	ks := s.node.Store()
	ks.RLock()
	defer ks.RUnlock()
	return ks.EncodingLimits()
}

// publishEncodings makes l the keyspace's limits: New calls it before the
// node is built (raftfsm.Config.EncodingLimits hands them to the keyspace
// before a snapshot is restored), and each CONFIG SET once its values are
// in place.
func (s *Server) publishEncodings(l keyspace.EncodingLimits) {
	s.conf.encodings.Store(&l)
	for _, g := range s.groups {
		ks := g.Store()
		ks.Lock()
		ks.SetEncodingLimits(l)
		ks.Unlock()
	}
}
