package cluster

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	"github.com/anishathalye/porcupine"
)

// register is the sequential state of one key: a Redis string or nothing.
type register struct {
	exists bool
	val    string
}

func (r register) String() string {
	if !r.exists {
		return "nil"
	}
	return strconv.Quote(r.val)
}

// cell is the sequential state of one model key: a register, or the
// pair of registers a transaction moves together.
type cell struct {
	pair bool // regs holds a pair; otherwise regs[0] alone is the key
	regs [2]register
}

func (c cell) String() string {
	if c.pair {
		return fmt.Sprintf("[%v %v]", c.regs[0], c.regs[1])
	}
	return c.regs[0].String()
}

// isInt reports whether Redis's INCR takes s as an integer (string2ll:
// canonical decimal, no sign but '-', no leading zeros or spaces).
func isInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && strconv.FormatInt(n, 10) == s
}

// apply is the specification: the state after in, and what in returns.
func apply(s register, in input) (register, output) {
	switch in.op {
	case opGet:
		if !s.exists {
			return s, output{null: true}
		}
		return s, output{val: s.val}
	case opSet:
		return register{true, in.arg}, output{}
	case opDel:
		if !s.exists {
			return s, output{n: 0}
		}
		return register{}, output{n: 1}
	case opAppend:
		v := s.val + in.arg
		return register{true, v}, output{n: int64(len(v))}
	case opIncr, opEval: // the script is an INCR made of a GET and a SET
		var n int64
		if s.exists {
			var ok bool
			if n, ok = isInt(s.val); !ok {
				return s, output{res: resNotInt}
			}
		}
		n++
		return register{true, strconv.FormatInt(n, 10)}, output{n: n}
	case opCAS:
		// EXEC applies the SET only if no write came between the WATCH
		// and the EXEC, so the key still holds what the GET after the
		// WATCH read.
		if s != in.expect {
			return s, output{null: true}
		}
		return register{true, in.arg}, output{}
	}
	panic("unknown op")
}

// applyPair is the specification of the calls on a pair: a transaction
// increments both counters in one step and returns both new values; MGET
// returns both as they are.
func applyPair(s [2]register, in input) ([2]register, output) {
	switch in.op {
	case opMGet:
		return s, output{two: s}
	case opTx:
		for i, r := range s {
			var n int64
			if r.exists {
				var ok bool
				if n, ok = isInt(r.val); !ok {
					// EXEC's reply would hold INCR's error, which
					// outcome takes for a reply no correct server sends
					// to this workload.
					return s, output{res: resNotInt}
				}
			}
			s[i] = intRegister(n + 1)
		}
		return s, output{two: s}
	}
	panic("not a pair op")
}

// matches compares a recorded output with the specification's.
func matches(got, want output) bool {
	if got.res != want.res {
		return false
	}
	return got.null == want.null && got.val == want.val && got.n == want.n && got.two == want.two
}

// registerModel is porcupine's model of the workload: one register per
// key (a pair of them for a transaction's keys), the history partitioned
// by model key. A call with an unknown outcome never returns, so
// porcupine may place it anywhere after its call, including after every
// other call, where applying it changes nothing observed: it may or may
// not have taken effect, and a transaction takes effect whole or not at
// all, as its step is one.
var registerModel = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, o := range ops {
			k := o.Input.(input).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], o)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, len(keys))
		for i, k := range keys {
			out[i] = byKey[k]
		}
		return out
	},
	Init: func() any { return cell{} },
	Step: func(state, in, out any) (bool, any) {
		next, i := state.(cell), in.(input)
		var want output
		if i.op.pair() {
			next.pair = true
			next.regs, want = applyPair(next.regs, i)
		} else if i.op.queue() {
			next.regs[0], want = applyQueue(next.regs[0], i)
		} else {
			next.regs[0], want = apply(next.regs[0], i)
		}
		o := out.(output)
		if o.res == resUnknown {
			return true, next
		}
		return matches(o, want), next
	},
	Hash: func(state any) uint64 {
		s := state.(cell)
		h := fnv.New64a()
		for _, r := range s.regs {
			// A length prefix keeps ("ab", "") and ("a", "b") apart.
			h.Write(strconv.AppendInt(nil, int64(len(r.val)), 10))
			if r.exists {
				h.Write([]byte{1})
			}
			h.Write([]byte(r.val))
		}
		return h.Sum64()
	},
	DescribeOperation: func(in, out any) string {
		i := in.(input)
		return fmt.Sprintf("%v → %s", i, out.(output).show(i.op))
	},
	DescribeState: func(state any) string { return state.(cell).String() },
	DescribeOperationMetadata: func(info any) string {
		if info == nil {
			return ""
		}
		return fmt.Sprint(info)
	},
}

// porcupineOps turns a history into porcupine's operations. Calls that
// were refused (not applied, nothing observed), reads whose outcome is
// unknown (nothing observed) and CASes a WATCH aborted carry no
// information and are left out. An aborted CAS says a write came between
// its WATCH and its EXEC, not that the key differed from the value its
// GET read when EXEC ran (the write may have come before the GET), so it
// constrains no state; checkCAS counts it as not applied.
func porcupineOps(recs []record) []porcupine.Operation {
	var ops []porcupine.Operation
	for _, r := range recs {
		if r.out.res == resRefused || (r.out.res == resUnknown && !r.in.op.write()) ||
			(r.in.op == opCAS && r.out.res == resOK && r.out.null) {
			continue
		}
		ops = append(ops, porcupine.Operation{
			ClientId: r.client, Input: r.in, Output: r.out, Call: r.call, Return: r.ret,
			Metadata: r.node,
		})
	}
	return ops
}

// linearizable checks the history with porcupine, one key at a time (a
// key's check holds its whole search in memory; one at a time keeps that
// to the largest key's) within timeout per key, and returns the worst
// result and the number of operations checked. On anything but Ok it
// writes the visualization of the keys that failed to htmlPath.
func linearizable(recs []record, faults []fault, timeout time.Duration, htmlPath string) (porcupine.CheckResult, int, error) {
	ops := porcupineOps(recs)
	result := porcupine.Ok
	var bad []porcupine.Operation
	for _, part := range registerModel.Partition(ops) {
		res := porcupine.CheckOperationsTimeout(registerModel, part, timeout)
		if res == porcupine.Ok {
			continue
		}
		if result != porcupine.Illegal {
			result = res
		}
		bad = append(bad, part...)
	}
	if result == porcupine.Ok {
		return result, len(ops), nil
	}
	_, info := porcupine.CheckOperationsVerbose(registerModel, bad, timeout)
	var notes []porcupine.Annotation
	for _, f := range faults {
		end := f.end
		if end < 0 {
			end = f.start
		}
		notes = append(notes, porcupine.Annotation{Tag: "faults", Start: f.start, End: end,
			Description: f.what, BackgroundColor: "#fdd"})
	}
	info.AddAnnotations(notes)
	return result, len(ops), porcupine.VisualizePath(registerModel, info, htmlPath)
}
