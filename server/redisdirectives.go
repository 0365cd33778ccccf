package server

import (
	"errors"
	"maps"
	"strconv"
	"strings"
)

// This file makes every Redis 7.0 directive a CONFIG parameter: those
// LoomCache gives a meaning to are settings of their own (config.go and
// the files it names); each other one is "inert": accepted at startup with
// one log line saying it has no meaning here, and kept for CONFIG GET,
// SET and REWRITE with Redis's syntax, bounds, errors and default.

type dirKind uint8

const (
	dirBool dirKind = iota
	dirString
	dirEnum
	dirNum
	dirSpecial // its own syntax: a setting of its own, or inertSpecial
)

// numFlags are Redis's numeric config flags and type properties.
type numFlags uint8

const (
	numUnsignedBounds numFlags = 1 << iota // size_t, unsigned: bounds compared as unsigned
	numMemoryUnits                         // MEMORY_CONFIG: memtoull
	numPercent                             // PERCENT_CONFIG: "N%" is kept as -N
	numOctal                               // OCTAL_CONFIG
)

// redisDirective is one row of Redis's standardConfig table.
type redisDirective struct {
	name, alias string
	kind        dirKind
	immutable   bool
	protected   bool
	hidden      bool // HIDDEN_CONFIG: left out of CONFIG GET's patterns
	null        bool // a string whose "" is NULL: CONFIG REWRITE leaves it out
	def         string
	enum        []string
	lo, hi      int64
	num         numFlags
}

// inertValues are the inert directives' values by name; a CONFIG SET
// copies the map before it changes it, so confValues stay values.
type inertValues struct{ m map[string]string }

func (iv *inertValues) get(name, def string) string {
	if iv != nil {
		if v, ok := iv.m[name]; ok {
			return v
		}
	}
	return def
}

func (iv *inertValues) with(name, val string) *inertValues {
	next := &inertValues{m: map[string]string{}}
	if iv != nil {
		next.m = maps.Clone(iv.m)
	}
	next.m[name] = val
	return next
}

// inertSpecial are the special directives with no meaning here: their
// defaults, and the check of their values.
func inertSpecial(name string) (def string, check func(string) (string, error), ok bool) {
	switch name {
	case "oom-score-adj-values":
		return "0 200 800", checkOOMScoreAdj, true
	case "latency-tracking-info-percentiles":
		return "50 99 99.9", checkPercentiles, true
	case "replicaof":
		// Raft decides who leads: a replicaof line is accepted (and noted)
		// at startup; CONFIG SET refuses it as immutable, as Redis does.
		return "", func(val string) (string, error) {
			if f := strings.Fields(val); len(f) != 2 {
				return "", errors.New("wrong number of arguments")
			}
			return val, nil
		}, true
	}
	return "", nil, false
}

