package cluster

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// The checkers are tested on hand-written histories, with no cluster: a
// checker that cannot fail proves nothing.

const inf = math.MaxInt64

func op(client int, in input, out output, call, ret int64) record {
	return record{client: client, node: "n1", in: in, out: out, call: call, ret: ret}
}

func get(k string) input         { return input{op: opGet, key: k} }
func set(k, v string) input      { return input{op: opSet, key: k, arg: v} }
func del(k string) input         { return input{op: opDel, key: k} }
func incr(k string) input        { return input{op: opIncr, key: k} }
func eval(k string) input        { return input{op: opEval, key: k} }
func rpush(k, e string) input    { return input{op: opRPush, key: k, arg: e} }
func lpop(k string) input        { return input{op: opLPop, key: k} }
func blpop(k string) input       { return input{op: opBLPop, key: k} }
func lrange(k string) input      { return input{op: opLRange, key: k} }
func appendTo(k, c string) input { return input{op: opAppend, key: k, arg: c} }
func val(v string) output        { return output{val: v} }
func num(n int64) output         { return output{n: n} }
func withRes(r result) output    { return output{res: r} }

var (
	null    = output{null: true}
	okReply = output{}
	unknown = withRes(resUnknown)
	refused = withRes(resRefused)
	notInt  = withRes(resNotInt)
	aborted = output{null: true} // a CAS's EXEC that a WATCH aborted
)

// Calls on a pair and CASes. A register written "" is a missing key.
func tx(k string) input   { return input{op: opTx, key: k} }
func mget(k string) input { return input{op: opMGet, key: k} }
func cas(k, from, to string) input {
	return input{op: opCAS, key: k, arg: to, expect: reg(from)}
}
func pairOf(a, b string) output { return output{two: [2]register{reg(a), reg(b)}} }
func reg(v string) register {
	if v == "" {
		return register{}
	}
	return register{true, v}
}

