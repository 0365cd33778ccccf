package commands

import (
	"errors"
	"math"
	"math/big"
	"time"

	"github.com/loomcache/loomcache/keyspace"
)

var (
	errTimeoutNotFloat = errors.New("ERR timeout is not a float or out of range")
	errTimeoutNegative = errors.New("ERR timeout is negative")
)

// parseTimeout parses a blocking command's timeout in seconds as Redis's
// getTimeoutFromObjectOrReply does (a long double, rounded up to whole
// milliseconds; a value too large for them reads as negative, as C's
// conversion leaves it) and returns the deadline in unix ms, 0 for none.
func parseTimeout(b []byte, now int64) (int64, error) {
	f, ok := parseLongDouble(b)
	if !ok {
		return 0, errTimeoutNotFloat
	}
	ms := new(big.Float).Mul(f, big.NewFloat(1000))
	var tval int64
	if ms.IsInf() || ms.Cmp(big.NewFloat(math.MaxInt64)) >= 0 || ms.Cmp(big.NewFloat(math.MinInt64)) < 0 {
		tval = math.MinInt64
	} else {
		i, acc := ms.Int64()
		if acc == big.Below { // truncated toward zero from above: ceil
			i++
		}
		tval = i
	}
	switch {
	case tval < 0:
		return 0, errTimeoutNegative
	case tval == 0:
		return 0, nil
	case tval > math.MaxInt64-now:
		return math.MaxInt64, nil
	}
	return now + tval, nil
}

// blockingKind is the kind of value a blocking command pops.
func blockingKind(list bool) keyspace.Kind {
	if list {
		return keyspace.KindList
	}
	return keyspace.KindZSet
}

// cloneArgs copies arguments a blocked command keeps: the request's
// buffer is the connection's, and a wait outlives the request.
func cloneArgs(args [][]byte) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = append([]byte(nil), a...)
	}
	return out
}

// deadlineIn is the time left until deadline (unix ms) at now.
func deadlineIn(deadline, now int64) time.Duration {
	return time.Duration(max(deadline-now, 0)) * time.Millisecond
}