func checkOOMScoreAdj(val string) (string, error) {
	f := strings.Fields(val)
	if len(f) != 3 {
		return "", errors.New("wrong number of arguments")
	}
	for i, a := range f {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || n < -2000 || n > 2000 {
			return "", errors.New("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
		}
		f[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(f, " "), nil
}

func checkPercentiles(val string) (string, error) {
	f := strings.Fields(val)
	for i, a := range f {
		p, err := strconv.ParseFloat(a, 64)
		if err != nil || p < 0 || p > 100 {
			return "", errors.New("latency-tracking-info-percentiles parameter should be between 0.0 and 100.0")
		}
		f[i] = strconv.FormatFloat(p, 'f', -1, 64)
	}
	return strings.Join(f, " "), nil
}

// inertSettings are the directives of Redis's table that have no
// setting in known, with their aliases.
func inertSettings(known []setting) []setting {
	var out []setting
	for _, d := range redisDirectiveTable() {
		if lookupSetting(known, d.name) != nil {
			continue
		}
		st := inertSetting(d)
		if st.name == "" {
			continue
		}
		out = append(out, st)
	}
	return out
}

func inertSetting(d redisDirective) setting {
	def, check := d.def, func(val string) (string, error) { return d.check(val) }
	if d.kind == dirSpecial {
		var ok bool
		if def, check, ok = inertSpecial(d.name); !ok {
			return setting{}
		}
	}
	name := d.name
	return setting{name: d.name, alias: d.alias, protected: d.protected, immutable: d.immutable,
		hidden: d.hidden, inert: true,
		get: func(_ *Server, v *confValues) string { return v.inert.get(name, def) },
		set: func(_ *Server, v *confValues, val string) error {
			canon, err := check(val)
			if err == nil {
				v.inert = v.inert.with(name, canon)
			}
			return err
		}}
}

// check validates val as Redis's config type does and returns CONFIG
// GET's form of it.
func (d redisDirective) check(val string) (string, error) {
	switch d.kind {
	case dirBool:
		on, err := parseYesNo(val)
		return yesNo(on), err
	case dirEnum:
		return parseEnum(val, d.enum)
	case dirNum:
		return d.checkNum(val)
	}
	return val, nil
}

// checkNum is numericParseString and numericBoundaryCheck.
func (d redisDirective) checkNum(val string) (string, error) {
	var n int64
	parsed := false
	if d.num&numMemoryUnits != 0 {
		if u, ok := memtoull(val); ok {
			n, parsed = int64(u), true
		}
	}
	if !parsed && d.num&numPercent != 0 && len(val) > 1 && val[len(val)-1] == '%' {
		if p, err := strconv.ParseInt(val[:len(val)-1], 10, 64); err == nil && p >= 0 &&
			strconv.FormatInt(p, 10) == val[:len(val)-1] {
			n, parsed = -p, true
		}
	}
	if !parsed && d.num&numOctal != 0 {
		if o, err := strconv.ParseInt(val, 8, 64); err == nil {
			n, parsed = o, true
		}
	}
	if !parsed && d.num&(numMemoryUnits|numPercent|numOctal) == 0 {
		if v, err := strconv.ParseInt(val, 10, 64); err == nil && strconv.FormatInt(v, 10) == val {
			n, parsed = v, true
		}
	}
	if !parsed {
		switch {
		case d.num&numMemoryUnits != 0 && d.num&numPercent != 0:
			return "", errors.New("argument must be a memory or percent value")
		case d.num&numMemoryUnits != 0:
			return "", errors.New("argument must be a memory value")
		case d.num&numOctal != 0:
			return "", errors.New("argument couldn't be parsed as an octal number")
		}
		return "", errors.New("argument couldn't be parsed into an integer")
	}
	switch {
	case d.num&numUnsignedBounds != 0:
		if uint64(n) < uint64(d.lo) || uint64(n) > uint64(d.hi) {
			if d.num&numOctal != 0 {
				return "", errors.New("argument must be between " + strconv.FormatUint(uint64(d.lo), 8) +
					" and " + strconv.FormatUint(uint64(d.hi), 8) + " inclusive")
			}
			return "", errors.New("argument must be between " + strconv.FormatUint(uint64(d.lo), 10) +
				" and " + strconv.FormatUint(uint64(d.hi), 10) + " inclusive")
		}
	case d.num&numPercent != 0 && n < 0:
		if n < d.lo {
			return "", errors.New("percentage argument must be less or equal to " + strconv.FormatInt(-d.lo, 10))
		}
	case n < d.lo || n > d.hi:
		return "", errors.New("argument must be between " + strconv.FormatInt(d.lo, 10) + " and " +
			strconv.FormatInt(d.hi, 10) + " inclusive")
	}
	switch {
	case d.num&numPercent != 0 && n < 0:
		return strconv.FormatInt(-n, 10) + "%", nil
	case d.num&numOctal != 0:
		return strconv.FormatInt(n, 8), nil
	case d.num&numUnsignedBounds != 0:
		return strconv.FormatUint(uint64(n), 10), nil
	}
	return strconv.FormatInt(n, 10), nil
}

// RedisDirectiveNames lists every directive of Redis 7.0 and its aliases:
// all are accepted at startup.
func RedisDirectiveNames() []string {
	var names []string
	for _, d := range redisDirectiveTable() {
		names = append(names, d.name)
		if d.alias != "" {
			names = append(names, d.alias)
		}
	}
	return names
}
