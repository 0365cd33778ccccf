// Package geohash is Redis 7.0's geohash arithmetic (geohash.c,
// geohash_helper.c and the haversine of geo.c): 52-bit interleaved
// scores, the nine boxes that cover a search area, and distances. The
// replies of the GEO commands are printed from these numbers, so the
// order of every floating-point operation follows Redis's C; products
// that feed a sum are wrapped in float64() so no platform fuses them.
// It is pure: no state, no I/O.
package geohash

// The coordinate limits Redis accepts (EPSG:900913): no geocoding at the
// poles.
const (
	LatMin  = -85.05112878
	LatMax  = 85.05112878
	LongMin = -180.0
	LongMax = 180.0
	// StepMax is the precision of a stored score: 26 steps, 52 bits.
	StepMax = 26
)

// Bits is a geohash of Step steps (2*Step bits).
type Bits struct {
	Bits uint64
	Step uint8
}

// IsZero reports whether h is Redis's zeroed hash (a box left out).
func (h Bits) IsZero() bool { return h.Bits == 0 && h.Step == 0 }

// Range is an interval of one coordinate.
type Range struct{ Min, Max float64 }

// Area is the box a hash stands for.
type Area struct {
	Hash      Bits
	Longitude Range
	Latitude  Range
}

// interleave puts x's bits in the even positions and y's in the odd.
func interleave(x, y uint32) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF}
	s := [...]uint{1, 2, 4, 8, 16}
	xx, yy := uint64(x), uint64(y)
	for i := 4; i >= 0; i-- {
		xx = (xx | xx<<s[i]) & b[i]
		yy = (yy | yy<<s[i]) & b[i]
	}
	return xx | yy<<1
}

// deinterleave undoes interleave: the even bits in the low 32 bits of
// the result, the odd bits in the high 32.
func deinterleave(v uint64) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF}
	s := [...]uint{0, 1, 2, 4, 8, 16}
	x, y := v, v>>1
	for i := range 6 {
		x = (x | x>>s[i]) & b[i]
		y = (y | y>>s[i]) & b[i]
	}
	return x | y<<32
}

// WGS84 returns the ranges of Redis's stored scores.
func WGS84() (long, lat Range) {
	return Range{LongMin, LongMax}, Range{LatMin, LatMax}
}

// Encode is geohashEncode: false when the point or the step is out of
// range.
func Encode(longR, latR Range, longitude, latitude float64, step uint8) (Bits, bool) {
	if step > 32 || step == 0 || latR.Max-latR.Min == 0 || longR.Max-longR.Min == 0 {
		return Bits{}, false
	}
	if longitude > LongMax || longitude < LongMin || latitude > LatMax || latitude < LatMin {
		return Bits{}, false
	}
	if longitude != longitude || latitude != latitude { // NaN: never parsed, refused anyway
		return Bits{}, false
	}
	if latitude < latR.Min || latitude > latR.Max || longitude < longR.Min || longitude > longR.Max {
		return Bits{}, false
	}
	latOff := (latitude - latR.Min) / (latR.Max - latR.Min)
	longOff := (longitude - longR.Min) / (longR.Max - longR.Min)
	scale := float64(uint64(1) << step)
	latOff *= scale
	longOff *= scale
	return Bits{Bits: interleave(uint32(latOff), uint32(longOff)), Step: step}, true
}

// EncodeWGS84 encodes a point at Redis's ranges.
func EncodeWGS84(longitude, latitude float64, step uint8) (Bits, bool) {
	lo, la := WGS84()
	return Encode(lo, la, longitude, latitude, step)
}

// Decode is geohashDecode: the box h stands for.
func Decode(longR, latR Range, h Bits) (Area, bool) {
	if h.IsZero() || latR.Max-latR.Min == 0 || longR.Max-longR.Min == 0 {
		return Area{}, false
	}
	sep := deinterleave(h.Bits)
	latScale := latR.Max - latR.Min
	longScale := longR.Max - longR.Min
	ilat := uint32(sep)
	ilong := uint32(sep >> 32)
	div := float64(uint64(1) << h.Step)
	a := Area{Hash: h}
	// ilat+1 wraps in 32 bits as C's does.
	a.Latitude.Min = latR.Min + float64(float64(float64(ilat)*1.0/div)*latScale)
	a.Latitude.Max = latR.Min + float64(float64(float64(ilat+1)*1.0/div)*latScale)
	a.Longitude.Min = longR.Min + float64(float64(float64(ilong)*1.0/div)*longScale)
	a.Longitude.Max = longR.Min + float64(float64(float64(ilong+1)*1.0/div)*longScale)
	return a, true
}

// Center returns the middle of a box, clamped to the valid coordinates.
func (a Area) Center() (longitude, latitude float64) {
	longitude = (a.Longitude.Min + a.Longitude.Max) / 2
	longitude = min(max(longitude, LongMin), LongMax)
	latitude = (a.Latitude.Min + a.Latitude.Max) / 2
	latitude = min(max(latitude, LatMin), LatMax)
	return longitude, latitude
}

// Align52 shifts a hash to the 52 bits of a score.
func Align52(h Bits) uint64 { return h.Bits << (52 - uint(h.Step)*2) }

// ScoreBits converts a sorted set score to the 64 bits Redis decodes, as
// C's (uint64_t) cast does on x86-64 (a score out of range gives what
// the instruction gives, never a panic).
func ScoreBits(score float64) uint64 {
	const two63 = 9223372036854775808.0
	if score < two63 {
		return uint64(truncInt64(score))
	}
	return uint64(truncInt64(score-two63)) ^ 1<<63
}

// truncInt64 is cvttsd2si: truncation, or the "integer indefinite"
// value for NaN and anything out of range.
func truncInt64(f float64) int64 {
	if f != f || f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return -1 << 63
	}
	return int64(f)
}

// DecodeScore returns the point a stored score stands for (Redis's
// decodeGeohash).
func DecodeScore(score float64) (longitude, latitude float64) {
	lo, la := WGS84()
	a, _ := Decode(lo, la, Bits{Bits: ScoreBits(score), Step: StepMax})
	return a.Center()
}

// Score returns the score Redis stores for a point; false when it is
// outside the limits.
func Score(longitude, latitude float64) (uint64, bool) {
	h, ok := EncodeWGS84(longitude, latitude, StepMax)
	if !ok {
		return 0, false
	}
	return Align52(h), true
}

// String returns the 11-character standard geohash of a stored score, as
// Redis's GEOHASH prints it (re-encoded at latitudes -90..90).
func String(score float64) string {
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	lon, lat := DecodeScore(score)
	h, _ := Encode(Range{-180, 180}, Range{-90, 90}, lon, lat, 26)
	var buf [11]byte
	for i := range 11 {
		idx := 0
		if i < 10 {
			idx = int(h.Bits>>(52-(uint(i)+1)*5)) & 0x1f
		}
		buf[i] = alphabet[idx]
	}
	return string(buf[:])
}
