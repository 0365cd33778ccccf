package commands

// The geo searches, as Redis 7.0's georadiusGeneric: GEORADIUS[_RO],
// GEORADIUSBYMEMBER[_RO], GEOSEARCH and GEOSEARCHSTORE. A search that
// replies is a read; one that stores (STORE, STOREDIST, GEOSEARCHSTORE)
// proposes one GeoStore op carrying the command's arguments, and its
// applier parses and searches again on the state it applies to, so every
// node stores the same set and the errors come in Redis's order (the
// source's type first, then the arguments).

import (
	"errors"
	"fmt"
	"slices"

	"github.com/loomcache/loomcache/internal/geohash"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

// A search's variant, as georadiusGeneric's flags; GeoStore's Int.
const (
	geoCoords      = 1 << 0 // around coordinates (GEORADIUS)
	geoMember      = 1 << 1 // around a member (GEORADIUSBYMEMBER)
	geoNoStore     = 1 << 2 // STORE and STOREDIST refused (the _RO forms)
	geoSearch      = 1 << 3 // GEOSEARCH's arguments
	geoSearchStore = 1 << 4 // GEOSEARCHSTORE: STOREDIST alone
)

// The order of a search's reply.
const (
	geoSortNone = iota
	geoSortAsc
	geoSortDesc
)

var (
	errGeoAnyCount  = errors.New("ERR the ANY argument requires COUNT argument")
	errGeoCount     = errors.New("ERR COUNT must be > 0")
	errGeoRadius    = errors.New("ERR need numeric radius")
	errGeoNegRadius = errors.New("ERR radius cannot be negative")
	errGeoWidth     = errors.New("ERR need numeric width")
	errGeoHeight    = errors.New("ERR need numeric height")
	errGeoNegBox    = errors.New("ERR height or width cannot be negative")
)

// geoVariant returns the variant of a search command.
func geoVariant(name string) int {
	switch name {
	case "georadius":
		return geoCoords
	case "georadius_ro":
		return geoCoords | geoNoStore
	case "georadiusbymember":
		return geoMember
	case "georadiusbymember_ro":
		return geoMember | geoNoStore
	case "geosearch":
		return geoSearch
	}
	return geoSearch | geoSearchStore
}

// geoQuery is a search's parsed arguments.
type geoQuery struct {
	shape                         geohash.Shape
	withDist, withHash, withCoord bool
	any                           bool
	sort                          int
	count                         int64 // 0: all
	store                         []byte
	storeDist                     bool
}

// geoPoint is a match: the member (copied), its point, its score and its
// distance from the center in meters.
type geoPoint struct {
	member      []byte
	lon, lat    float64
	dist, score float64
}

// parseGeoDistance is extractDistanceOrReply: radius and unit.
func parseGeoDistance(q *geoQuery, args [][]byte) error {
	r, ok := parseScore(args[0])
	if !ok {
		return errGeoRadius
	}
	if r < 0 {
		return errGeoNegRadius
	}
	conv, err := parseUnit(args[1])
	if err != nil {
		return err
	}
	q.shape.Radius, q.shape.Conversion, q.shape.Box = r, conv, false
	return nil
}

// parseGeoBox is extractBoxOrReply: width, height and unit.
func parseGeoBox(q *geoQuery, args [][]byte) error {
	w, ok := parseScore(args[0])
	if !ok {
		return errGeoWidth
	}
	h, ok := parseScore(args[1])
	if !ok {
		return errGeoHeight
	}
	if h < 0 || w < 0 {
		return errGeoNegBox
	}
	conv, err := parseUnit(args[2])
	if err != nil {
		return err
	}
	q.shape.Width, q.shape.Height, q.shape.Conversion, q.shape.Box = w, h, conv, true
	return nil
}

// setCenterMember puts the search's center at member m of z.
func setCenterMember(q *geoQuery, z *keyspace.ZSet, m []byte) error {
	s, ok := zsetScore(z, m)
	if !ok {
		return errGeoMember
	}
	q.shape.Long, q.shape.Lat = geohash.DecodeScore(s)
	return nil
}

// parseGeoQuery parses a search's whole argv (args[0] its name as sent)
// against z, the source (nil if absent), in georadiusGeneric's order.
func parseGeoQuery(z *keyspace.ZSet, args [][]byte, flags int) (*geoQuery, error) {
	q := &geoQuery{}
	var base int
	switch {
	case flags&geoCoords != 0:
		base = 6
		lon, lat, err := parseLongLat(args[2], args[3])
		if err != nil {
			return nil, err
		}
		q.shape.Long, q.shape.Lat = lon, lat
		if err := parseGeoDistance(q, args[4:6]); err != nil {
			return nil, err
		}
	case flags&geoMember != 0:
		base = 5
		if z != nil {
			if err := setCenterMember(q, z, args[2]); err != nil {
				return nil, err
			}
			if err := parseGeoDistance(q, args[3:5]); err != nil {
				return nil, err
			}
		}
	case flags&geoSearchStore != 0:
		base = 3
		q.store = args[1]
	default:
		base = 2
	}
	search := flags&geoSearch != 0
	canStore := flags&(geoNoStore|geoSearch) == 0
	var fromMember, fromLoc, byRadius, byBox bool
	rest := args[base:]
	for i := 0; i < len(rest); i++ {
		a, left := rest[i], len(rest)-i-1
		switch {
		case eq(a, "WITHDIST"):
			q.withDist = true
		case eq(a, "WITHHASH"):
			q.withHash = true
		case eq(a, "WITHCOORD"):
			q.withCoord = true
		case eq(a, "ANY"):
			q.any = true
		case eq(a, "ASC"):
			q.sort = geoSortAsc
		case eq(a, "DESC"):
			q.sort = geoSortDesc
		case eq(a, "COUNT") && left >= 1:
			n, ok := parseInt(rest[i+1])
			if !ok {
				return nil, errNotInt
			}
			if n <= 0 {
				return nil, errGeoCount
			}
			q.count = n
			i++
		case (eq(a, "STORE") || eq(a, "STOREDIST")) && left >= 1 && canStore:
			q.store, q.storeDist = rest[i+1], eq(a, "STOREDIST")
			i++
		case eq(a, "STOREDIST") && flags&geoSearchStore != 0:
			q.storeDist = true
		case eq(a, "FROMMEMBER") && left >= 1 && search && !fromLoc:
			if z != nil {
				if err := setCenterMember(q, z, rest[i+1]); err != nil {
					return nil, err
				}
			}
			fromMember = true
			i++
		case eq(a, "FROMLONLAT") && left >= 2 && search && !fromMember:
			lon, lat, err := parseLongLat(rest[i+1], rest[i+2])
			if err != nil {
				return nil, err
			}
			q.shape.Long, q.shape.Lat = lon, lat
			fromLoc = true
			i += 2
		case eq(a, "BYRADIUS") && left >= 2 && search && !byBox:
			if err := parseGeoDistance(q, rest[i+1:i+3]); err != nil {
				return nil, err
			}
			byRadius = true
			i += 2
		case eq(a, "BYBOX") && left >= 3 && search && !byRadius:
			if err := parseGeoBox(q, rest[i+1:i+4]); err != nil {
				return nil, err
			}
			byBox = true
			i += 3
		default:
			return nil, errSyntax
		}
	}
	switch {
	case q.store != nil && (q.withDist || q.withHash || q.withCoord):
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		return nil, fmt.Errorf("ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options", what)
	case search && !fromMember && !fromLoc:
		return nil, fmt.Errorf("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s", args[0])
	case search && !byRadius && !byBox:
		return nil, fmt.Errorf("ERR exactly one of BYRADIUS and BYBOX can be specified for %s", args[0])
	case q.any && q.count == 0:
		return nil, errGeoAnyCount
	}
	// COUNT without an order returns the nearest; with ANY, the first found.
	if q.count != 0 && q.sort == geoSortNone && !q.any {
		q.sort = geoSortAsc
	}
	return q, nil
}

// geoFind returns the members of z inside q's shape, in the order Redis
// finds them (box by box, each by score), sorted as q asks, at most
// q.count of them.
func geoFind(z *keyspace.ZSet, q *geoQuery) []geoPoint {
	var limit int64
	if q.any {
		limit = q.count
	}
	full := func(pts []geoPoint) bool { return limit > 0 && int64(len(pts)) >= limit }
	boxes := geohash.Areas(&q.shape)
	var pts []geoPoint
	last := 0
	for i, b := range boxes {
		// A huge radius makes neighbours repeat: skip a box equal to the
		// last one searched (Redis never compares with the center box).
		if b.IsZero() || last != 0 && b == boxes[last] {
			continue
		}
		if len(pts) > 0 && full(pts) {
			break
		}
		lo, hi := geohash.ScoreRange(b)
		min, max := float64(lo), float64(hi)
		from := z.Search(func(_ []byte, s float64) bool { return s >= min })
		z.Range(from, false, func(m []byte, s float64) bool {
			if s >= max {
				return false
			}
			lon, lat := geohash.DecodeScore(s)
			if d, ok := q.shape.Within(lon, lat); ok {
				pts = append(pts, geoPoint{member: append([]byte(nil), m...), lon: lon, lat: lat, dist: d, score: s})
			}
			return len(pts) == 0 || !full(pts)
		})
		last = i
	}
	if q.sort != geoSortNone {
		cmp := func(a, b *geoPoint) int { return cmpDist(a.dist, b.dist) }
		if q.sort == geoSortDesc {
			cmp = func(a, b *geoPoint) int { return -cmpDist(a.dist, b.dist) }
		}
		// Redis sorts everything with glibc's qsort (a stable merge sort
		// here), or only the first COUNT with its pqsort.
		if q.count == 0 || int64(len(pts)) <= q.count {
			slices.SortStableFunc(pts, func(a, b geoPoint) int { return cmp(&a, &b) })
		} else {
			pqsort(pts, cmp, 0, int(q.count)-1)
		}
	}
	if q.count > 0 && int64(len(pts)) > q.count {
		pts = pts[:q.count]
	}
	return pts
}

// cmpDist is Redis's sort_gp_asc.
func cmpDist(a, b float64) int {
	switch {
	case a > b:
		return 1
	case a == b:
		return 0
	}
	return -1
}

// geoReply is a search's reply.
type geoReply struct {
	q   *geoQuery
	pts []geoPoint
}

func (r *geoReply) writeReply(w *resp.Writer) {
	q := r.q
	opts := 0
	for _, on := range []bool{q.withDist, q.withHash, q.withCoord} {
		if on {
			opts++
		}
	}
	w.Array(len(r.pts))
	for _, p := range r.pts {
		if opts > 0 {
			w.Array(opts + 1)
		}
		w.Bulk(p.member)
		if q.withDist {
			w.Bulk(appendDistance(nil, p.dist/q.shape.Conversion))
		}
		if q.withHash {
			w.Int(int64(p.score))
		}
		if q.withCoord {
			w.Array(2)
			writeCoord(w, p.lon)
			writeCoord(w, p.lat)
		}
	}
}

// geoStores reports whether a search's arguments name a destination, as
// Redis's georadiusGetKeys finds one.
func geoStores(args [][]byte, flags int) bool {
	if flags&geoSearchStore != 0 {
		return true
	}
	if flags&(geoNoStore|geoSearch) != 0 {
		return false
	}
	for i := 5; i+1 < len(args); i++ {
		if eq(args[i], "STORE") || eq(args[i], "STOREDIST") {
			return true
		}
	}
	return false
}

// cmdGeoSearch serves every search: a read, or a GeoStore op.
func cmdGeoSearch(c *Ctx) {
	flags := geoVariant(c.Cmd.Name)
	if geoStores(c.Args, flags) {
		c.propose(&op.Op{Type: op.GeoStore, DB: c.S.DB, Int: int64(flags), Args: c.Args})
		return
	}
	c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
		q, err := parseGeoQuery(z, c.Args, flags)
		switch {
		case err != nil:
			c.W.Error(err.Error())
		case z == nil:
			c.W.Array(0)
		default:
			(&geoReply{q: q, pts: geoFind(z, q)}).writeReply(c.W)
		}
	})
}

