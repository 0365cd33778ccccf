package commands

import (
	"bytes"
	"testing"
)

// MIGRATE's argument parsing and key finding never panic, and find only
// positions inside the arguments.
func FuzzMigrateArgs(f *testing.F) {
	f.Add([]byte("MIGRATE h 1 k 0 1000"))
	f.Add([]byte("MIGRATE h 1  0 1000 COPY AUTH keys REPLACE KEYS a b"))
	f.Add([]byte("MIGRATE h 1  0 1000 AUTH2 u KEYS"))
	f.Add([]byte("MIGRATE h 1 k x -5 KEYS"))
	f.Fuzz(func(t *testing.T, line []byte) {
		args := bytes.Split(line, []byte(" "))
		migrateGetKeys(args, func(pos int, _ KeyFlag) {
			if pos < 3 || pos >= len(args) {
				t.Fatalf("key at %d of %d arguments", pos, len(args))
			}
		})
		if len(args) < 6 {
			return // the arity check stops these before the handler
		}
		r, err := parseMigrate(&Ctx{Args: args})
		if err == nil && (r.firstKey+r.numKeys > len(args) || r.timeout <= 0) {
			t.Fatalf("parsed %+v from %d arguments", r, len(args))
		}
	})
}

// The keys migrateGetKeys finds, as COMMAND GETKEYS on Redis 7.0.15
// lists them (positions).
func TestMigrateGetKeys(t *testing.T) {
	for _, c := range []struct {
		line string
		want []int
	}{
		{"MIGRATE h 1 k 0 1000", []int{3}},
		{"MIGRATE h 1  0 1000 KEYS", []int{3}},
		{"MIGRATE h 1  0 1000 KEYS a b", []int{7, 8}},
		{"MIGRATE h 1  0 1000 COPY AUTH keys REPLACE KEYS a b", []int{11, 12}},
		{"MIGRATE h 1  0 1000 auth2 KEYS KEYS KEYS x", []int{10}},
		{"MIGRATE h 1 k 0 1000 KEYS a b", nil},
	} {
		var got []int
		migrateGetKeys(bytes.Split([]byte(c.line), []byte(" ")), func(pos int, _ KeyFlag) { got = append(got, pos) })
		if len(got) != len(c.want) {
			t.Errorf("%q: keys at %v, want %v", c.line, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: keys at %v, want %v", c.line, got, c.want)
			}
		}
	}
}
