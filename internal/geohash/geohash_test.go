package geohash

import (
	"math"
	"strconv"
	"testing"
)

// The expected values are redis-server 7.0's replies for the same points.
var points = []struct {
	name     string
	lon, lat float64
	score    uint64
	hash     string
	posLon   string
	posLat   string
}{
	{"wtc one", -74.0131604, 40.7126674, 1791873972053020, "dr5reg922r0", "", ""},
	{"jfk", -73.7858139, 40.6428986, 1791895905559723, "dr5x0yyf1c0", "-73.78581315279006958", "40.64289898154041936"},
	{"ne corner", 180, 85.05112878, 13510798882111488, "bp05b5048p0", "180", "85.0511287799999991"},
	{"sw corner", -180, -85.05112878, 0, "00bh0hbj200", "-179.99999731779098511", "-85.05112751263942528"},
	{"origin", 0, 0, 3377699720527872, "s0000000000", "0.00000268220901489", "0.00000126736058093"},
	{"palermo", 13.361389, 38.115556, 3479099956230698, "sqc8b49rny0", "13.36138933897018433", "38.11555639549629859"},
}

// trimmed17 prints as Redis's "%.17Lf" with trailing zeros removed.
func trimmed17(f float64) string {
	s := strconv.FormatFloat(f, 'f', 17, 64)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

func TestScoreHashAndPosition(t *testing.T) {
	for _, p := range points {
		got, ok := Score(p.lon, p.lat)
		if !ok || got != p.score {
			t.Errorf("%s: Score = %d, %v; want %d", p.name, got, ok, p.score)
		}
		if h := String(float64(p.score)); h != p.hash {
			t.Errorf("%s: String = %s; want %s", p.name, h, p.hash)
		}
		if p.posLon == "" {
			continue
		}
		lon, lat := DecodeScore(float64(p.score))
		if trimmed17(lon) != p.posLon || trimmed17(lat) != p.posLat {
			t.Errorf("%s: DecodeScore = %s %s; want %s %s", p.name, trimmed17(lon), trimmed17(lat), p.posLon, p.posLat)
		}
	}
}

func TestScoreOutOfRange(t *testing.T) {
	for _, c := range [][2]float64{{180.0001, 0}, {-181, 0}, {0, 85.06}, {0, -86}, {math.NaN(), 0}, {math.Inf(1), 0}} {
		if _, ok := Score(c[0], c[1]); ok {
			t.Errorf("Score(%v, %v) accepted", c[0], c[1])
		}
	}
}

// Distances as redis-server prints them (GEODIST, 4 decimals), and their
// full bits as glibc computes them (Python's math on this machine).
func TestDistance(t *testing.T) {
	cases := []struct {
		lon1, lat1, lon2, lat2 float64
		want                   string
	}{
		{-74.0131604, 40.7126674, -73.7858139, 40.6428986, "20688.0430"},
		{-73.7858139, 40.6428986, 180, 85.05112878, "5661740.1549"},
		{-180, -85.05112878, 180, 85.05112878, "18919844.5891"},
	}
	for _, c := range cases {
		s1, _ := Score(c.lon1, c.lat1)
		s2, _ := Score(c.lon2, c.lat2)
		lon1, lat1 := DecodeScore(float64(s1))
		lon2, lat2 := DecodeScore(float64(s2))
		if got := strconv.FormatFloat(Distance(lon1, lat1, lon2, lat2), 'f', 4, 64); got != c.want {
			t.Errorf("Distance = %s; want %s", got, c.want)
		}
	}
	// Correctly rounded arcsines (mpmath); Go's math.Asin is off on both.
	if got := asin(0.8359168794428665); got != 0.9898011943635247 {
		t.Errorf("asin = %v", got)
	}
	if got := asin(-0.9999); got != -1.5566540733173846 {
		t.Errorf("asin near -1 = %v", got)
	}
	// Same longitude: the latitude distance alone.
	if d := Distance(10, 1, 10, 2); d != LatDistance(1, 2) {
		t.Errorf("meridian distance %v != %v", d, LatDistance(1, 2))
	}
}

func TestSinCosAgainstMath(t *testing.T) {
	for x := -7.0; x < 7; x += 0.001 {
		if d := math.Abs(sin(x) - math.Sin(x)); d > 2e-16 {
			t.Fatalf("sin(%v) = %v, math %v", x, sin(x), math.Sin(x))
		}
		if d := math.Abs(cos(x) - math.Cos(x)); d > 2e-16 {
			t.Fatalf("cos(%v) = %v, math %v", x, cos(x), math.Cos(x))
		}
	}
	for x := -1.0; x <= 1; x += 0.0001 {
		// Go's Asin strays by up to tens of units near ±1.
		if d := math.Abs(asin(x) - math.Asin(x)); d > 1e-14 {
			t.Fatalf("asin(%v) = %v, math %v", x, asin(x), math.Asin(x))
		}
	}
}

// The nine boxes around a point: the center is the point's own box at
// the estimated precision, and a neighbour differs from it.
func TestAreas(t *testing.T) {
	s := Shape{Long: 15, Lat: 37, Radius: 200, Conversion: 1000}
	boxes := Areas(&s)
	if boxes[0].Step != EstimateSteps(200000, 37) && boxes[0].Step != EstimateSteps(200000, 37)-1 {
		t.Fatalf("center step %d", boxes[0].Step)
	}
	lo, hi := ScoreRange(boxes[0])
	p, _ := Score(15, 37)
	if p < lo || p >= hi {
		t.Fatalf("the center's score %d is outside its box [%d, %d)", p, lo, hi)
	}
	for i, b := range boxes[1:] {
		if b == boxes[0] {
			t.Errorf("neighbour %d equals the center", i+1)
		}
	}
	if EstimateSteps(0, 0) != 26 || EstimateSteps(math.Inf(1), 0) != 1 {
		t.Error("EstimateSteps limits")
	}
}

// A search shape: a point on the circle's edge is in, one beyond is out;
// a box checks each axis.
func TestWithin(t *testing.T) {
	c := Shape{Long: 0, Lat: 0, Radius: 1, Conversion: 1000}
	if _, ok := c.Within(0, 0.008); !ok {
		t.Error("a point 890 m away is outside a 1 km circle")
	}
	if _, ok := c.Within(0, 0.01); ok {
		t.Error("a point 1.1 km away is inside a 1 km circle")
	}
	b := Shape{Long: 0, Lat: 0, Box: true, Width: 2, Height: 20, Conversion: 1000}
	if _, ok := b.Within(0.02, 0); ok {
		t.Error("2.2 km east is inside a 2 km wide box")
	}
	if _, ok := b.Within(0, 0.08); !ok {
		t.Error("8.9 km north is outside a 20 km tall box")
	}
}

// FuzzDecodeScore: any score (a sorted set may hold anything) decodes
// to a point within the limits, without a panic.
func FuzzDecodeScore(f *testing.F) {
	for _, s := range []float64{0, -1, 1 << 52, 3 << 52, 1e300, math.Inf(1), math.Inf(-1), math.NaN(), -0.0} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s float64) {
		lon, lat := DecodeScore(s)
		if !(lon >= LongMin && lon <= LongMax && lat >= LatMin && lat <= LatMax) {
			t.Fatalf("DecodeScore(%v) = %v, %v", s, lon, lat)
		}
		_ = String(s)
	})
}

// FuzzAreas: any shape the commands accept yields nine boxes without a
// panic.
func FuzzAreas(f *testing.F) {
	f.Add(15.0, 37.0, 200.0, 0.0, 0.0, false, 1000.0)
	f.Add(-180.0, 85.05112878, 0.0, 0.0, 0.0, false, 1.0)
	f.Add(0.0, 0.0, 0.0, 1e308, 1e308, true, 1609.34)
	f.Fuzz(func(t *testing.T, lon, lat, r, w, h float64, box bool, conv float64) {
		if !(lon >= LongMin && lon <= LongMax && lat >= LatMin && lat <= LatMax) || r < 0 || w < 0 || h < 0 || conv <= 0 {
			return
		}
		s := Shape{Long: lon, Lat: lat, Box: box, Radius: r, Width: w, Height: h, Conversion: conv}
		for _, b := range Areas(&s) {
			ScoreRange(b)
		}
		s.Within(lon, lat)
	})
}
