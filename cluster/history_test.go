package cluster

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
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
)

var kindNames = [...]string{"GET", "SET", "DEL", "INCR", "APPEND"}

func (k kind) String() string { return kindNames[k] }

func (k kind) write() bool { return k != opGet }

// input is one call: a command on one key (every command of the workload
// touches exactly one key, so histories partition by key).
type input struct {
	op  kind
	key string
	arg string // SET's value, APPEND's chunk
}

func (in input) args() []string {
	if in.op == opSet || in.op == opAppend {
		return []string{in.op.String(), in.key, in.arg}
	}
	return []string{in.op.String(), in.key}
}

func (in input) String() string {
	if in.arg != "" {
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
	res   result
	null  bool   // GET of a missing key
	val   string // GET's value
	n     int64  // DEL, INCR, APPEND
	error string // the error text of resNotInt, resRefused and -UNKNOWN
}

func (o output) String() string {
	switch o.res {
	case resOK:
		if o.null {
			return "nil"
		}
		if o.val != "" {
			return strconv.Quote(o.val)
		}
		return strconv.FormatInt(o.n, 10)
	case resNotInt:
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
		switch {
		case strings.HasPrefix(msg, "UNKNOWN "):
			return output{res: resUnknown, error: msg}, ""
		case in.op == opIncr && msg == "ERR value is not an integer or out of range":
			return output{res: resNotInt, error: msg}, ""
		case strings.HasPrefix(msg, "CLUSTERDOWN "), strings.HasPrefix(msg, "LOADING "),
			strings.HasPrefix(msg, "TRYAGAIN "):
			return output{res: resRefused, error: msg}, ""
		}
		return output{res: resRefused, error: msg}, "error reply " + strconv.Quote(msg)
	}
	switch in.op {
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
