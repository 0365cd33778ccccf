package hll

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// pfadd and pfcount do what Redis's commands do to one key's bytes.
func pfadd(b []byte, elems [][]byte, sparseMax int64) ([]byte, int64, error) {
	created := b == nil
	if created {
		b = New()
	}
	b, updated, err := Add(b, elems, sparseMax)
	if err != nil {
		return b, 0, err
	}
	if updated > 0 {
		Invalidate(b)
	}
	if created || updated > 0 {
		return b, 1, nil
	}
	return b, 0, nil
}

func pfcount(b []byte) (uint64, error) {
	if c, ok := Cached(b); ok {
		return c, nil
	}
	c, err := Count(b)
	if err == nil {
		SetCache(b, c)
	}
	return c, err
}

// TestRedisSteps replays command sequences recorded against redis-server
// 7.0.15 (testdata/redis-steps.json: each step's reply and a digest of
// the key's bytes after it) at several hll-sparse-max-bytes.
func TestRedisSteps(t *testing.T) {
	raw, err := os.ReadFile("testdata/redis-steps.json")
	if err != nil {
		t.Fatal(err)
	}
	var scens []struct {
		Limit int64
		Steps []struct {
			Cmd   string
			N     int
			Reply any
			Len   int
			Sha   string
		}
	}
	if err := json.Unmarshal(raw, &scens); err != nil {
		t.Fatal(err)
	}
	for si, sc := range scens {
		var b []byte
		next := 0
		for i, st := range sc.Steps {
			var reply int64
			switch st.Cmd {
			case "PFADD":
				elems := make([][]byte, st.N)
				for j := range elems {
					if si == 4 { // binary elements
						h := sha256.Sum256([]byte(fmt.Sprint(next)))
						elems[j] = h[:next%21]
					} else {
						elems[j] = []byte(fmt.Sprintf("e%d", next))
					}
					next++
				}
				b, reply, err = pfadd(b, elems, sc.Limit)
			case "PFCOUNT":
				var c uint64
				c, err = pfcount(b)
				reply = int64(c)
			}
			if err != nil {
				t.Fatalf("scenario %d step %d %s: %v", si, i, st.Cmd, err)
			}
			sum := sha256.Sum256(b)
			if want := st.Reply.(float64); float64(reply) != want || len(b) != st.Len || hex.EncodeToString(sum[:8]) != st.Sha {
				t.Fatalf("scenario %d (limit %d) step %d %s n=%d: reply %d len %d sha %x, Redis: %v %d %s",
					si, sc.Limit, i, st.Cmd, st.N, reply, len(b), sum[:8], st.Reply, st.Len, st.Sha)
			}
		}
	}
}

// TestRedisCounts compares PFCOUNT at cardinalities up to 200000 with
// redis-server's (testdata/redis-counts.json), for both encodings.
func TestRedisCounts(t *testing.T) {
	raw, err := os.ReadFile("testdata/redis-counts.json")
	if err != nil {
		t.Fatal(err)
	}
	var counts [][2]int
	if err := json.Unmarshal(raw, &counts); err != nil {
		t.Fatal(err)
	}
	b := New()
	n := 0
	var regs [Registers]uint8
	for _, c := range counts {
		for ; n < c[0]; n++ {
			e := []byte(fmt.Sprintf("c%d", n))
			b, _, _ = Add(b, [][]byte{e}, 3000)
			i, v := Pattern(e)
			regs[i] = max(regs[i], v)
		}
		got, err := Count(b)
		if err != nil || got != uint64(c[1]) {
			t.Fatalf("count of %d: %d %v, Redis %d", c[0], got, err, c[1])
		}
		if got := CountRegisters(&regs); got != uint64(c[1]) {
			t.Fatalf("raw count of %d: %d, Redis %d", c[0], got, c[1])
		}
	}
}

// denseOf builds a dense HLL (cache invalid) of raw registers.
func denseOf(regs []uint8) []byte {
	b := make([]byte, DenseSize)
	copy(b, "HYLL")
	Invalidate(b)
	for i, v := range regs {
		denseSet(b[HeaderSize:], i, v)
	}
	return b
}

// TestRedisCases compares counts of crafted dense HLLs (registers up to
// 63, past the estimator's Q+1) and PFMERGE's bytes with redis-server's
// (testdata/redis-cases.json).
func TestRedisCases(t *testing.T) {
	raw, err := os.ReadFile("testdata/redis-cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases struct {
		Dense  []uint64
		Merges []struct {
			Srcs  [][2]any
			Dest  string
			Len   int
			Sha   string
			Count uint64
			Multi uint64
		}
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	vals := []uint8{0, 0, 0, 1, 2, 3, 10, 30, 50, 51, 52, 63}
	for tr, want := range cases.Dense {
		x := uint64(tr*7919 + 1)
		keep := []uint64{1, 4, 16, 64, 4096}[tr%5]
		regs := make([]uint8, Registers)
		for i := range regs {
			x = (x*1103515245 + 12345) % (1 << 31)
			if (x>>20)%keep == 0 {
				regs[i] = vals[(x>>8)%uint64(len(vals))]
			}
		}
		b := denseOf(regs)
		if got, err := Count(b); err != nil || got != want {
			t.Fatalf("dense case %d: %d %v, Redis %d", tr, got, err, want)
		}
		if err := Validate(b); err != nil {
			t.Fatal(err)
		}
	}
	for tr, m := range cases.Merges {
		var srcs [][]byte
		var regs [Registers]uint8
		toDense := false
		for j, s := range m.Srcs {
			n, dense := int(s[0].(float64)), s[1].(bool)
			elems := make([][]byte, n)
			for i := range elems {
				elems[i] = []byte(fmt.Sprintf("m%d-%d-%d", tr, j, i))
			}
			b, _, _ := Add(New(), elems, 3000)
			if dense {
				b, _ = ToDense(b)
			}
			toDense = toDense || !IsSparse(b)
			if err := MergeInto(&regs, b); err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, b)
		}
		if got := CountRegisters(&regs); got != m.Multi {
			t.Fatalf("merge %d: multi-key count %d, Redis %d", tr, got, m.Multi)
		}
		dest := New()
		if m.Dest == "s0" {
			dest = srcs[0]
		}
		dest, err := Store(dest, &regs, toDense, 3000)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(dest) // Redis's bytes were read before PFCOUNT
		c, _ := pfcount(dest)
		if c != m.Count || len(dest) != m.Len || hex.EncodeToString(sum[:8]) != m.Sha {
			t.Fatalf("merge %d: count %d len %d sha %x, Redis %d %d %s", tr, c, len(dest), sum[:8], m.Count, m.Len, m.Sha)
		}
	}
}
