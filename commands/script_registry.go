package commands

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/scripting"
)

// scriptRegistry is the replicated part of scripting: the bodies SCRIPT
// LOAD cached and the FUNCTION libraries' code. Appliers change it on the
// FSM goroutine; handlers read it. A node's Lua engine is a cache of it,
// brought up to date on the connection that is about to use it (sync),
// never on the FSM goroutine, which must not wait for a running script.
type scriptRegistry struct {
	mu     sync.RWMutex
	bodies map[string]string  // SHA1 → body
	libs   map[string]libSpec // name → library
	owner  map[string]string  // function name → its library's name
	// flushes counts SCRIPT FLUSHes and fnGen changes to the libraries:
	// an engine that saw other counts drops what it holds.
	flushes, fnGen uint64
}

// libSpec is a library as the registry keeps it: what the leader learnt
// by running its body, so that no other node needs to.
type libSpec struct {
	Name  string
	Code  string
	Funcs []string
}

func newScriptRegistry() *scriptRegistry {
	return &scriptRegistry{bodies: map[string]string{}, libs: map[string]libSpec{}, owner: map[string]string{}}
}

// encodeLib is a library as ops and snapshots carry it.
func encodeLib(b []byte, l libSpec) []byte {
	b = binary.AppendUvarint(b, uint64(len(l.Name)))
	b = append(b, l.Name...)
	b = binary.AppendUvarint(b, uint64(len(l.Code)))
	b = append(b, l.Code...)
	b = binary.AppendUvarint(b, uint64(len(l.Funcs)))
	for _, f := range l.Funcs {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

var errBadLib = errors.New("ERR malformed library")

// decodeLib reads one library and returns what follows it.
func decodeLib(b []byte) (libSpec, []byte, error) {
	str := func() (string, bool) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", false
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, true
	}
	var l libSpec
	var ok bool
	if l.Name, ok = str(); !ok {
		return l, nil, errBadLib
	}
	if l.Code, ok = str(); !ok {
		return l, nil, errBadLib
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return l, nil, errBadLib
	}
	b = b[k:]
	l.Funcs = make([]string, n)
	for i := range l.Funcs {
		if l.Funcs[i], ok = str(); !ok {
			return l, nil, errBadLib
		}
	}
	return l, b, nil
}

// add adds or (with replace) replaces a library, with Redis's errors for
// a name taken; the caller holds mu.
func (r *scriptRegistry) add(l libSpec, replace bool, quote bool) error {
	if _, exists := r.libs[l.Name]; exists && !replace {
		if quote {
			return fmt.Errorf("ERR Library '%s' already exists", l.Name)
		}
		return fmt.Errorf("ERR Library %s already exists", l.Name)
	}
	for _, f := range l.Funcs {
		if o, ok := r.owner[strings.ToLower(f)]; ok && o != l.Name {
			return fmt.Errorf("ERR Function %s already exists", f)
		}
	}
	r.remove(l.Name)
	r.libs[l.Name] = l
	for _, f := range l.Funcs {
		r.owner[strings.ToLower(f)] = l.Name // function names ignore case
	}
	return nil
}

func (r *scriptRegistry) remove(name string) {
	if old, ok := r.libs[name]; ok {
		for _, f := range old.Funcs {
			delete(r.owner, strings.ToLower(f))
		}
		delete(r.libs, name)
	}
}

// sortedLibs returns the libraries by name; the caller holds mu.
func (r *scriptRegistry) sortedLibs() []libSpec {
	out := make([]libSpec, 0, len(r.libs))
	for _, l := range r.libs {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b libSpec) int { return cmpString(a.Name, b.Name) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Restore policies of FUNCTION RESTORE, as op.FunctionRestore's Int.
const (
	restoreAppend = iota
	restoreReplace
	restoreFlush
)

func (t *Table) registerScriptAppliers() {
	r := t.scripts.reg
	t.applier(op.ScriptLoad, func(_ *keyspace.Store, o *op.Op) any {
		body := string(o.Args[0])
		sha := scripting.SHA1Hex(body)
		r.mu.Lock()
		r.bodies[sha] = body
		r.mu.Unlock()
		return []byte(sha)
	})
	t.applier(op.ScriptFlush, func(_ *keyspace.Store, _ *op.Op) any {
		r.mu.Lock()
		r.bodies = map[string]string{}
		r.flushes++
		r.mu.Unlock()
		return ok
	})
	t.applier(op.FunctionLoad, func(_ *keyspace.Store, o *op.Op) any {
		l, rest, err := decodeLib(o.Args[0])
		if err != nil || len(rest) != 0 {
			return errBadLib
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := r.add(l, o.Flags&op.FlagReplace != 0, true); err != nil {
			return err
		}
		r.fnGen++
		return []byte(l.Name)
	})
	t.applier(op.FunctionDelete, func(_ *keyspace.Store, o *op.Op) any {
		r.mu.Lock()
		defer r.mu.Unlock()
		if _, ok := r.libs[string(o.Args[0])]; !ok {
			return errors.New("ERR Library not found")
		}
		r.remove(string(o.Args[0]))
		r.fnGen++
		return ok
	})
	t.applier(op.FunctionFlush, func(_ *keyspace.Store, _ *op.Op) any {
		r.mu.Lock()
		r.libs, r.owner = map[string]libSpec{}, map[string]string{}
		r.fnGen++
		r.mu.Unlock()
		return ok
	})
	t.applier(op.FunctionRestore, func(_ *keyspace.Store, o *op.Op) any {
		libs := make([]libSpec, len(o.Args))
		for i, a := range o.Args {
			l, rest, err := decodeLib(a)
			if err != nil || len(rest) != 0 {
				return errBadLib
			}
			libs[i] = l
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		// All or nothing: the libraries go into a copy first.
		next := &scriptRegistry{libs: map[string]libSpec{}, owner: map[string]string{}}
		if o.Int != restoreFlush {
			for _, l := range r.libs {
				next.add(l, false, false)
			}
		}
		for _, l := range libs {
			if err := next.add(l, o.Int == restoreReplace, false); err != nil {
				return err
			}
		}
		r.libs, r.owner = next.libs, next.owner
		r.fnGen++
		return ok
	})
}

// Snapshot form: "LCSCR1", uvarint body count and the bodies by SHA1,
// then uvarint library count and the libraries by name (encodeLib).
const scriptSnapshotMagic = "LCSCR1"

func (r *scriptRegistry) snapshot() []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	b := []byte(scriptSnapshotMagic)
	shas := make([]string, 0, len(r.bodies))
	for sha := range r.bodies {
		shas = append(shas, sha)
	}
	slices.Sort(shas)
	b = binary.AppendUvarint(b, uint64(len(shas)))
	for _, sha := range shas {
		b = binary.AppendUvarint(b, uint64(len(r.bodies[sha])))
		b = append(b, r.bodies[sha]...)
	}
	libs := r.sortedLibs()
	b = binary.AppendUvarint(b, uint64(len(libs)))
	for _, l := range libs {
		b = encodeLib(b, l)
	}
	return b
}

var errScriptSnapshot = errors.New("scripts snapshot: malformed")

// restore replaces the registry with a snapshot's; empty is the initial
// state (a snapshot from before scripting existed).
func (r *scriptRegistry) restore(data []byte) error {
	next := newScriptRegistry()
	if len(data) > 0 {
		b, ok := bytes.CutPrefix(data, []byte(scriptSnapshotMagic))
		if !ok {
			return errScriptSnapshot
		}
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)) {
			return errScriptSnapshot
		}
		b = b[k:]
		for i := uint64(0); i < n; i++ {
			m, k := binary.Uvarint(b)
			if k <= 0 || m > uint64(len(b)-k) {
				return errScriptSnapshot
			}
			body := string(b[k : k+int(m)])
			next.bodies[scripting.SHA1Hex(body)] = body
			b = b[k+int(m):]
		}
		n, k = binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)) {
			return errScriptSnapshot
		}
		b = b[k:]
		for i := uint64(0); i < n; i++ {
			l, rest, err := decodeLib(b)
			if err != nil || next.add(l, false, true) != nil {
				return errScriptSnapshot
			}
			b = rest
		}
		if len(b) != 0 {
			return errScriptSnapshot
		}
	}
	r.mu.Lock()
	r.bodies, r.libs, r.owner = next.bodies, next.libs, next.owner
	r.flushes++
	r.fnGen++
	r.mu.Unlock()
	return nil
}
