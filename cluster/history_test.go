package cluster

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// kind is a command of the workload.
type kind uint8

const (
	opGet kind = iota
	opSet
	opDel
	opIncr
	opAppend
	// opTx is MULTI, INCR {k}a, INCR {k}b, EXEC: a transaction on the
	// pair of counters of model key k.
	opTx
	// opMGet is MGET {k}a {k}b: both counters of the pair k, read at once.
	opMGet
	// opCAS is the MULTI, SET k <expect+1>, EXEC that follows a WATCH k
	// and a GET k that read expect (client.cas).
	opCAS
	// opEval is a Lua script that increments k by a GET and a SET
	// (luaIncr): to the model, an INCR.
	opEval
	// The queue's calls (queue_test.go): RPUSH k e, LPOP k, BLPOP k with
	// a short timeout, LRANGE k 0 -1.
	opRPush
	opLPop
	opBLPop
	opLRange
)

var kindNames = [...]string{"GET", "SET", "DEL", "INCR", "APPEND", "TX", "MGET", "CAS", "EVAL", "RPUSH", "LPOP", "BLPOP", "LRANGE"}

// luaIncr is opEval's script: a read-modify-write whose GET and SET only
// a script's atomicity keeps together.
const luaIncr = "local v = tonumber(redis.call('GET', KEYS[1]) or '0') + 1; redis.call('SET', KEYS[1], v); return v"

func (k kind) String() string { return kindNames[k] }

func (k kind) write() bool { return k != opGet && k != opMGet && k != opLRange }

// queue reports whether the kind works on a queue (queue_test.go).
func (k kind) queue() bool { return k >= opRPush }

// pair reports whether the kind works on a pair of keys.
func (k kind) pair() bool { return k == opTx || k == opMGet }

// input is one call. Every call works on one model key: a Redis key, or
// for opTx and opMGet a pair of Redis keys that always move together, so
// histories partition by model key.
type input struct {
	op  kind
	key string // the model key
	arg string // SET's value, APPEND's chunk, CAS's new value
	// expect is the value a CAS's GET read after its WATCH: the value it
	// replaces, if EXEC applies it.
	expect register
}

// pairKeys are the Redis keys of the pair k: one hash tag, so they map to
// one partition whatever --partitions is.
func pairKeys(k string) (a, b string) { return "{" + k + "}a", "{" + k + "}b" }

// cmds are the commands the call sends, in one pipeline; the last one's
// reply is the call's, the others' must be OK or QUEUED.
func (in input) cmds() [][]string {
	switch in.op {
	case opSet, opAppend:
		return [][]string{{in.op.String(), in.key, in.arg}}
	case opTx:
		a, b := pairKeys(in.key)
		return [][]string{{"MULTI"}, {"INCR", a}, {"INCR", b}, {"EXEC"}}
	case opMGet:
		a, b := pairKeys(in.key)
		return [][]string{{"MGET", a, b}}
	case opCAS:
		return [][]string{{"MULTI"}, {"SET", in.key, in.arg}, {"EXEC"}}
	case opEval:
		return [][]string{{"EVAL", luaIncr, "1", in.key}}
	case opRPush:
		return [][]string{{"RPUSH", in.key, in.arg}}
	case opBLPop:
		return [][]string{{"BLPOP", in.key, blpopTimeout}}
	case opLRange:
		return [][]string{{"LRANGE", in.key, "0", "-1"}}
	}
	return [][]string{{in.op.String(), in.key}}
}

func (in input) String() string {
	switch {
	case in.op == opCAS:
		return fmt.Sprintf("CAS %s %v→%s", in.key, in.expect, in.arg)
	case in.arg != "":
		return fmt.Sprintf("%v %s %s", in.op, in.key, in.arg)
	}
	return fmt.Sprintf("%v %s", in.op, in.key)
}

// result is how a call ended.
type result uint8

const (
	// resOK: a reply of the command's own (value, count, OK).
	resOK result = iota
	// resNotInt: INCR's "value is not an integer" error, which the model
	// predicts like any other reply.
	resNotInt
	// resRefused: a definite error (CLUSTERDOWN, ...): not applied.
	resRefused
	// resUnknown: a timeout, a lost connection or -UNKNOWN: it may have
	// been applied, now or later.
	resUnknown
)

var resultNames = [...]string{"ok", "not-int", "refused", "unknown"}

func (r result) String() string { return resultNames[r] }

// output is what a call returned.
type output struct {
	res  result
	null bool   // GET of a missing key; a CAS that a WATCH aborted (not applied)
	val  string // GET's value
	n    int64  // DEL, INCR, APPEND
	// two is what a call on a pair returned: MGET's two values, or the
	// values EXEC's two INCRs returned (as the strings they leave).
	two   [2]register
	error string // the error text of resNotInt, resRefused and -UNKNOWN
}

// show prints the output of a call of kind k.
func (o output) show(k kind) string {
	switch {
	case o.res == resOK && k.pair():
		return fmt.Sprintf("[%v %v]", o.two[0], o.two[1])
	case o.res == resOK && k == opCAS:
		if o.null {
			return "not applied"
		}
		return "applied"
	case o.res == resOK:
		if o.null {
			return "nil"
		}
		if o.val != "" {
			return strconv.Quote(o.val)
		}
		return strconv.FormatInt(o.n, 10)
	case o.res == resNotInt:
		return "ERR not an integer"
	}
	return o.res.String()
}