func TestModel(t *testing.T) {
	tests := []struct {
		name string
		h    []record
		want porcupine.CheckResult
	}{
		{"read your write", []record{
			op(0, set("k", "1"), okReply, 0, 10), op(0, get("k"), val("1"), 20, 30)}, porcupine.Ok},
		{"lost write", []record{
			op(0, set("k", "1"), okReply, 0, 10), op(1, get("k"), null, 20, 30)}, porcupine.Illegal},
		{"concurrent read may miss a write", []record{
			op(0, set("k", "1"), okReply, 0, 30), op(1, get("k"), null, 10, 20)}, porcupine.Ok},
		{"stale read", []record{
			op(0, set("k", "1"), okReply, 0, 10), op(0, set("k", "2"), okReply, 20, 30),
			op(1, get("k"), val("1"), 40, 50)}, porcupine.Illegal},
		{"unknown write seen later", []record{
			op(0, set("k", "1"), unknown, 0, inf), op(1, get("k"), null, 10, 20),
			op(1, get("k"), val("1"), 30, 40)}, porcupine.Ok},
		{"unknown write never seen", []record{
			op(0, set("k", "1"), unknown, 0, inf), op(1, get("k"), null, 10, 20)}, porcupine.Ok},
		{"unknown write seen then unseen", []record{
			op(0, set("k", "1"), unknown, 0, inf), op(1, get("k"), val("1"), 10, 20),
			op(1, get("k"), null, 30, 40)}, porcupine.Illegal},
		{"incr counts", []record{
			op(0, incr("c"), num(1), 0, 10), op(1, incr("c"), num(2), 20, 30), op(0, get("c"), val("2"), 40, 50)}, porcupine.Ok},
		{"incr applied twice", []record{
			op(0, incr("c"), num(1), 0, 10), op(1, get("c"), val("2"), 20, 30)}, porcupine.Illegal},
		{"unknown incr may count", []record{
			op(0, incr("c"), unknown, 0, inf), op(1, incr("c"), num(2), 20, 30)}, porcupine.Ok},
		{"incr on an append", []record{
			op(0, appendTo("r", "x0.1;"), num(5), 0, 10), op(0, incr("r"), notInt, 20, 30)}, porcupine.Ok},
		{"incr on an append succeeds", []record{
			op(0, appendTo("r", "x0.1;"), num(5), 0, 10), op(0, incr("r"), num(1), 20, 30)}, porcupine.Illegal},
		{"append length", []record{
			// "7x0.1;" is 6 bytes long, not 7.
			op(0, set("r", "7"), okReply, 0, 10), op(0, appendTo("r", "x0.1;"), num(7), 20, 30)}, porcupine.Illegal},
		{"del count", []record{
			op(0, del("r"), num(0), 0, 10), op(0, set("r", "1"), okReply, 20, 30), op(0, del("r"), num(1), 40, 50),
			op(0, get("r"), null, 60, 70)}, porcupine.Ok},
		{"del of a missing key counts one", []record{op(0, del("r"), num(1), 0, 10)}, porcupine.Illegal},
		{"keys are independent", []record{
			op(0, set("a", "1"), okReply, 0, 10), op(1, get("b"), null, 20, 30)}, porcupine.Ok},
		{"refused write is not applied", []record{
			op(0, set("k", "1"), refused, 0, 10), op(1, get("k"), null, 20, 30)}, porcupine.Ok},
		{"refused write seen", []record{
			op(0, set("k", "1"), refused, 0, 10), op(1, get("k"), val("1"), 20, 30)}, porcupine.Illegal},

		// A counter moved by a Lua GET-and-SET script.
		{"scripts count", []record{
			op(0, eval("l"), num(1), 0, 10), op(1, eval("l"), num(2), 5, 30), op(0, get("l"), val("2"), 40, 50)}, porcupine.Ok},
		{"two scripts read one value", []record{
			op(0, eval("l"), num(1), 0, 30), op(1, eval("l"), num(1), 5, 25)}, porcupine.Illegal},
		{"script applied twice", []record{
			op(0, eval("l"), num(1), 0, 10), op(1, get("l"), val("2"), 20, 30)}, porcupine.Illegal},
		{"unknown script may count", []record{
			op(0, eval("l"), unknown, 0, inf), op(1, eval("l"), num(2), 20, 30)}, porcupine.Ok},

		// A queue.
		{"pops in push order", []record{
			op(0, rpush("q", "a"), num(1), 0, 10), op(0, rpush("q", "b"), num(2), 20, 30),
			op(1, lpop("q"), val("a"), 40, 50), op(2, blpop("q"), val("b"), 45, 60), op(1, lpop("q"), null, 70, 80),
			op(1, lrange("q"), val(""), 90, 95)}, porcupine.Ok},
		{"element served twice", []record{
			op(0, rpush("q", "a"), num(1), 0, 10), op(1, lpop("q"), val("a"), 20, 30), op(2, blpop("q"), val("a"), 25, 40)}, porcupine.Illegal},
		{"pop out of order", []record{
			op(0, rpush("q", "a"), num(1), 0, 10), op(0, rpush("q", "b"), num(2), 20, 30),
			op(1, blpop("q"), val("b"), 40, 50)}, porcupine.Illegal},
		{"push lost", []record{
			op(0, rpush("q", "a"), num(1), 0, 10), op(1, blpop("q"), null, 20, 30)}, porcupine.Illegal},
		{"unknown pop may have taken it", []record{
			op(0, rpush("q", "a"), num(1), 0, 10), op(1, lpop("q"), unknown, 20, inf),
			op(1, lrange("q"), val(""), 30, 40)}, porcupine.Ok},
		{"range sees both", []record{
			op(0, rpush("q", "a"), num(1), 0, 10), op(0, rpush("q", "b"), num(2), 20, 30),
			op(1, lrange("q"), val("a|b"), 40, 50)}, porcupine.Ok},

		// A pair of counters moved by transactions.
		{"transactions count both", []record{
			op(0, tx("p"), pairOf("1", "1"), 0, 10), op(1, tx("p"), pairOf("2", "2"), 20, 30),
			op(0, mget("p"), pairOf("2", "2"), 40, 50)}, porcupine.Ok},
		{"concurrent transactions in either order", []record{
			op(0, tx("p"), pairOf("2", "2"), 0, 30), op(1, tx("p"), pairOf("1", "1"), 5, 25)}, porcupine.Ok},
		{"EXEC returns a split pair", []record{op(0, tx("p"), pairOf("1", "2"), 0, 10)}, porcupine.Illegal},
		{"MGET sees a split transaction", []record{
			op(0, tx("p"), pairOf("1", "1"), 0, 10), op(1, mget("p"), pairOf("1", ""), 20, 30)}, porcupine.Illegal},
		{"MGET sees half of a concurrent transaction", []record{
			op(0, tx("p"), pairOf("1", "1"), 0, 30), op(1, mget("p"), pairOf("1", ""), 10, 20)}, porcupine.Illegal},
		{"transaction applied twice", []record{
			op(0, tx("p"), pairOf("1", "1"), 0, 10), op(1, mget("p"), pairOf("2", "2"), 20, 30)}, porcupine.Illegal},
		{"transaction lost", []record{
			op(0, tx("p"), pairOf("1", "1"), 0, 10), op(1, mget("p"), pairOf("", ""), 20, 30)}, porcupine.Illegal},
		{"unknown transaction applies whole", []record{
			op(0, tx("p"), unknown, 0, inf), op(1, mget("p"), pairOf("1", "1"), 10, 20)}, porcupine.Ok},
		{"unknown transaction never seen", []record{
			op(0, tx("p"), unknown, 0, inf), op(1, mget("p"), pairOf("", ""), 10, 20)}, porcupine.Ok},
		{"unknown transaction half applied", []record{
			op(0, tx("p"), unknown, 0, inf), op(1, mget("p"), pairOf("1", ""), 10, 20)}, porcupine.Illegal},
		{"unknown transaction seen then unseen", []record{
			op(0, tx("p"), unknown, 0, inf), op(1, mget("p"), pairOf("1", "1"), 10, 20),
			op(1, mget("p"), pairOf("", ""), 30, 40)}, porcupine.Illegal},
		{"refused transaction seen", []record{
			op(0, tx("p"), refused, 0, 10), op(1, mget("p"), pairOf("1", "1"), 20, 30)}, porcupine.Illegal},

		// A counter moved by WATCH compare-and-set loops.
		{"CAS from what its GET read", []record{
			op(0, get("c"), null, 0, 10), op(0, cas("c", "", "1"), okReply, 20, 30),
			op(1, get("c"), val("1"), 40, 50), op(1, cas("c", "1", "2"), okReply, 60, 70),
			op(0, get("c"), val("2"), 80, 90)}, porcupine.Ok},
		{"CAS lost", []record{
			op(0, cas("c", "", "1"), okReply, 0, 10), op(1, get("c"), null, 20, 30)}, porcupine.Illegal},
		{"two CASes from one value (one lost)", []record{
			op(0, cas("c", "", "1"), okReply, 0, 10), op(1, cas("c", "", "1"), okReply, 20, 30)}, porcupine.Illegal},
		{"CAS from a value the key never held", []record{
			op(0, cas("c", "5", "6"), okReply, 0, 10)}, porcupine.Illegal},
		{"unknown CAS may apply", []record{
			op(0, cas("c", "", "1"), unknown, 0, inf), op(1, get("c"), val("1"), 10, 20)}, porcupine.Ok},
		{"unknown CAS may not apply", []record{
			op(0, cas("c", "", "1"), unknown, 0, inf), op(1, cas("c", "", "1"), okReply, 10, 20),
			op(1, get("c"), val("1"), 30, 40)}, porcupine.Ok},
		{"aborted CAS constrains nothing", []record{
			op(0, get("c"), null, 0, 10), op(0, cas("c", "", "1"), aborted, 20, 30), op(1, get("c"), null, 40, 50)}, porcupine.Ok},
		{"aborted CAS seen applied", []record{
			op(0, cas("c", "", "1"), aborted, 0, 10), op(1, get("c"), val("1"), 20, 30)}, porcupine.Illegal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			html := filepath.Join(t.TempDir(), "h.html")
			got, _, err := linearizable(tc.h, []fault{{what: "a fault", start: 5, end: 25}}, 0, html)
			if got != tc.want {
				t.Fatalf("porcupine says %v, want %v", got, tc.want)
			}
			if got != porcupine.Ok && err != nil {
				t.Fatalf("visualization: %v", err)
			}
		})
	}
}

