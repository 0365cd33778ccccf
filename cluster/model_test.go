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
	case opIncr:
		var n int64
		if s.exists {
			var ok bool
			if n, ok = isInt(s.val); !ok {
				return s, output{res: resNotInt}
			}
		}
		n++
		return register{true, strconv.FormatInt(n, 10)}, output{n: n}
	}
	panic("unknown op")
}

// matches compares a recorded output with the specification's.
func matches(got, want output) bool {
	if got.res != want.res {
		return false
	}
	return got.null == want.null && got.val == want.val && got.n == want.n
}

// registerModel is porcupine's model of the workload: one register per
// key, the history partitioned by key. A call with an unknown outcome
// never returns, so porcupine may place it anywhere after its call,
// including after every other call, where applying it changes nothing
// observed: it may or may not have taken effect.
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
	Init: func() any { return register{} },
	Step: func(state, in, out any) (bool, any) {
		next, want := apply(state.(register), in.(input))
		o := out.(output)
		if o.res == resUnknown {
			return true, next
		}
		return matches(o, want), next
	},
	Hash: func(state any) uint64 {
		s := state.(register)
		h := fnv.New64a()
		if s.exists {
			h.Write([]byte{1})
		}
		h.Write([]byte(s.val))
		return h.Sum64()
	},
	DescribeOperation: func(in, out any) string {
		return fmt.Sprintf("%v → %v", in, out)
	},
	DescribeState: func(state any) string {
		s := state.(register)
		if !s.exists {
			return "nil"
		}
		return strconv.Quote(s.val)
	},
	DescribeOperationMetadata: func(info any) string {
		if info == nil {
			return ""
		}
		return fmt.Sprint(info)
	},
}

// porcupineOps turns a history into porcupine's operations. Calls that
// were refused (not applied, nothing observed) and reads whose outcome is
// unknown (nothing observed) carry no information and are left out.
func porcupineOps(recs []record) []porcupine.Operation {
	var ops []porcupine.Operation
	for _, r := range recs {
		if r.out.res == resRefused || (r.out.res == resUnknown && !r.in.op.write()) {
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
