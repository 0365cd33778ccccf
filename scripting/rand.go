package scripting

// lrand48 is Redis's redisLrand48/redisSrand48 (src/rand.c): the 48-bit
// linear congruential generator of drand48, kept in 16-bit limbs so that
// every architecture yields the same sequence. Redis keeps one state per
// process, never reseeded except by math.randomseed; an Engine keeps one
// for its EVAL and FUNCTION states alike.
type lrand48 struct {
	x [3]uint32
}

const (
	randX0, randX1, randX2 = 0x330E, 0xABCD, 0x1234
	randA0, randA1, randA2 = 0xE66D, 0xDEEC, 0x5
	randC                  = 0xB
	randMask               = 0xFFFF
	lrand48Max             = 1<<31 - 1 // REDIS_LRAND48_MAX (INT32_MAX)
)

func newLrand48() lrand48 { return lrand48{x: [3]uint32{randX0, randX1, randX2}} }

// seed is redisSrand48. Only x changes: a and c are constants here.
func (r *lrand48) seed(v int32) {
	u := uint32(v)
	r.x = [3]uint32{randX0, u & randMask, (u >> 16) & randMask}
}

// next returns redisLrand48(): 31 random bits.
func (r *lrand48) next() int32 {
	x := &r.x
	mul := func(a, b uint32) (lo, hi uint32) {
		l := int32(a * b) // the C macro stores the product in an int32_t
		return uint32(l) & randMask, (uint32(l) >> 16) & randMask
	}
	carry := func(a, b uint32) uint32 {
		if int64(int32(a))+int64(b) > randMask {
			return 1
		}
		return 0
	}
	var p, q, r2 [2]uint32
	p[0], p[1] = mul(randA0, x[0])
	c0 := carry(p[0], randC)
	p[0] = (p[0] + randC) & randMask
	c1 := carry(p[1], c0)
	p[1] = (p[1] + c0) & randMask
	q[0], q[1] = mul(randA0, x[1])
	c0 = carry(p[1], q[0])
	p[1] = (p[1] + q[0]) & randMask
	r2[0], r2[1] = mul(randA1, x[0])
	x[2] = (c0 + c1 + carry(p[1], r2[0]) + q[1] + r2[1] + randA0*x[2] + randA1*x[1] + randA2*x[0]) & randMask
	x[1] = (p[1] + r2[0]) & randMask
	x[0] = p[0] & randMask
	return int32(x[2]<<15) + int32(x[1]>>1)
}
