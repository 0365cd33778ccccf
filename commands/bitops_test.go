package commands

import (
	"fmt"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// Expected replies were taken from redis-server 7.0.15 over the same
// command sequences.

func TestBitopsSetGetBit(t *testing.T) {
	runSteps(t, newTester(t), []step{
		{"SETBIT b 7 1", ":0\r\n"},
		{"SETBIT b 7 1", ":1\r\n"},
		{"GET b", "$1\r\n\x01\r\n"},
		{"OBJECT ENCODING b", "$3\r\nraw\r\n"},
		{"SETBIT b 17 1", ":0\r\n"},
		{"GET b", "$3\r\n\x01\x00\x40\r\n"},
		{"GETBIT b 17", ":1\r\n"},
		{"GETBIT b 16", ":0\r\n"},
		{"GETBIT b 4294967295", ":0\r\n"},
		{"GETBIT nosuch 3", ":0\r\n"},
		{"SETBIT b 4294967296 1", "-ERR bit offset is not an integer or out of range\r\n"},
		{"SETBIT b -1 1", "-ERR bit offset is not an integer or out of range\r\n"},
		{"SETBIT b 0 2", "-ERR bit is not an integer or out of range\r\n"},
		{"SETBIT b 0 x", "-ERR bit is not an integer or out of range\r\n"},
		{"SET n 12", "+OK\r\n"},
		{"GETBIT n 2", ":1\r\n"}, // '1' is 0x31
		{"SET e \"\"", "+OK\r\n"},
		{"SETBIT e 0 0", ":0\r\n"},
		{"GET e", "$1\r\n\x00\r\n"},
		{"LPUSH l a", ":1\r\n"},
		{"SETBIT l 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"GETBIT l 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"SET ttl v EX 100", "+OK\r\n"},
		{"SETBIT ttl 0 1", ":0\r\n"},
		{"TTL ttl", ":100\r\n"},
	})
}

func TestBitopsBitOp(t *testing.T) {
	runSteps(t, newTester(t), []step{
		{"SET a \"\\xaa\\x55\\xff\"", "+OK\r\n"},
		{"SET b \"\\x0f\\xf0\"", "+OK\r\n"},
		{"BITOP AND d a b", ":3\r\n"},
		{"GET d", "$3\r\n\x0a\x50\x00\r\n"},
		{"BITOP OR d a b nosuch", ":3\r\n"},
		{"GET d", "$3\r\n\xaf\xf5\xff\r\n"},
		{"BITOP XOR d a b", ":3\r\n"},
		{"GET d", "$3\r\n\xa5\xa5\xff\r\n"},
		{"BITOP NOT d b", ":2\r\n"},
		{"GET d", "$2\r\n\xf0\x0f\r\n"},
		{"OBJECT ENCODING d", "$3\r\nraw\r\n"},
		{"SET d x EX 100", "+OK\r\n"},
		{"BITOP OR d a", ":3\r\n"},
		{"TTL d", ":-1\r\n"},
		{"BITOP AND d nosuch nosuch2", ":0\r\n"},
		{"EXISTS d", ":0\r\n"},
		{"BITOP NOT d a b", "-ERR BITOP NOT must be called with a single source key.\r\n"},
		{"BITOP NAND d a", "-ERR syntax error\r\n"},
		{"LPUSH l a", ":1\r\n"},
		{"BITOP OR d a l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"BITOP OR l a", ":3\r\n"},
		{"TYPE l", "+string\r\n"},
	})
}

func TestBitopsBitfield(t *testing.T) {
	runSteps(t, newTester(t), []step{
		{"BITFIELD f SET i8 0 -100 GET u8 0 INCRBY i8 0 -100 OVERFLOW SAT INCRBY i8 0 -100", "*4\r\n:0\r\n:156\r\n:56\r\n:-44\r\n"},
		{"BITFIELD f OVERFLOW FAIL INCRBY u4 #1 20 SET u4 #1 9 GET u4 4", "*3\r\n$-1\r\n:4\r\n:9\r\n"},
		{"BITFIELD f SET i64 8 -9223372036854775808 INCRBY i64 8 -1 GET u63 8", "*3\r\n:0\r\n:9223372036854775807\r\n:4611686018427387903\r\n"},
		{"BITFIELD_RO f GET u8 0 GET i4 4", "*2\r\n:217\r\n:-7\r\n"},
		{"BITFIELD_RO f SET u8 0 1", "-ERR BITFIELD_RO only supports the GET subcommand\r\n"},
		{"BITFIELD f GET u64 0", "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"},
		{"BITFIELD f OVERFLOW X", "-ERR Invalid OVERFLOW type specified\r\n"},
		{"BITFIELD f GET u8 #536870912", "-ERR bit offset is not an integer or out of range\r\n"},
		{"BITFIELD f GET u8", "-ERR syntax error\r\n"},
		{"BITFIELD nosuch", "*0\r\n"},
		{"BITFIELD far OVERFLOW FAIL INCRBY u2 100 10", "*1\r\n$-1\r\n"},
		{"STRLEN far", ":13\r\n"}, // grown all the same, as Redis's
	})
}

// countingNode counts what its commands propose.
type countingNode struct {
	*fakeNode
	proposed []op.Type
}

func (n *countingNode) Propose(o *op.Op) (any, error) {
	n.proposed = append(n.proposed, o.Type)
	return n.fakeNode.Propose(o)
}

// A bit write that would change nothing is answered from the leader's
// state: no op, as Redis counts no change (dirty, WATCH) for it.
func TestBitopsNoChangeProposesNothing(t *testing.T) {
	x := newTester(t)
	n := &countingNode{fakeNode: x.node}
	x.ctx.Node = n
	for _, s := range []struct {
		cmd, want string
		proposes  bool
	}{
		{"SETBIT k 3 0", ":0\r\n", true},                                 // created
		{"SETBIT k 3 0", ":0\r\n", false},                                // as it is
		{"SETBIT k 3 1", ":0\r\n", true},                                 // flipped
		{"SETBIT k 9 0", ":0\r\n", true},                                 // grown
		{"BITFIELD k SET u4 0 1 GET u8 0", "*2\r\n:1\r\n:16\r\n", false}, // same value
		{"BITFIELD k OVERFLOW FAIL INCRBY u4 0 15", "*1\r\n$-1\r\n", false},
		{"BITFIELD k OVERFLOW SAT INCRBY u1 3 1", "*1\r\n:1\r\n", false},
		{"BITFIELD k INCRBY u4 0 1", "*1\r\n:2\r\n", true},
		{"BITFIELD k SET u8 16 0", "*1\r\n:0\r\n", true}, // grows
		{"BITFIELD k GET u8 0", "*1\r\n:32\r\n", false},
		{"LPUSH l a", ":1\r\n", true},
		{"SETBIT l 0 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", false},
	} {
		before := len(n.proposed)
		x.expect(s.cmd, s.want)
		if got := len(n.proposed) > before; got != s.proposes {
			t.Errorf("%s: proposed %v, want %v", s.cmd, got, s.proposes)
		}
	}
}

// recorder keeps the keyspace events applied.
type recorder struct{ events []string }

func (r *recorder) Wants(keyspace.EventClass) bool { return true }
func (r *recorder) Notify(db int, _ keyspace.EventClass, event string, key []byte) {
	r.events = append(r.events, event+" "+string(key))
}

// The events are Redis's: "setbit" for SETBIT and BITFIELD when something
// changed, "set" or "del" for BITOP's destination.
func TestBitopsEvents(t *testing.T) {
	x := newTester(t)
	r := &recorder{}
	x.node.ks.SetNotifier(r)
	for _, s := range []struct{ cmd, events string }{
		{"SETBIT k 3 1", "new k,setbit k"},
		{"SETBIT k 3 1", ""},
		{"SETBIT k 3 0", "setbit k"},
		{"BITFIELD k SET u8 0 0", ""},
		{"BITFIELD k SET u8 0 1", "setbit k"},
		{"BITFIELD f OVERFLOW FAIL INCRBY u2 0 9", "new f"},
		{"BITFIELD f SET u2 8 0", "setbit f"}, // grown: a change
		{"BITOP OR d k", "new d,set d"},
		{"BITOP OR d nosuch", "keymiss nosuch,del d"},
		{"BITOP OR d nosuch", "keymiss nosuch"},
	} {
		r.events = nil
		x.do(s.cmd)
		if got := strings.Join(r.events, ","); got != s.events {
			t.Errorf("%s: events %q, want %q", s.cmd, got, s.events)
		}
	}
}

// The appliers refuse malformed ops rather than act on them.
func TestBitopsMalformedOps(t *testing.T) {
	x := newTester(t)
	for _, o := range []*op.Op{
		{Type: op.SetBit, Int: -1, Args: [][]byte{[]byte("k"), []byte("1")}},
		{Type: op.SetBit, Int: 1 << 32, Args: [][]byte{[]byte("k"), []byte("1")}},
		{Type: op.SetBit, Args: [][]byte{[]byte("k"), []byte("2")}},
		{Type: op.BitOp, Int: 4, Args: [][]byte{[]byte("d"), []byte("k")}},
		{Type: op.BitOp, Int: op.BitNot, Args: [][]byte{[]byte("d"), []byte("k"), []byte("j")}},
		{Type: op.BitField, Args: [][]byte{[]byte("k"), []byte("SET"), []byte("u64"), []byte("0"), []byte("1")}},
	} {
		res, _ := x.node.Propose(o)
		if _, ok := res.(error); !ok {
			t.Errorf("%v %d %q: applied (%v)", o.Type, o.Int, o.Args, res)
		}
	}
	x.expect("DBSIZE", ":0\r\n")
}

func TestBitfieldOverflow(t *testing.T) {
	for _, c := range []struct {
		typ              string
		value, incr      int64
		overflow         int8
		want             int64
		wantOverflowFlag bool
	}{
		{"u8", 250, 10, overflowWrap, 4, true},
		{"u8", 250, 10, overflowSat, 255, true},
		{"u8", 5, -10, overflowSat, 0, true},
		{"u8", 5, -10, overflowWrap, 251, true},
		{"u8", 5, 10, overflowWrap, 15, false},
		{"u8", -1, 0, overflowWrap, 255, true}, // SET u8 -1
		{"i8", 127, 1, overflowWrap, -128, true},
		{"i8", 127, 1, overflowSat, 127, true},
		{"i8", -128, -1, overflowSat, -128, true},
		{"i8", 300, 0, overflowWrap, 44, true},
		{"i64", 1<<63 - 1, 1, overflowWrap, -1 << 63, true},
		{"i64", -1 << 63, -1, overflowSat, -1 << 63, true},
		{"i64", -1 << 63, 1<<63 - 1, overflowSat, -1, false},
		{"u63", 1<<63 - 1, 1, overflowWrap, 0, true},
		{"u63", 0, -1 << 63, overflowSat, 0, true},
		{"i1", 0, -1, overflowSat, -1, false},
		{"i1", -1, -1, overflowWrap, 0, true},
	} {
		signed, width, err := bitfieldType([]byte(c.typ))
		if err != nil {
			t.Fatal(err)
		}
		f := bitfieldOp{bits: int8(width), signed: signed, overflow: c.overflow}
		got, over := f.overflowed(c.value, c.incr)
		if got != c.want || over != c.wantOverflowFlag {
			t.Errorf("%s %d%+d (%d): %d %v, want %d %v", c.typ, c.value, c.incr, c.overflow, got, over, c.want, c.wantOverflowFlag)
		}
	}
}

// naiveBitCount and naiveBitPos state BITCOUNT's and BITPOS's rules bit
// by bit, for the fuzz targets to hold the word-wise code to.
func naiveRange(n, start, end int64, isBit bool) (from, to int64) {
	total := n * 8
	if !isBit {
		total = n
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	end = min(end, total-1)
	if !isBit {
		return start * 8, end*8 + 7
	}
	return start, end
}

func naiveBitCount(p []byte, start, end int64, isBit bool) int64 {
	if start < 0 && end < 0 && start > end {
		return 0
	}
	from, to := naiveRange(int64(len(p)), start, end, isBit)
	var n int64
	for i := from; i <= to; i++ {
		n += bitAt(p, i)
	}
	return n
}

func naiveBitPos(p []byte, bit, start, end int64, isBit, endGiven bool) int64 {
	from, to := naiveRange(int64(len(p)), start, end, isBit)
	if from > to {
		return -1
	}
	for i := from; i <= to; i++ {
		if bitAt(p, i) == bit {
			return i
		}
	}
	if bit == 0 && !endGiven {
		return to + 1
	}
	return -1
}

func FuzzBitRanges(f *testing.F) {
	f.Add([]byte("\x00\xff\xf0"), int64(1), int64(7), int64(-3), uint8(3))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), int64(0), int64(0), int64(-1), uint8(2))
	f.Add([]byte(""), int64(0), int64(0), int64(-1), uint8(0))
	f.Fuzz(func(t *testing.T, p []byte, bit, start, end int64, form uint8) {
		bit &= 1
		isBit := form&1 != 0
		unit := "BYTE"
		if isBit {
			unit = "BIT"
		}
		s, e := []byte(fmt.Sprint(start)), []byte(fmt.Sprint(end))
		n, err := bitCount(p, [][]byte{s, e, []byte(unit)})
		if want := naiveBitCount(p, start, end, isBit); err != nil || n != want {
			t.Fatalf("BITCOUNT %q %d %d %s: %d %v, want %d", p, start, end, unit, n, err, want)
		}
		args := [][]byte{s, e, []byte(unit)}
		endGiven := true
		switch {
		case form&2 == 0 && !isBit: // no end
			args, endGiven, end = args[:1], false, -1
		case form&4 != 0 && !isBit: // no range
			args, endGiven, start, end = nil, false, 0, -1
		}
		pos, err := bitPos(p, bit, args)
		if want := naiveBitPos(p, bit, start, end, isBit, endGiven); err != nil || pos != want {
			t.Fatalf("BITPOS %q %d %q: %d %v, want %d", p, bit, args, pos, err, want)
		}
	})
}

// FuzzBitfield parses arbitrary BITFIELD arguments and, when they parse,
// runs them as an op on a string: Redis's errors or a reply, never a
// panic, and a GET that reads back what a SET wrote.
func FuzzBitfield(f *testing.F) {
	f.Add("GET u8 0 SET i5 #3 -1 OVERFLOW SAT INCRBY i64 0 -9223372036854775808", []byte("\x12\x34"))
	f.Add("OVERFLOW FAIL INCRBY u63 100 1 GET i1 #7", []byte(""))
	f.Add("SET u8 #536870911 1", []byte("x"))
	table := NewTable()
	f.Fuzz(func(t *testing.T, line string, val []byte) {
		args := [][]byte{[]byte("k")}
		for _, w := range strings.Fields(line) {
			args = append(args, []byte(w))
		}
		p, err := parseBitfield(args[1:])
		if err != nil || p.size > 1<<16 {
			return // parse errors are Redis's; skip huge allocations
		}
		ks := keyspace.New(1)
		ks.Lock()
		defer ks.Unlock()
		table.Apply(ks, &op.Op{Type: op.Set, Now: 1, Args: [][]byte{[]byte("k"), val}})
		res := table.Apply(ks, &op.Op{Type: op.BitField, Now: 1, Args: args})
		reply, ok := res.([]any)
		if !ok || len(reply) != len(p.ops) {
			t.Fatalf("%q: %v", line, res)
		}
		e := ks.DB(0).Get([]byte("k"), 1)
		if n := len(p.ops); n > 0 && p.ops[n-1].code == fieldSet && reply[n-1] != nil {
			o := p.ops[n-1]
			stored, _, _ := o.write(0)
			if got := o.get(e.Bytes()); got != stored {
				t.Fatalf("%q: read back %d, wrote %d", line, got, stored)
			}
		}
	})
}