func TestCheckNoLoss(t *testing.T) {
	counter := func(final string, outs ...output) ([]record, map[string]register) {
		var h []record
		for i, o := range outs {
			h = append(h, op(i, incr("c"), o, int64(10*i), int64(10*i+5)))
		}
		return h, map[string]register{"c": {exists: final != "", val: final}}
	}
	tests := []struct {
		name  string
		h     []record
		final map[string]register
		want  string // a substring of the one problem expected; "" for none
	}{
		{"counter at least the acknowledged", nil, nil, ""},
		{"counter lost an incr", nil, nil, "counter is 1 after 2 acknowledged"},
		{"counter counted an incr twice", nil, nil, "counter is 4 after 2 acknowledged and 1 unknown"},
		{"counter missing", nil, nil, "counter is 0"},
		{"acknowledged chunk present", []record{
			op(0, appendTo("l", "x0.1;"), num(5), 0, 10)}, map[string]register{"l": {true, "x0.1;"}}, ""},
		{"acknowledged chunk lost", []record{
			op(0, appendTo("l", "x0.1;"), num(5), 0, 10), op(1, appendTo("l", "x1.1;"), num(10), 20, 30)},
			map[string]register{"l": {true, "x1.1;"}}, "APPEND of x0.1; (client 0 via n1) lost"},
		{"unknown chunk may be missing", []record{
			op(0, appendTo("l", "x0.1;"), unknown, 0, inf)}, map[string]register{"l": {}}, ""},
		{"chunk applied twice", []record{
			op(0, appendTo("l", "x0.1;"), num(5), 0, 10)}, map[string]register{"l": {true, "x0.1;x0.1;"}}, "2 times"},
		{"refused chunk applied", []record{
			op(0, appendTo("l", "x0.1;"), refused, 0, 10)}, map[string]register{"l": {true, "x0.1;"}}, "was refused"},
		{"chunk never sent", []record{
			op(0, get("l"), null, 0, 10)}, map[string]register{"l": {true, "x9.9;"}}, "never sent"},
		{"chunk overwritten by a later set", []record{
			op(0, appendTo("r", "x0.1;"), num(5), 0, 10), op(1, set("r", "5"), okReply, 20, 30)},
			map[string]register{"r": {true, "5"}}, ""},
		{"chunk overwritten by a concurrent unknown del", []record{
			op(0, appendTo("r", "x0.1;"), num(5), 10, 20), op(1, del("r"), unknown, 0, inf)},
			map[string]register{"r": {}}, ""},
		{"set finished before the append cannot overwrite it", []record{
			op(1, set("r", "5"), okReply, 0, 10), op(0, appendTo("r", "x0.1;"), num(6), 20, 30)},
			map[string]register{"r": {true, "5"}}, "APPEND of x0.1; (client 0 via n1) lost"},
		{"refused del cannot overwrite", []record{
			op(0, appendTo("r", "x0.1;"), num(5), 0, 10), op(1, del("r"), refused, 20, 30)},
			map[string]register{"r": {}}, "lost"},
		{"no final read", []record{op(0, get("z"), null, 0, 10)}, map[string]register{}, "no final value"},
		{"a script's increment lost", []record{
			op(0, eval("l"), num(1), 0, 10), op(1, eval("l"), num(1), 5, 15)},
			map[string]register{"l": {true, "1"}}, "counter is 1 after 2 acknowledged"},
		{"scripts counted", []record{
			op(0, eval("l"), num(1), 0, 10), op(1, eval("l"), num(2), 20, 30), op(1, eval("l"), unknown, 40, inf)},
			map[string]register{"l": {true, "3"}}, ""},
		{"queue: served and listed account for every push", []record{
			op(0, rpush("q", "a"), num(1), 0, 10), op(0, rpush("q", "b"), num(2), 20, 30), op(1, blpop("q"), val("a"), 40, 50)},
			map[string]register{"q": {true, "b"}}, ""},
		{"queue: a push lost", []record{
			op(0, rpush("q", "a"), num(1), 0, 10), op(0, rpush("q", "b"), num(2), 20, 30), op(1, lpop("q"), val("a"), 40, 50)},
			map[string]register{"q": {}}, "1 acknowledged pushes neither popped nor listed"},
		{"queue: an unknown pop may have taken it", []record{
			op(0, rpush("q", "a"), num(1), 0, 10), op(1, blpop("q"), unknown, 40, inf)},
			map[string]register{"q": {}}, ""},
		{"queue: served twice", []record{
			op(0, rpush("q", "a"), num(1), 0, 10), op(1, blpop("q"), val("a"), 40, 50), op(2, lpop("q"), val("a"), 40, 50)},
			map[string]register{"q": {}}, "popped or listed 2 times"},
		{"queue: served and still listed", []record{
			op(0, rpush("q", "a"), num(1), 0, 10), op(1, blpop("q"), val("a"), 40, 50)},
			map[string]register{"q": {true, "a"}}, "popped and still listed"},
		{"queue: never pushed", []record{op(1, lpop("q"), val("z"), 40, 50)},
			map[string]register{"q": {}}, "never pushed"},
	}
	tests[0].h, tests[0].final = counter("3", num(1), num(2), unknown)
	tests[1].h, tests[1].final = counter("1", num(1), num(2))
	tests[2].h, tests[2].final = counter("4", num(1), num(2), unknown)
	tests[3].h, tests[3].final = counter("", num(1), refused)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkNoLoss(tc.h, tc.final)
			switch {
			case tc.want == "" && len(got) > 0:
				t.Fatalf("problems %q, want none", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Fatalf("problems %q, want one with %q", got, tc.want)
			}
		})
	}
}

