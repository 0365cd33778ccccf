package geohash

import "math"

// EarthRadius is Redis's quadratic mean radius for WGS-84, in meters.
const EarthRadius = 6372797.560856

// mercatorMax is Redis's MERCATOR_MAX.
const mercatorMax = 20037726.37

// dR is C's M_PI / 180.0 (a double division; the same bits as the exact
// quotient rounded).
const dR = math.Pi / 180.0

func degRad(a float64) float64 { return a * dR }
func radDeg(a float64) float64 { return a / dR }

// The bits of each coordinate in an interleaved hash.
const (
	xBits uint64 = 0xaaaaaaaaaaaaaaaa
	yBits uint64 = 0x5555555555555555
)

// move moves h one box along the coordinate of bits m (xBits: east for d
// > 0, west for d < 0; yBits: north, south), as geohash_move_x and
// geohash_move_y do: the other coordinate's bits are kept.
func move(h *Bits, d int, m uint64) {
	if d == 0 {
		return
	}
	shift := 64 - uint(h.Step)*2
	v, keep := h.Bits&m, h.Bits&^m
	zz := ^m >> shift
	if d > 0 {
		v += zz + 1
	} else {
		v |= zz
		v -= zz + 1
	}
	v &= m >> shift
	h.Bits = v | keep
}

// Neighbors are the eight boxes around one.
type Neighbors struct {
	North, South, East, West                   Bits
	NorthEast, NorthWest, SouthEast, SouthWest Bits
}

func neighbors(h Bits) Neighbors {
	at := func(dx, dy int) Bits {
		n := h
		move(&n, dx, xBits)
		move(&n, dy, yBits)
		return n
	}
	return Neighbors{
		East: at(1, 0), West: at(-1, 0), South: at(0, -1), North: at(0, 1),
		NorthWest: at(-1, 1), NorthEast: at(1, 1), SouthEast: at(1, -1), SouthWest: at(-1, -1),
	}
}

// EstimateSteps is geohashEstimateStepsByRadius: the precision of the
// nine boxes of a search of that radius at that latitude.
func EstimateSteps(rangeMeters, lat float64) uint8 {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint8(min(max(step, 1), 26))
}

// Shape is a search area: a circle (Radius) or, when Box is set, a
// rectangle (Width by Height), around Long, Lat, in units of Conversion
// meters.
type Shape struct {
	Long, Lat     float64
	Box           bool
	Radius        float64
	Width, Height float64
	Conversion    float64
}

// bounds is geohashBoundingBox: min long, min lat, max long, max lat.
func (s *Shape) bounds() [4]float64 {
	height, width := s.Radius, s.Radius
	if s.Box {
		height, width = s.Height/2, s.Width/2
	}
	height *= s.Conversion
	width *= s.Conversion
	latDelta := radDeg(height / EarthRadius)
	longDeltaTop := radDeg(width / EarthRadius / cos(degRad(s.Lat+latDelta)))
	longDeltaBottom := radDeg(width / EarthRadius / cos(degRad(s.Lat-latDelta)))
	var b [4]float64
	if s.Lat < 0 {
		b[0], b[2] = s.Long-longDeltaBottom, s.Long+longDeltaBottom
	} else {
		b[0], b[2] = s.Long-longDeltaTop, s.Long+longDeltaTop
	}
	b[1], b[3] = s.Lat-latDelta, s.Lat+latDelta
	return b
}

// Areas is geohashCalculateAreasByShapeWGS84: the center box and its
// neighbours, in the order Redis searches them (center, north, south,
// east, west, north-east, north-west, south-east, south-west), the ones
// that cannot hold a match zeroed.
func Areas(s *Shape) [9]Bits {
	b := s.bounds()
	minLon, minLat, maxLon, maxLat := b[0], b[1], b[2], b[3]
	radius := s.Radius
	if s.Box {
		radius = math.Sqrt(float64(s.Width/2*(s.Width/2)) + float64(s.Height/2*(s.Height/2)))
	}
	radius *= s.Conversion
	steps := EstimateSteps(radius, s.Lat)
	lo, la := WGS84()
	hash, _ := Encode(lo, la, s.Long, s.Lat, steps)
	nb := neighbors(hash)
	area, _ := Decode(lo, la, hash)

	// A box next to the edge of the area may not reach past it at this
	// precision: then one step coarser.
	north, _ := Decode(lo, la, nb.North)
	south, _ := Decode(lo, la, nb.South)
	east, _ := Decode(lo, la, nb.East)
	west, _ := Decode(lo, la, nb.West)
	decrease := north.Latitude.Max < maxLat || south.Latitude.Min > minLat ||
		east.Longitude.Max < maxLon || west.Longitude.Min > minLon
	if steps > 1 && decrease {
		steps--
		hash, _ = Encode(lo, la, s.Long, s.Lat, steps)
		nb = neighbors(hash)
		area, _ = Decode(lo, la, hash)
	}
	if steps >= 2 {
		if area.Latitude.Min < minLat {
			nb.South, nb.SouthWest, nb.SouthEast = Bits{}, Bits{}, Bits{}
		}
		if area.Latitude.Max > maxLat {
			nb.North, nb.NorthEast, nb.NorthWest = Bits{}, Bits{}, Bits{}
		}
		if area.Longitude.Min < minLon {
			nb.West, nb.SouthWest, nb.NorthWest = Bits{}, Bits{}, Bits{}
		}
		if area.Longitude.Max > maxLon {
			nb.East, nb.SouthEast, nb.NorthEast = Bits{}, Bits{}, Bits{}
		}
	}
	return [9]Bits{hash, nb.North, nb.South, nb.East, nb.West, nb.NorthEast, nb.NorthWest, nb.SouthEast, nb.SouthWest}
}

// ScoreRange returns the scores [min, max) of the points inside box h.
func ScoreRange(h Bits) (lo, hi uint64) {
	lo = Align52(h)
	h.Bits++
	return lo, Align52(h)
}

// LatDistance is the distance between two latitudes on a meridian.
func LatDistance(lat1, lat2 float64) float64 {
	return EarthRadius * math.Abs(degRad(lat2)-degRad(lat1))
}

// Distance is the haversine great-circle distance in meters.
func Distance(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := degRad(lon1), degRad(lon2)
	v := sin((lon2r - lon1r) / 2)
	if v == 0 {
		return LatDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := sin((lat2r - lat1r) / 2)
	a := float64(u*u) + float64(float64(float64(cos(lat1r)*cos(lat2r))*v)*v)
	return 2.0 * EarthRadius * asin(math.Sqrt(a))
}

// Within reports whether the point lies in s, and its distance in meters
// from s's center (Redis's geoWithinShape).
func (s *Shape) Within(lon, lat float64) (dist float64, ok bool) {
	if !s.Box {
		dist = Distance(s.Long, s.Lat, lon, lat)
		// Not "<=": a NaN distance (rounding past antipodes) is inside,
		// as Redis's "> radius" test leaves it.
		return dist, !(dist > s.Radius*s.Conversion)
	}
	width, height := s.Width*s.Conversion, s.Height*s.Conversion
	if LatDistance(lat, s.Lat) > height/2 {
		return 0, false
	}
	if Distance(lon, lat, s.Long, lat) > width/2 {
		return 0, false
	}
	return Distance(s.Long, s.Lat, lon, lat), true
}
