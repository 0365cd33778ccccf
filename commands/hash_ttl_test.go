package commands

import (
	"strconv"
	"testing"

	"github.com/loomcache/loomcache/op"
)

// ints is a RESP array of integers.
func ints(vs ...int64) string {
	s := "*" + strconv.Itoa(len(vs)) + "\r\n"
	for _, v := range vs {
		s += ":" + strconv.FormatInt(v, 10) + "\r\n"
	}
	return s
}

// TestHashFieldTTLReplies: the deadline is the handler's clock plus the
// TTL; HTTL and HEXPIRETIME round up to seconds as Redis 7.4 does; a
// field is gone at its deadline.
func TestHashFieldTTLReplies(t *testing.T) {
	x := newTester(t)
	now := x.node.now
	x.expect("HSET h a 1 b 2", ":2\r\n")
	x.expect("HPEXPIRE h 1500 FIELDS 2 a nosuch", ints(1, -2))
	x.expect("HTTL h FIELDS 2 a b", ints(2, -1))
	x.expect("HPTTL h FIELDS 1 a", ints(1500))
	x.expect("HEXPIRETIME h FIELDS 1 a", ints((now+1500+999)/1000))
	x.expect("HPEXPIRETIME h FIELDS 1 a", ints(now+1500))
	x.expect("HEXPIREAT h 1 GT FIELDS 1 a", ints(0))
	x.expect("HPEXPIREAT h "+strconv.FormatInt(now+1000, 10)+" LT FIELDS 1 a", ints(1))
	x.node.now += 999
	x.expect("HPTTL h FIELDS 1 a", ints(1))
	x.expect("HGET h a", "$1\r\n1\r\n")
	x.node.now++
	x.expect("HGET h a", "$-1\r\n")
	x.expect("HTTL h FIELDS 1 a", ints(-2))
	x.expect("HEXISTS h a", ":0\r\n")
	x.expect("HLEN h", ":2\r\n") // not deleted yet: Redis 7.4's HLEN counts it
	x.expect("HGETALL h", "*2\r\n$1\r\nb\r\n$1\r\n2\r\n")
	x.expect("HPERSIST h FIELDS 2 a b", ints(-2, -1))
	// The last visible field expiring makes the key absent.
	x.expect("HEXPIRE h 1 FIELDS 1 b", ints(1))
	x.node.now += 1000
	x.expect("EXISTS h", ":0\r\n")
	x.expect("TYPE h", "+none\r\n")
	x.expect("HLEN h", ":0\r\n")
}

// TestHashFieldTTLNoChangeNoVersion: HEXPIRE whose conditions all fail,
// HPERSIST of fields without a deadline and either on absent fields leave
// the key's version alone (WATCH), as an applier that changes nothing
// must.
func TestHashFieldTTLNoChangeNoVersion(t *testing.T) {
	x := newTester(t)
	x.expect("HSET h a 1 b 2", ":2\r\n")
	x.expect("HEXPIRE h 100 FIELDS 1 a", ints(1))
	db := x.node.ks.DB(0)
	v := db.Version([]byte("h"), x.node.now)
	for _, line := range []string{"HEXPIRE h 50 NX FIELDS 1 a", "HEXPIRE h 50 GT FIELDS 2 a b", "HEXPIRE h 500 XX FIELDS 1 b",
		"HEXPIRE h 500 LT FIELDS 1 a", "HPERSIST h FIELDS 2 b nosuch", "HEXPIRE h 10 FIELDS 1 nosuch", "HEXPIRE nokey 10 FIELDS 1 a"} {
		x.do(line)
		if db.Version([]byte("h"), x.node.now) != v {
			t.Fatalf("%s changed the version", line)
		}
	}
	if db.Exists([]byte("nokey"), x.node.now) {
		t.Fatal("HEXPIRE created a key")
	}
	x.expect("HPERSIST h FIELDS 1 a", ints(1))
	if db.Version([]byte("h"), x.node.now) == v {
		t.Fatal("HPERSIST did not change the version")
	}
}

// TestHashExpireFieldsOp: the active expiry's op deletes only the fields
// still expired at its time: a field set again after the leader sampled
// it stays.
func TestHashExpireFieldsOp(t *testing.T) {
	x := newTester(t)
	x.expect("HSET h a 1 b 2 c 3", ":3\r\n")
	x.expect("HPEXPIRE h 10 FIELDS 2 a b", ints(1, 1))
	x.node.now += 10
	db := x.node.ks.DB(0)
	sample := db.SampleExpiredFields(20, x.node.now)
	if len(sample) != 1 || len(sample[0].Fields) != 2 {
		t.Fatalf("sample %+v", sample)
	}
	x.expect("HSET h b 22", ":1\r\n") // b expired: a new field
	args := [][]byte{sample[0].Key, []byte(strconv.Itoa(len(sample[0].Fields)))}
	args = append(args, sample[0].Fields...)
	res, err := x.node.Propose(&op.Op{Type: op.HExpireFields, Now: x.node.now, Args: args})
	if err != nil || res != int64(1) {
		t.Fatalf("HEXPIREFIELDS: %v %v", res, err)
	}
	x.expect("HLEN h", ":2\r\n")
	x.expect("HGETALL h", "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$2\r\n22\r\n")
	if db.HashesWithFieldDeadlines() != 0 {
		t.Fatal("the hash is still indexed without field deadlines")
	}
	for _, bad := range [][][]byte{{[]byte("h")}, {[]byte("h"), []byte("2"), []byte("a")}, {[]byte("h"), []byte("x"), []byte("a")}} {
		// The codec refuses too few arguments; the applier a bad count.
		if res, err := x.node.Propose(&op.Op{Type: op.HExpireFields, Now: x.node.now, Args: bad}); err == nil && res != errBadOp {
			t.Errorf("malformed %q: %v", bad, res)
		}
	}
}
