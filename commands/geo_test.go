package commands

import (
	"bytes"
	"math"
	"testing"

	"github.com/loomcache/loomcache/internal/geohash"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

func TestGeoAddProposesZAddScores(t *testing.T) {
	x := newTester(t)
	x.expect("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", ":2\r\n")
	x.expect("ZSCORE Sicily Palermo", "$16\r\n3479099956230698\r\n")
	x.expect("GEOADD Sicily CH XX 13.361389 38.115556 Palermo 15 37 Catania 1 1 New", ":1\r\n")
	x.expect("ZCARD Sicily", ":2\r\n")
	x.expect("GEOADD Sicily NX XX 1 1 m", "-ERR syntax error\r\n")
	x.expect("GEOADD Sicily 1 86 m", "-ERR invalid longitude,latitude pair 1.000000,86.000000\r\n")
	x.expect("GEOADD Sicily -inf 0 m", "-ERR invalid longitude,latitude pair -inf,0.000000\r\n")
}

func TestGeoReplies(t *testing.T) {
	x := newTester(t)
	x.do("GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania")
	x.expect("GEOPOS Sicily Palermo nope", "*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n")
	x.expect("GEODIST Sicily Palermo Catania km", "$8\r\n166.2742\r\n")
	x.expect("GEOHASH Sicily Palermo nope", "*2\r\n$11\r\nsqc8b49rny0\r\n$-1\r\n")
	x.expect("GEORADIUS Sicily 15 37 200 km WITHDIST ASC", "*2\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n")
	x.expect("GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km WITHHASH", "*1\r\n*2\r\n$7\r\nPalermo\r\n:3479099956230698\r\n")
	x.ctx.W.Proto = 3
	x.expect("GEOPOS Sicily Palermo nope", "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n")
}

// TestGeoStoreRepeats: the GeoStore op carries the arguments, not the
// result, and gives the same set on every node that applies it to the
// same state.
func TestGeoStoreRepeats(t *testing.T) {
	table := NewTable()
	add := &op.Op{Type: op.ZAdd, Now: 1, Args: [][]byte{[]byte("src")}}
	for i := range 50 {
		s, _ := geoScore(float64(i)*0.01, float64(i)*0.005)
		add.Args = append(add.Args, appendScore(nil, s), []byte{'m', byte('0' + i%10), byte('a' + i/10)})
	}
	store := &op.Op{Type: op.GeoStore, Now: 2, Int: geoSearch | geoSearchStore, Args: bytesArgs(
		"GEOSEARCHSTORE", "dst", "src", "FROMLONLAT", "0.2", "0.1", "BYRADIUS", "20", "km", "COUNT", "10", "STOREDIST")}
	var first []byte
	for range 3 {
		ks := keyspace.New(1)
		ks.Lock()
		table.Apply(ks, add)
		if got := table.Apply(ks, store); got != int64(10) {
			t.Fatalf("GEOSEARCHSTORE replied %v", got)
		}
		e := ks.DB(0).GetRead([]byte("dst"), 2)
		if e == nil {
			t.Fatal("no destination")
		}
		var dump []byte
		e.Object().(*keyspace.ZSet).Range(0, false, func(m []byte, s float64) bool {
			dump = appendScore(append(dump, m...), s)
			return true
		})
		ks.Unlock()
		if first == nil {
			first = dump
		} else if !bytes.Equal(first, dump) {
			t.Fatal("two applies stored different sets")
		}
	}
}

// TestGeoStoreMalformed: an op whose variant or arguments do not fit is
// refused, not indexed past its end.
func TestGeoStoreMalformed(t *testing.T) {
	table := NewTable()
	ks := keyspace.New(1)
	ks.Lock()
	defer ks.Unlock()
	for _, o := range []*op.Op{
		{Type: op.GeoStore, Int: geoSearch, Args: bytesArgs("GEOSEARCH", "k", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km")},
		{Type: op.GeoStore, Int: geoCoords, Args: bytesArgs("GEORADIUS", "k", "0", "0", "1")},
		{Type: op.GeoStore, Int: geoCoords | geoNoStore, Args: bytesArgs("GEORADIUS_RO", "k", "0", "0", "1", "km")},
		{Type: op.GeoStore, Int: geoCoords, Args: bytesArgs("GEORADIUS", "k", "0", "0", "1", "km")},
	} {
		if got := table.Apply(ks, o); got != errBadOp {
			t.Errorf("%v: %v", o.Args, got)
		}
	}
}

func TestAppendDistance(t *testing.T) {
	for _, c := range []struct {
		d    float64
		want string
	}{
		{0, "0.0000"}, {math.Copysign(0, -1), "0.0000"}, {0.00005, "0.0000"}, {0.00015, "0.0001"} /* 1.4999999999999998 after scaling */, {0.25e-4 * 3, "0.0001"},
		{6.0642951598391699e-05, "0.0001"}, {0.775, "0.7750"}, {166274.15156960033, "166274.1516"}, {-1.5, "-1.5000"},
		{math.NaN(), "-922337203685477.5808"}, {1e300, "-922337203685477.5808"},
	} {
		if got := string(appendDistance(nil, c.d)); got != c.want {
			t.Errorf("appendDistance(%v) = %s; want %s", c.d, got, c.want)
		}
	}
}

// FuzzGeoStore feeds arbitrary arguments to the storing searches over a
// populated index: every reply is a count or an error, never a panic.
func FuzzGeoStore(f *testing.F) {
	f.Add(int64(geoSearch|geoSearchStore), "dst\x00src\x00FROMMEMBER\x00m1a\x00BYBOX\x001e308\x00inf\x00mi\x00COUNT\x003\x00ANY")
	f.Add(int64(geoCoords), "src\x000\x000\x0050000\x00km\x00STOREDIST\x00dst\x00DESC")
	f.Add(int64(geoMember), "src\x00m2a\x000\x00ft\x00STORE\x00src")
	table := NewTable()
	f.Fuzz(func(t *testing.T, variant int64, joined string) {
		ks := keyspace.New(1)
		ks.Lock()
		defer ks.Unlock()
		add := &op.Op{Type: op.ZAdd, Now: 1, Args: [][]byte{[]byte("src")}}
		for i := range 30 {
			s, _ := geoScore(float64(i)*11-160, float64(i)*5-80)
			add.Args = append(add.Args, appendScore(nil, s), []byte{'m', byte('0' + i%10), byte('a' + i/10)})
		}
		table.Apply(ks, add)
		args := append([][]byte{[]byte("GEOCMD")}, bytes.Split([]byte(joined), []byte{0})...)
		switch got := table.Apply(ks, &op.Op{Type: op.GeoStore, Now: 2, Int: variant, Args: args}).(type) {
		case int64, error:
		default:
			t.Fatalf("reply %T", got)
		}
	})
}

func geoScore(lon, lat float64) (float64, bool) {
	bits, ok := geohash.Score(lon, lat)
	return float64(bits), ok
}

func bytesArgs(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}
