package commands

// The geo family: GEOADD GEOPOS GEODIST GEOHASH here, the searches
// (GEORADIUS*, GEOSEARCH*) in geo_search.go. A geo index is a sorted set
// whose scores are Redis's 52-bit geohashes (internal/geohash), so the
// stored set is the one Redis stores. GEOADD proposes the ZAdd op, as
// Redis's GEOADD runs ZADD; the searches that store propose GeoStore
// (op code 260), whose applier searches the state it applies to.

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/loomcache/loomcache/internal/geohash"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

var (
	errGeoUnit   = errors.New("ERR unsupported unit provided. please use M, KM, FT, MI")
	errGeoMember = errors.New("ERR could not decode requested zset member")
)

func registerGeo(t *Table) {
	units := func() Arg {
		return argOneof("unit", argToken("m", "M"), argToken("km", "KM"), argToken("ft", "FT"), argToken("mi", "MI"))
	}
	with := func() []Arg {
		return []Arg{argToken("withcoord", "WITHCOORD").optional(), argToken("withdist", "WITHDIST").optional(), argToken("withhash", "WITHHASH").optional()}
	}
	count := func(anySince string) Arg {
		return argBlock("count", argInt("count").token("COUNT"), argToken("any", "ANY").since(anySince).optional()).optional()
	}
	order := argOneof("order", argToken("asc", "ASC"), argToken("desc", "DESC")).optional()
	key0 := KeySpec{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}
	storeSpecs := func(from int) []KeySpec {
		return []KeySpec{key0,
			{Flags: KeyOW | KeyUpdate, Keyword: "STORE", StartFrom: from, LastKey: 0, KeyStep: 1, Limit: 0},
			{Flags: KeyOW | KeyUpdate, Keyword: "STOREDIST", StartFrom: from, LastKey: 0, KeyStep: 1, Limit: 0}}
	}
	stores := []Arg{argKey("key", 1).token("STORE").optional(), argKey("key", 2).token("STOREDIST").optional()}
	radiusArgs := func(anySince string, store bool) []Arg {
		a := append([]Arg{argKey("key", 0), argDouble("longitude"), argDouble("latitude"), argDouble("radius"), units()}, with()...)
		a = append(a, count(anySince), order)
		if store {
			a = append(a, stores...)
		}
		return a
	}
	byMemberArgs := func(store bool) []Arg {
		a := append([]Arg{argKey("key", 0), argString("member"), argDouble("radius"), units()}, with()...)
		a = append(a, count(""), order)
		if store {
			a = append(a, stores...)
		}
		return a
	}
	searchArgs := func() []Arg {
		return []Arg{
			argOneof("from", argString("member").token("FROMMEMBER"), argBlock("longitude_latitude", argDouble("longitude"), argDouble("latitude")).token("FROMLONLAT")),
			argOneof("by", argBlock("circle", argDouble("radius").token("BYRADIUS"), units()), argBlock("box", argDouble("width").token("BYBOX"), argDouble("height"), units())),
			order, count(""),
		}
	}
	const (
		searchComplexity = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"
		radiusComplexity = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index."
	)
	// radius is one of the deprecated GEORADIUS* entries: the storing
	// forms are writes whose STORE/STOREDIST keys come after the options.
	radius := func(name string, arity int, store bool, since, summary, replacedBy string, args []Arg, history [][2]string) *Command {
		c := &Command{Name: name, Arity: arity, Flags: FlagReadonly, Categories: CatGeo, Keys: []KeySpec{key0},
			Group: "geo", Since: since, Complexity: radiusComplexity, Summary: summary, Handler: cmdGeoSearch,
			History: history, DocFlags: []string{"deprecated"}, DeprecatedSince: "6.2.0", ReplacedBy: replacedBy, Args: args}
		if store {
			c.Flags, c.Keys = FlagWrite|FlagDenyOOM, storeSpecs(-arity)
		}
		return c
	}
	t.add(
		&Command{Name: "geoadd", Arity: -5, Flags: FlagWrite | FlagDenyOOM, Categories: CatGeo,
			Keys:  []KeySpec{{Flags: KeyRW | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "geo", Since: "3.2.0",
			Complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
			Summary:    "Add one or more geospatial items in the geospatial index represented using a sorted set", Handler: cmdGeoAdd,
			History: [][2]string{{"6.2.0", "Added the `CH`, `NX` and `XX` options."}},
			Args:    []Arg{argKey("key", 0), argOneof("condition", argToken("nx", "NX"), argToken("xx", "XX")).since("6.2.0").optional(), argToken("change", "CH").since("6.2.0").optional(), argBlock("longitude_latitude_member", argDouble("longitude"), argDouble("latitude"), argString("member")).multiple()}},
		&Command{Name: "geodist", Arity: -4, Flags: FlagReadonly, Categories: CatGeo,
			Keys:  []KeySpec{key0},
			Group: "geo", Since: "3.2.0", Complexity: "O(log(N))",
			Summary: "Returns the distance between two members of a geospatial index", Handler: cmdGeoDist,
			Args: []Arg{argKey("key", 0), argString("member1"), argString("member2"), units().optional()}},
		&Command{Name: "geohash", Arity: -2, Flags: FlagReadonly, Categories: CatGeo,
			Keys:  []KeySpec{key0},
			Group: "geo", Since: "3.2.0",
			Complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
			Summary:    "Returns members of a geospatial index as standard geohash strings", Handler: cmdGeoHash,
			Args: []Arg{argKey("key", 0), argString("member").multiple()}},
		&Command{Name: "geopos", Arity: -2, Flags: FlagReadonly, Categories: CatGeo,
			Keys:  []KeySpec{key0},
			Group: "geo", Since: "3.2.0",
			Complexity: "O(N) where N is the number of members requested.",
			Summary:    "Returns longitude and latitude of members of a geospatial index", Handler: cmdGeoPos,
			Args: []Arg{argKey("key", 0), argString("member").multiple()}},
		radius("georadius", -6, true, "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
			"`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument", radiusArgs("6.2.0", true),
			[][2]string{{"6.2.0", "Added the `ANY` option for `COUNT`."}, {"7.0.0", "Added support for uppercase unit names."}}),
		radius("georadius_ro", -6, false, "3.2.10", "A read-only variant for GEORADIUS",
			"`GEOSEARCH` with the `BYRADIUS` argument", radiusArgs("6.2.0", false),
			[][2]string{{"6.2.0", "Added the `ANY` option for `COUNT`."}}),
		radius("georadiusbymember", -5, true, "3.2.0", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
			"`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments", byMemberArgs(true),
			[][2]string{{"7.0.0", "Added support for uppercase unit names."}}),
		radius("georadiusbymember_ro", -5, false, "3.2.10", "A read-only variant for GEORADIUSBYMEMBER",
			"`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments", byMemberArgs(false), nil),
		&Command{Name: "geosearch", Arity: -7, Flags: FlagReadonly, Categories: CatGeo,
			Keys:  []KeySpec{key0},
			Group: "geo", Since: "6.2.0", Complexity: searchComplexity,
			Summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", Handler: cmdGeoSearch,
			History: [][2]string{{"7.0.0", "Added support for uppercase unit names."}},
			Args:    append(append([]Arg{argKey("key", 0)}, searchArgs()...), with()...)},
		&Command{Name: "geosearchstore", Arity: -8, Flags: FlagWrite | FlagDenyOOM, Categories: CatGeo,
			Keys:  []KeySpec{{Flags: KeyOW | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}, {Flags: KeyRO | KeyAccess, Index: 2, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "geo", Since: "6.2.0", Complexity: searchComplexity,
			Summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", Handler: cmdGeoSearch,
			History: [][2]string{{"7.0.0", "Added support for uppercase unit names."}},
			Args:    append(append([]Arg{argKey("destination", 0), argKey("source", 1)}, searchArgs()...), argToken("storedist", "STOREDIST").optional())},
	)
	t.applier(op.GeoStore, applyGeoStore)
}

// cmdGeoAdd turns the coordinates into scores and proposes ZADD, as
// Redis's geoaddCommand rewrites itself into ZADD.
func cmdGeoAdd(c *Ctx) {
	var flags uint32
	i := 2
	for ; i < len(c.Args) && geoAddOption(c.Args[i]) != 0; i++ {
		flags |= geoAddOption(c.Args[i])
	}
	rest := c.Args[i:]
	if len(rest)%3 != 0 || len(rest) == 0 || flags&op.FlagNX != 0 && flags&op.FlagXX != 0 {
		c.W.Error(errSyntax.Error())
		return
	}
	args := make([][]byte, 1, 1+len(rest)/3*2)
	args[0] = c.Args[1]
	for j := 0; j < len(rest); j += 3 {
		lon, lat, err := parseLongLat(rest[j], rest[j+1])
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		bits, _ := geohash.Score(lon, lat)
		args = append(args, appendScore(nil, float64(bits)), rest[j+2])
	}
	c.propose(&op.Op{Type: op.ZAdd, DB: c.S.DB, Flags: flags, Args: args})
}

// geoAddOption is the ZADD flag of one of GEOADD's options, 0 if the
// argument is none.
func geoAddOption(a []byte) uint32 {
	switch {
	case eq(a, "NX"):
		return op.FlagNX
	case eq(a, "XX"):
		return op.FlagXX
	case eq(a, "CH"):
		return op.FlagZCh
	}
	return 0
}

// parseLongLat is Redis's extractLongLatOrReply.
func parseLongLat(lonArg, latArg []byte) (lon, lat float64, err error) {
	var ok bool
	if lon, ok = parseScore(lonArg); !ok {
		return 0, 0, errNotFloat
	}
	if lat, ok = parseScore(latArg); !ok {
		return 0, 0, errNotFloat
	}
	if lon < geohash.LongMin || lon > geohash.LongMax || lat < geohash.LatMin || lat > geohash.LatMax {
		return 0, 0, fmt.Errorf("ERR invalid longitude,latitude pair %s,%s", cFixed6(lon), cFixed6(lat))
	}
	return lon, lat, nil
}

// cFixed6 prints f as C's "%f".
func cFixed6(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}

// parseUnit is Redis's extractUnitOrReply: meters per unit.
func parseUnit(b []byte) (float64, error) {
	switch {
	case eq(b, "M"):
		return 1, nil
	case eq(b, "KM"):
		return 1000, nil
	case eq(b, "FT"):
		return 0.3048, nil
	case eq(b, "MI"):
		return 1609.34, nil
	}
	return 0, errGeoUnit
}

// appendDistance prints a distance as Redis's addReplyDoubleDistance
// (fixedpoint_d2string with 4 digits of llrint(d*10^4); llrint of NaN or
// of what int64 cannot hold is the minimum int64, as on x86-64).
func appendDistance(b []byte, d float64) []byte {
	if d == 0 {
		return append(b, "0.0000"...)
	}
	v := math.RoundToEven(float64(d * 10000))
	sv := int64(math.MinInt64)
	if v >= -(1<<63) && v < 1<<63 {
		sv = int64(v)
	}
	n := uint64(sv)
	if sv < 0 {
		b = append(b, '-')
		n = -n
	}
	b = strconv.AppendUint(b, n/10000, 10)
	b = append(b, '.')
	frac := n % 10000
	for div := uint64(1000); div > 0; div /= 10 {
		b = append(b, byte('0'+frac/div%10))
	}
	return b
}

// writeCoord writes a coordinate as Redis's addReplyHumanLongDouble: a
// bulk string in RESP2, a double in RESP3, "%.17Lf" trimmed either way.
func writeCoord(w *resp.Writer, f float64) {
	s := formatLongDouble(new(big.Float).SetFloat64(f))
	if w.Proto > 2 {
		w.Raw(append(append([]byte{','}, s...), '\r', '\n'))
		return
	}
	w.Bulk(s)
}

// readGeoMembers replies an array with, for each member named after the
// key, found's reply for its score or missing's.
func readGeoMembers(c *Ctx, missing func(), found func(score float64)) {
	c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
		c.W.Array(len(c.Args) - 2)
		for _, m := range c.Args[2:] {
			if s, ok := zsetScore(z, m); ok {
				found(s)
			} else {
				missing()
			}
		}
	})
}

func cmdGeoPos(c *Ctx) {
	readGeoMembers(c, c.W.NullArray, func(s float64) {
		lon, lat := geohash.DecodeScore(s)
		c.W.Array(2)
		writeCoord(c.W, lon)
		writeCoord(c.W, lat)
	})
}

func cmdGeoHash(c *Ctx) {
	readGeoMembers(c, c.W.Null, func(s float64) { c.W.BulkString(geohash.String(s)) })
}

// cmdGeoDist checks the unit before the key, as Redis does.
func cmdGeoDist(c *Ctx) {
	perMeter := 1.0
	switch {
	case len(c.Args) == 5:
		u, err := parseUnit(c.Args[4])
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		perMeter = u
	case len(c.Args) > 5:
		c.W.Error(errSyntax.Error())
		return
	}
	c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
		s1, ok1 := zsetScore(z, c.Args[2])
		s2, ok2 := zsetScore(z, c.Args[3])
		if !ok1 || !ok2 {
			c.W.Null()
			return
		}
		lon1, lat1 := geohash.DecodeScore(s1)
		lon2, lat2 := geohash.DecodeScore(s2)
		c.W.Bulk(appendDistance(nil, geohash.Distance(lon1, lat1, lon2, lat2)/perMeter))
	})
}

// zsetScore is m's score in z; false if z is nil or lacks m.
func zsetScore(z *keyspace.ZSet, m []byte) (float64, bool) {
	if z == nil {
		return 0, false
	}
	return z.Score(m)
}