// TestCheckTransactions: checkNoLoss on the pair and the CAS key rejects
// split, lost and doubled transactions and CASes, and accepts what
// unknown outcomes allow.
func TestCheckTransactions(t *testing.T) {
	pairFinal := func(a, b string) map[string]register {
		ka, kb := pairKeys("p")
		return map[string]register{ka: reg(a), kb: reg(b)}
	}
	casFinal := func(v string) map[string]register { return map[string]register{"c": reg(v)} }
	tests := []struct {
		name  string
		h     []record
		final map[string]register
		want  []string // a substring of each problem expected, in order
	}{
		{"pair: acknowledged and unknown transactions", []record{
			op(0, tx("p"), pairOf("1", "1"), 0, 10), op(1, tx("p"), unknown, 20, inf),
			op(0, tx("p"), pairOf("3", "3"), 30, 40), op(2, mget("p"), pairOf("3", "3"), 50, 60)},
			pairFinal("3", "3"), nil},
		{"pair: the unknown transaction not applied", []record{
			op(0, tx("p"), pairOf("1", "1"), 0, 10), op(1, tx("p"), unknown, 20, inf)},
			pairFinal("1", "1"), nil},
		{"pair: EXEC split", []record{op(0, tx("p"), pairOf("1", "2"), 0, 10)},
			pairFinal("1", "1"), []string{`TX (client 0 via n1) returned "1" and "2": the pair moved apart`}},
		{"pair: MGET saw a split", []record{
			op(0, tx("p"), pairOf("1", "1"), 0, 10), op(1, mget("p"), pairOf("1", ""), 20, 30)},
			pairFinal("1", "1"), []string{`MGET (client 1 via n1) returned "1" and nil`}},
		{"pair: final values differ", []record{op(0, tx("p"), pairOf("1", "1"), 0, 10)},
			pairFinal("1", ""), []string{`final values "1" and nil differ`}},
		{"pair: a transaction lost", []record{
			op(0, tx("p"), pairOf("1", "1"), 0, 10), op(1, tx("p"), pairOf("2", "2"), 20, 30)},
			pairFinal("1", "1"), []string{"pair is 1 after 2 acknowledged and 0 unknown transactions"}},
		{"pair: a transaction applied twice", []record{
			op(0, tx("p"), pairOf("1", "1"), 0, 10), op(1, tx("p"), unknown, 20, inf)},
			pairFinal("3", "3"), []string{"pair is 3 after 1 acknowledged and 1 unknown transactions (want 1..2)"}},
		{"pair: a refused transaction applied", []record{op(0, tx("p"), refused, 0, 10)},
			pairFinal("1", "1"), []string{"pair is 1 after 0 acknowledged"}},
		{"pair: not read", []record{op(0, tx("p"), pairOf("1", "1"), 0, 10)},
			map[string]register{}, []string{"p: no final value read"}},

		{"CAS: acknowledged, aborted and unknown", []record{
			op(0, cas("c", "", "1"), okReply, 0, 10), op(1, cas("c", "", "1"), aborted, 5, 15),
			op(1, cas("c", "1", "2"), unknown, 20, inf), op(2, cas("c", "1", "2"), okReply, 25, 35),
			op(0, get("c"), val("2"), 40, 50)},
			casFinal("2"), nil},
		{"CAS: the unknown one applied", []record{
			op(0, cas("c", "", "1"), okReply, 0, 10), op(1, cas("c", "1", "2"), unknown, 20, inf)},
			casFinal("2"), nil},
		{"CAS: one lost", []record{
			op(0, cas("c", "", "1"), okReply, 0, 10), op(1, cas("c", "1", "2"), okReply, 20, 30)},
			casFinal("1"), []string{"final value 1 below the 2 an acknowledged CAS set"}},
		{"CAS: none kept", []record{op(0, cas("c", "", "1"), okReply, 0, 10)},
			casFinal(""), []string{"final value 0 below the 1"}},
		{"CAS: two acknowledged from one value", []record{
			op(0, cas("c", "", "1"), okReply, 0, 10), op(1, cas("c", "1", "2"), okReply, 20, 30),
			op(2, cas("c", "1", "2"), okReply, 25, 35)},
			casFinal("2"), []string{`two acknowledged CASes replaced "1" (clients 1 via n1 and 2 via n1)`,
				"CAS key is 2 after 3 acknowledged and 0 unknown CASes (want 3..3)"}},
		{"CAS: applied twice", []record{op(0, cas("c", "", "1"), okReply, 0, 10)},
			casFinal("2"), []string{"CAS key is 2 after 1 acknowledged and 0 unknown CASes (want 1..1)"}},
		{"CAS: an aborted one applied", []record{
			op(0, cas("c", "", "1"), okReply, 0, 10), op(1, cas("c", "1", "2"), aborted, 20, 30)},
			casFinal("2"), []string{"CAS key is 2 after 1 acknowledged and 0 unknown"}},
		{"CAS: a refused one applied", []record{op(0, cas("c", "", "1"), refused, 0, 10)},
			casFinal("1"), []string{"CAS key is 1 after 0 acknowledged"}},
		{"CAS: not a counter", []record{op(0, cas("c", "", "1"), okReply, 0, 10)},
			casFinal("x"), []string{`CAS key holds "x"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkNoLoss(tc.h, tc.final)
			ok := len(got) == len(tc.want)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.Contains(got[i], tc.want[i])
			}
			if !ok {
				t.Fatalf("problems %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		in         input
		r          reply
		err        error
		want       output
		unexpected bool
	}{
		{get("k"), nil, nil, null, false},
		{get("k"), "v", nil, val("v"), false},
		{get("k"), "", nil, val(""), false},
		{set("k", "1"), "OK", nil, okReply, false},
		{incr("k"), int64(3), nil, num(3), false},
		{incr("k"), errorReply("ERR value is not an integer or out of range"), nil, notInt, false},
		{set("k", "1"), errorReply("CLUSTERDOWN no leader available, the command was not applied; retry"), nil, refused, false},
		{set("k", "1"), errorReply("UNKNOWN the outcome of this write is unknown"), nil, unknown, false},
		{get("k"), nil, errors.New("i/o timeout"), unknown, false},
		{set("k", "1"), errorReply("ERR something else"), nil, refused, true},
		{get("k"), int64(1), nil, refused, true},
		{del("k"), "OK", nil, refused, true},
		{appendTo("k", "x"), errorReply("ERR value is not an integer or out of range"), nil, refused, true},

		{tx("p"), []any{int64(3), int64(3)}, nil, pairOf("3", "3"), false},
		{tx("p"), []any{int64(3), int64(2)}, nil, pairOf("3", "2"), false}, // for the checkers to judge
		{tx("p"), errorReply("EXECABORT Transaction discarded because of previous errors."), nil, refused, false},
		{tx("p"), errorReply(errBlockContention), nil, refused, false},
		{tx("p"), errorReply("UNKNOWN the outcome of this write is unknown"), nil, unknown, false},
		{tx("p"), []any{int64(1), errorReply("ERR value is not an integer or out of range")}, nil, refused, true},
		{tx("p"), nil, nil, refused, true}, // no WATCH: EXEC has nothing to abort for
		{tx("p"), []any{int64(1)}, nil, refused, true},
		{mget("p"), []any{"1", nil}, nil, pairOf("1", ""), false},
		{mget("p"), []any{nil, nil}, nil, pairOf("", ""), false},
		{mget("p"), []any{int64(1), "1"}, nil, refused, true},
		{cas("c", "", "1"), []any{"OK"}, nil, okReply, false},
		{cas("c", "", "1"), nil, nil, aborted, false},
		{cas("c", "", "1"), errorReply("CLUSTERDOWN no leader available, the command was not applied; retry"), nil, refused, false},
		{cas("c", "", "1"), nil, errors.New("i/o timeout"), unknown, false},
		{cas("c", "", "1"), []any{"QUEUED"}, nil, refused, true},
		{get("k"), errorReply("EXECABORT Transaction discarded because of previous errors."), nil, refused, true},
	}
	for _, tc := range tests {
		got, bad := outcome(tc.in, tc.r, tc.err)
		got.error = ""
		if got != tc.want || (bad != "") != tc.unexpected {
			t.Errorf("outcome(%v, %#v, %v) = %+v, %q; want %+v, unexpected %v", tc.in, tc.r, tc.err, got, bad, tc.want, tc.unexpected)
		}
	}
}

// TestQueueReply: before EXEC a correct server sends OK (MULTI, WATCH),
// QUEUED, or a refusal that makes EXEC answer EXECABORT.
func TestQueueReply(t *testing.T) {
	for _, tc := range []struct {
		r          reply
		unexpected bool
	}{
		{"OK", false},
		{"QUEUED", false},
		{errorReply("LOADING Redis is loading the dataset in memory"), false},
		{errorReply("CLUSTERDOWN no leader available, the command was not applied; retry"), false},
		{errorReply("ERR unknown command 'INCR'"), true},
		{"PONG", true},
		{int64(1), true},
	} {
		if got := queueReply(tc.r); (got != "") != tc.unexpected {
			t.Errorf("queueReply(%#v) = %q, want unexpected %v", tc.r, got, tc.unexpected)
		}
	}
}