// record is one call of the history. Times are nanoseconds since the
// history began; an unknown outcome's ret is math.MaxInt64: it may take
// effect at any time after its call.
type record struct {
	client int
	node   string // the node the client sent it to
	in     input
	out    output
	call   int64
	ret    int64
}

// history collects the records of concurrent clients.
type history struct {
	start time.Time
	mu    sync.Mutex
	recs  []record
	// faults are the fault windows, for the visualization.
	faults []fault
	// nativeResent counts the writes the native clients sent again
	// under their request ids (client.Stats.Resent).
	nativeResent atomic.Uint64
}

type fault struct {
	what       string
	start, end int64
}

func newHistory() *history { return &history{start: time.Now()} }

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(r record) {
	if r.out.res == resUnknown {
		r.ret = math.MaxInt64
	}
	h.mu.Lock()
	h.recs = append(h.recs, r)
	h.mu.Unlock()
}

// faultStart notes that a fault began; the returned func notes its end.
func (h *history) faultStart(what string) func() {
	h.mu.Lock()
	i := len(h.faults)
	h.faults = append(h.faults, fault{what: what, start: h.now(), end: -1})
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		h.faults[i].end = h.now()
		h.mu.Unlock()
	}
}

func (h *history) records() []record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]record(nil), h.recs...)
}

// outcome turns a reply (or a transport error) into the output the
// model checks. unexpected is set for replies no correct server sends to
// this command, which the test reports as failures.
func outcome(in input, r reply, err error) (out output, unexpected string) {
	if err != nil {
		return output{res: resUnknown, error: err.Error()}, ""
	}
	if e, ok := r.(errorReply); ok {
		msg := string(e)
		exec := in.op == opTx || in.op == opCAS
		switch {
		case strings.HasPrefix(msg, "UNKNOWN "):
			return output{res: resUnknown, error: msg}, ""
		case in.op == opIncr && msg == "ERR value is not an integer or out of range":
			return output{res: resNotInt, error: msg}, ""
		case refusal(msg):
			return output{res: resRefused, error: msg}, ""
		// A command refused while queued (its error is judged by
		// queueReply) makes EXEC discard the whole transaction; a block
		// that kept meeting conflicts applied nothing either.
		case exec && (strings.HasPrefix(msg, "EXECABORT ") || msg == errBlockContention),
			in.op == opEval && msg == errBlockContention:
			return output{res: resRefused, error: msg}, ""
		}
		return output{res: resRefused, error: msg}, "error reply " + strconv.Quote(msg)
	}
	if in.op.queue() {
		if out, ok := queueOutcome(in, r); ok {
			return out, ""
		}
		return output{res: resRefused}, fmt.Sprintf("reply %#v", r)
	}
	switch in.op {
	case opTx:
		// Both INCRs' replies, or the transaction's reply is not one a
		// correct server sends to this workload.
		if a, ok := r.([]any); ok && len(a) == 2 {
			x, okx := a[0].(int64)
			y, oky := a[1].(int64)
			if okx && oky {
				return output{two: [2]register{intRegister(x), intRegister(y)}}, ""
			}
		}
	case opMGet:
		if a, ok := r.([]any); ok && len(a) == 2 {
			var out output
			for i, v := range a {
				switch v := v.(type) {
				case nil:
				case string:
					out.two[i] = register{true, v}
				default:
					return output{res: resRefused}, fmt.Sprintf("reply %#v", r)
				}
			}
			return out, ""
		}
	case opCAS:
		if r == nil {
			return output{null: true}, "" // a WATCHed key changed: not applied
		}
		if a, ok := r.([]any); ok && len(a) == 1 && a[0] == "OK" {
			return output{}, ""
		}
	case opGet:
		if r == nil {
			return output{null: true}, ""
		}
		if s, ok := r.(string); ok {
			return output{val: s}, ""
		}
	case opSet:
		if r == "OK" {
			return output{}, ""
		}
	default:
		if n, ok := r.(int64); ok {
			return output{n: n}, ""
		}
	}
	return output{res: resRefused}, fmt.Sprintf("reply %#v", r)
}

// errBlockContention is EXEC's reply when the leader ran a transaction
// maxBlockAttempts times and the keys it read kept changing in between
// (commands/block.go): nothing was applied.
const errBlockContention = "ERR the transaction's keys kept changing while it ran; nothing was applied, retry"

// refusal reports whether an error reply is one a correct node gives
// during a fault, saying the command was not applied. MOVED reaches the
// native client's caller when leadership moved more often than it
// follows redirects for one call (its MaxAttempts).
func refusal(msg string) bool {
	return strings.HasPrefix(msg, "CLUSTERDOWN ") || strings.HasPrefix(msg, "LOADING ") ||
		strings.HasPrefix(msg, "TRYAGAIN ") || strings.HasPrefix(msg, "MOVED ")
}

// queueReply judges the reply to a command that leads up to a call's own
// (MULTI, WATCH, a queued command): what a correct server sends there is
// OK, QUEUED or a refusal, which makes EXEC answer EXECABORT. It returns
// what was unexpected, or "".
func queueReply(r reply) string {
	switch r := r.(type) {
	case string:
		if r == "OK" || r == "QUEUED" {
			return ""
		}
	case errorReply:
		if refusal(string(r)) {
			return ""
		}
	}
	return fmt.Sprintf("reply %#v before EXEC", r)
}

func intRegister(n int64) register { return register{true, strconv.FormatInt(n, 10)} }
