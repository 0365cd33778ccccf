package commands

import (
	"fmt"
	"strings"
	"testing"
)

// bulks returns the bulk strings of a reply in order, whatever arrays
// hold them (none of the tests' strings holds a CRLF).
func bulks(reply string) []string {
	var out []string
	lines := strings.Split(reply, "\r\n")
	for i := 0; i+1 < len(lines); i++ {
		if strings.HasPrefix(lines[i], "$") && lines[i] != "$-1" {
			out = append(out, lines[i+1])
			i++
		}
	}
	return out
}

// TestHashNoChangeNoVersion: a write that changes nothing (HSETNX of an
// existing field, HDEL of absent fields, a failed HINCRBY) leaves the
// key's version alone, so WATCH does not abort on it, as in Redis.
func TestHashNoChangeNoVersion(t *testing.T) {
	x := newTester(t)
	x.expect("HSET h f 1 s abc", ":2\r\n")
	db := x.node.ks.DB(0)
	v := db.Version([]byte("h"), x.node.now)
	for _, line := range []string{"HSETNX h f 2", "HDEL h nosuch", "HINCRBY h s 1", "HINCRBYFLOAT h s 1", "HDEL nokey f"} {
		x.do(line)
		if db.Version([]byte("h"), x.node.now) != v {
			t.Fatalf("%s changed the version", line)
		}
	}
	if db.Exists([]byte("nokey"), x.node.now) {
		t.Fatal("HDEL created a key")
	}
	x.expect("HINCRBY h f 1", ":2\r\n")
	if db.Version([]byte("h"), x.node.now) == v {
		t.Fatal("HINCRBY did not change the version")
	}
}

// TestHashExpired: an expired hash is absent to reads and replaced by
// writes.
func TestHashExpired(t *testing.T) {
	x := newTester(t)
	x.expect("HSET h a 1 b 2", ":2\r\n")
	x.expect("PEXPIRE h 10", ":1\r\n")
	x.node.now += 20
	x.expect("HGET h a", "$-1\r\n")
	x.expect("HLEN h", ":0\r\n")
	x.expect("HSETNX h a 3", ":1\r\n")
	x.expect("HGETALL h", "*2\r\n$1\r\na\r\n$1\r\n3\r\n")
	x.expect("TTL h", ":-1\r\n")
}

// TestHashScanBig: HSCAN of a hashtable in calls of COUNT returns every
// field once, with MATCH filtering what each call visited.
func TestHashScanBig(t *testing.T) {
	x := newTester(t)
	for i := range 1000 {
		x.do(fmt.Sprintf("HSET big f%d %d", i, i))
	}
	x.expect("OBJECT ENCODING big", "$9\r\nhashtable\r\n")
	seen := map[string]int{}
	cursor := "0"
	for calls := 0; ; calls++ {
		b := bulks(x.do("HSCAN big " + cursor + " COUNT 7"))
		cursor = b[0]
		kv := b[1:]
		if len(kv) > 14 {
			t.Fatalf("%d fields for COUNT 7", len(kv)/2)
		}
		for i := 0; i < len(kv); i += 2 {
			seen[kv[i]]++
		}
		if cursor == "0" {
			break
		}
		if calls > 1000 {
			t.Fatal("HSCAN does not end")
		}
	}
	if len(seen) != 1000 {
		t.Fatalf("HSCAN saw %d fields", len(seen))
	}
	for f, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", f, n)
		}
	}
	got := x.do("HSCAN big 0 MATCH f99* COUNT 2000")
	if !strings.HasPrefix(got, "*2\r\n$1\r\n0\r\n*22\r\n") {
		t.Fatalf("HSCAN MATCH: %q", got)
	}
}

// TestHashRandField: distinct fields for a positive count below the
// size; the negative count LoomCache refuses rather than building.
func TestHashRandField(t *testing.T) {
	x := newTester(t)
	x.expect("HSET h a 1 b 2 c 3 d 4", ":4\r\n")
	for range 50 {
		fs := bulks(x.do("HRANDFIELD h 3"))
		if len(fs) != 3 || fs[0] == fs[1] || fs[1] == fs[2] || fs[0] == fs[2] {
			t.Fatalf("HRANDFIELD 3: %v", fs)
		}
	}
	if got := x.do("HRANDFIELD h -5 WITHVALUES"); !strings.HasPrefix(got, "*10\r\n") {
		t.Fatalf("HRANDFIELD -5 WITHVALUES: %q", got)
	}
	x.expect("HRANDFIELD h -100000000", "-ERR value is out of range\r\n")
}