// geoMinArgs is the least argv a stored search's variant needs (its
// arity), 0 for a variant that never stores: a malformed op is refused
// rather than indexed past its end.
func geoMinArgs(variant int64) int {
	switch variant {
	case geoCoords:
		return 6
	case geoMember:
		return 5
	case geoSearch | geoSearchStore:
		return 8
	}
	return 0
}

// applyGeoStore runs a storing search on the state it applies to, as
// georadiusGeneric: the result is a new sorted set at the destination
// (scores the geohashes, or the distances with STOREDIST), or none.
func applyGeoStore(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	least := geoMinArgs(o.Int)
	if least == 0 || len(o.Args) < least {
		return errBadOp
	}
	flags := int(o.Int)
	src := o.Args[1]
	if flags&geoSearchStore != 0 {
		src = o.Args[2]
	}
	z, err := existingZSet(db, src, o.Now)
	if err != nil {
		return err
	}
	q, err := parseGeoQuery(z, o.Args, flags)
	if err != nil {
		return err
	}
	if q.store == nil {
		return errBadOp
	}
	var pairs []zpair
	if z != nil {
		for _, p := range geoFind(z, q) {
			s := p.score
			if q.storeDist {
				s = p.dist / q.shape.Conversion
			}
			pairs = append(pairs, zpair{m: p.member, s: s})
		}
	}
	event := "georadiusstore"
	if flags&geoSearch != 0 {
		event = "geosearchstore"
	}
	// Redis builds a skiplist and converts it to a listpack if small
	// enough: the encoding storeZPairs gives one sized for the result.
	return storeZPairs(ks, db, q.store, o.Now, pairs, true, event)
}
