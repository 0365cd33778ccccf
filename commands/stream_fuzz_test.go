package commands

import (
	"testing"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// FuzzApplyStream applies any stream op, well formed by the op codec's
// shape or not, to a keyspace holding a stream with a group, pending
// entries and a deleted entry: no panic, whatever its arguments.
func FuzzApplyStream(f *testing.F) {
	b := func(s ...string) [][]byte {
		out := make([][]byte, len(s))
		for i, x := range s {
			out[i] = []byte(x)
		}
		return out
	}
	seeds := []op.Op{
		{Type: op.XAdd, Args: b("s", "*", "", "", "f", "v")},
		{Type: op.XAdd, Flags: op.XTrimMaxLen | op.XTrimApprox, Args: b("s", "9-*", "1", "", "f", "v")},
		{Type: op.XTrim, Flags: op.XTrimMinID, Args: b("s", "3-0", "")},
		{Type: op.XDel, Args: b("s", "2-0", "x")},
		{Type: op.XSetID, Args: b("s", "99-0", "50", "3-0")},
		{Type: op.XGroupCreate, Args: b("s", "g2", "$", "MKSTREAM", "ENTRIESREAD", "3")},
		{Type: op.XGroupSetID, Args: b("s", "g", "+")},
		{Type: op.XReadGroup, Int: 2, Args: b("g", "c", "s", ">")},
		{Type: op.XReadGroup, Flags: op.XNoAck | op.XBlocked, Args: b("g", "c", "s", "0")},
		{Type: op.XAck, Args: b("s", "g", "1-0")},
		{Type: op.XClaim, Args: b("s", "g", "d", "0", "1-0", "5-0", "FORCE", "RETRYCOUNT", "3", "LASTID", "7-0")},
		{Type: op.XAutoClaim, Args: b("s", "g", "d", "0", "0", "COUNT", "1")},
		{Type: op.XGroupDelConsumer, Args: b("s", "g", "c")},
	}
	for _, o := range seeds {
		o.Now = 1000
		f.Add(o.Encode(nil))
	}
	table := NewTable()
	f.Fuzz(func(t *testing.T, data []byte) {
		var o op.Op
		if op.Decode(data, &o) != nil || o.Type < op.XAdd || o.Type > op.XAutoClaim {
			return
		}
		ks := keyspace.New(1)
		ks.Lock()
		defer ks.Unlock()
		for _, s := range []op.Op{
			{Type: op.XAdd, Args: b("s", "1-0", "", "", "f", "1")},
			{Type: op.XAdd, Args: b("s", "2-0", "", "", "f", "2", "g", "x")},
			{Type: op.XAdd, Args: b("s", "3-0", "", "", "f", "3")},
			{Type: op.XGroupCreate, Args: b("s", "g", "0")},
			{Type: op.XReadGroup, Int: 2, Args: b("g", "c", "s", ">")},
			{Type: op.XDel, Args: b("s", "1-0")},
		} {
			s.Now = 10
			if res, ok := table.Apply(ks, &s).(error); ok {
				t.Fatalf("seed %s: %v", s.Type, res)
			}
		}
		table.Apply(ks, &o)
		table.Apply(ks, &o)
		if e := ks.DB(0).Get([]byte("s"), 2000); e != nil {
			if st, ok := e.Object().(*keyspace.Stream); ok {
				st.AppendSnapshot(nil)
			}
		}
	})
}
