package geohash

import "math"

// Redis prints distances computed with glibc's sin, cos and asin, which
// round (all but always) correctly; Go's math functions may be one unit
// in the last place off, which STOREDIST's 17 digits show. These compute
// in double-double arithmetic (about 106 bits) and round once, so the
// result is the correctly rounded one.

// dd is an unevaluated sum hi + lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func (a dd) add(b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func (a dd) neg() dd { return dd{-a.hi, -a.lo} }

func (a dd) mul(b dd) dd {
	p := a.hi * b.hi
	e := math.FMA(a.hi, b.hi, -p)
	e += a.hi*b.lo + a.lo*b.hi
	return quickTwoSum(p, e)
}

func (a dd) mulF(b float64) dd {
	p := a.hi * b
	e := math.FMA(a.hi, b, -p)
	e += a.lo * b
	return quickTwoSum(p, e)
}

func (a dd) divF(b float64) dd {
	q1 := a.hi / b
	r := a.add(dd{q1, 0}.mulF(b).neg())
	q2 := r.hi / b
	r = r.add(dd{q2, 0}.mulF(b).neg())
	q3 := r.hi / b
	return quickTwoSum(q1, q2).add(dd{q3, 0})
}

// π/2 to about 160 bits, in three parts.
const (
	halfPi0 = 1.5707963267948966
	halfPi1 = 6.123233995736766e-17
	halfPi2 = -1.4973849048591698e-33
)

// reduce returns r and n mod 4 with y = r + n·π/2, |r| <= about π/4.
// Geo's angles are within a few π, so n is small and n·π/2 is exact to
// the bits kept.
func reduce(y dd) (dd, int) {
	n := math.Round(y.hi / halfPi0)
	r := y.add(dd{halfPi0, halfPi1}.mulF(-n)).add(dd{-n * halfPi2, 0})
	return r, int(int64(n) & 3)
}

// sinCosDD returns sin and cos of a reduced |r| <= about π/4 by Taylor
// series.
func sinCosDD(r dd) (s, c dd) {
	r2 := r.mul(r)
	s, c = r, dd{1, 0}
	ts, tc := r, dd{1, 0}
	for k := 1; k < 30; k++ {
		ts = ts.mul(r2).divF(float64((2 * k) * (2*k + 1))).neg()
		tc = tc.mul(r2).divF(float64((2*k - 1) * (2 * k))).neg()
		s = s.add(ts)
		c = c.add(tc)
		if math.Abs(ts.hi) < 1e-40 && math.Abs(tc.hi) < 1e-40 {
			break
		}
	}
	return s, c
}

// sinCos returns sin y and cos y.
func sinCos(y dd) (s, c dd) {
	r, n := reduce(y)
	s, c = sinCosDD(r)
	switch n {
	case 1:
		s, c = c, s.neg()
	case 2:
		s, c = s.neg(), c.neg()
	case 3:
		s, c = c.neg(), s
	}
	return s, c
}

// sin is the correctly rounded sine for the angles geo uses.
func sin(x float64) float64 {
	if x == 0 || math.IsInf(x, 0) || x != x || math.Abs(x) > 1e6 {
		return math.Sin(x)
	}
	s, _ := sinCos(dd{x, 0})
	return s.hi + s.lo
}

// cos is the correctly rounded cosine for the angles geo uses.
func cos(x float64) float64 {
	if math.IsInf(x, 0) || x != x || math.Abs(x) > 1e6 {
		return math.Cos(x)
	}
	_, c := sinCos(dd{x, 0})
	return c.hi + c.lo
}

// asin is the correctly rounded arcsine: Go's estimate refined by Newton
// steps on sin(y) = x in double-double.
func asin(x float64) float64 {
	if x == 0 || x != x || x > 1 || x < -1 {
		return math.Asin(x)
	}
	if x == 1 || x == -1 {
		return math.Copysign(halfPi0, x)
	}
	y := dd{math.Asin(x), 0}
	for range 3 {
		s, c := sinCos(y)
		// y -= (sin y - x) / cos y
		d := s.add(dd{-x, 0})
		if c.hi == 0 {
			break
		}
		step := d.hi / c.hi
		y = y.add(dd{-step, 0})
	}
	return y.hi + y.lo
}
