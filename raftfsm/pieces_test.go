package raftfsm

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// pieceEntries cuts enc into piece entries of size bytes for upload id,
// from index first in term.
func pieceEntries(id uint64, enc []byte, size int, first, term uint64) []*raft.Log {
	var logs []*raft.Log
	for off := 0; off < len(enc); off += size {
		p := op.Piece{Upload: id, Total: uint64(len(enc)), Offset: uint64(off), Data: enc[off:min(off+size, len(enc))]}
		logs = append(logs, &raft.Log{Index: first + uint64(len(logs)), Term: term, Type: raft.LogCommand, Data: op.AppendPiece(nil, p)})
	}
	return logs
}

func bigSet(key string, n int) (*op.Op, []byte) {
	val := bytes.Repeat([]byte{'v'}, n)
	for i := range val {
		val[i] = byte(i % 251)
	}
	return &op.Op{Type: op.Set, Args: [][]byte{[]byte(key), val}}, val
}

// TestFSMAppliesPieces: an op's pieces, interleaved with other entries
// and with another upload's, apply it at its last piece, which carries
// its reply; nothing else replies; snapshots wait while an upload is open.
func TestFSMAppliesPieces(t *testing.T) {
	// What each key's op held when applied: whether it was given as the
	// op's own, and its value.
	owned, held := map[string]bool{}, map[string][]byte{}
	apply := func(ks *keyspace.Store, o *op.Op) any {
		owned[string(o.Args[0])], held[string(o.Args[0])] = o.Owned, o.Args[1]
		return testApply(ks, o)
	}
	f := &fsm{ks: keyspace.New(16), apply: apply}
	o1, v1 := bigSet("a", 1000)
	o2, v2 := bigSet("b", 700)
	p1 := pieceEntries(1, o1.Encode(nil), 300, 1, 2)
	p2 := pieceEntries(2, o2.Encode(nil), 300, 1, 2)
	small := (&op.Op{Type: op.Set, Args: [][]byte{[]byte("s"), []byte("x")}}).Encode(nil)
	var logs []*raft.Log
	for i := 0; i < max(len(p1), len(p2)); i++ {
		if i < len(p1) {
			logs = append(logs, p1[i])
		}
		logs = append(logs, &raft.Log{Type: raft.LogCommand, Data: small})
		if i < len(p2) {
			// the other upload's pieces travel in batches, with an op
			logs = append(logs, &raft.Log{Type: raft.LogCommand, Data: op.AppendBatch(nil, [][]byte{p2[i].Data, small})})
		}
	}
	for i, l := range logs {
		l.Index, l.Term = uint64(i+1), 2
	}
	var out []any
	refused := 0
	for _, l := range logs {
		out = append(out, f.ApplyBatch([]*raft.Log{l})...)
		s, err := f.Snapshot()
		if s != nil {
			s.Release()
		}
		if open := f.uploads.pending(); open != errors.Is(err, errUploadOpen) || !open && err != nil {
			t.Fatalf("snapshot with an upload open (%v): %v", open, err)
		}
		if err != nil {
			refused++
		}
	}
	if refused == 0 {
		t.Error("no snapshot was refused")
	}
	okCount := 0
	for _, r := range out {
		switch r := r.(type) {
		case string:
			okCount++
		case batchReply:
			for _, x := range r {
				if x == "OK" {
					okCount++
				}
			}
		}
	}
	// the small op's every copy, and each upload once
	if want := max(len(p1), len(p2)) + len(p2) + 2; okCount != want {
		t.Errorf("%d OK replies, want %d: %v", okCount, want, out)
	}
	for k, want := range map[string][]byte{"a": v1, "b": v2} {
		if v := f.ks.DB(0).Get([]byte(k), 0); v == nil || !bytes.Equal(v.Bytes(), want) {
			t.Errorf("%s not applied whole", k)
		}
	}
	if f.uploads.pending() {
		t.Error("uploads left open")
	}
	// An op assembled from pieces is its applier's to keep: its bytes
	// are in no entry (which raft's log cache keeps, and a node reuses).
	for _, l := range logs {
		clear(l.Data)
	}
	for k, want := range map[string][]byte{"a": v1, "b": v2, "s": nil} {
		if owned[k] != (want != nil) || want != nil && !bytes.Equal(held[k], want) {
			t.Errorf("%s: owned %v, bytes whole after the entries changed: %v", k, owned[k], bytes.Equal(held[k], want))
		}
	}
}

// TestFSMDropsUploads: an upload is dropped, the same way on every node,
// by an abort, by an entry of a later term, by a long silence, by a piece
// out of place, and by a restore; its later pieces answer pieceError and
// apply nothing.
func TestFSMDropsUploads(t *testing.T) {
	o, _ := bigSet("k", 100)
	enc := o.Encode(nil)
	abort := op.AppendPiece(nil, op.Piece{Upload: 1})
	other := (&op.Op{Type: op.Set, Args: [][]byte{[]byte("o"), []byte("x")}}).Encode(nil)
	for _, tc := range []struct {
		name   string
		before func(f *fsm, next uint64) uint64 // entries between the first piece and the rest; returns the next index
	}{
		{"abort", func(f *fsm, i uint64) uint64 {
			f.ApplyBatch([]*raft.Log{{Index: i, Term: 2, Type: raft.LogCommand, Data: abort}})
			return i + 1
		}},
		{"later term", func(f *fsm, i uint64) uint64 {
			f.ApplyBatch([]*raft.Log{{Index: i, Term: 3, Type: raft.LogCommand, Data: other}})
			return i + 1
		}},
		{"silence", func(f *fsm, i uint64) uint64 {
			f.ApplyBatch([]*raft.Log{{Index: i + maxUploadGap, Term: 2, Type: raft.LogCommand, Data: other}})
			return i + maxUploadGap + 1
		}},
		{"piece lost", func(f *fsm, i uint64) uint64 { return i }}, // the second piece is skipped below
		{"restore", func(f *fsm, i uint64) uint64 {
			f.uploads.reset()
			return i
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fsm{ks: keyspace.New(16), apply: testApply}
			logs := pieceEntries(1, enc, 30, 1, 2)
			f.ApplyBatch(logs[:1])
			next := tc.before(f, 2)
			rest := logs[1:]
			if tc.name == "piece lost" {
				rest = logs[2:]
			}
			for _, l := range rest {
				l.Index, next = next, next+1
				if tc.name == "later term" {
					l.Term = 3
				}
				if r := f.ApplyBatch([]*raft.Log{l})[0]; r != nil {
					if _, ok := r.(pieceError); !ok {
						t.Fatalf("piece of a dropped upload: %T %v", r, r)
					}
				}
			}
			if f.ks.DB(0).Get([]byte("k"), 0) != nil {
				t.Error("a dropped upload was applied")
			}
			if f.uploads.pending() {
				t.Error("a dropped upload is still open")
			}
		})
	}
}

// TestProposeLargeOps: on a node, ops over the threshold go in pieces,
// which writes proposed meanwhile pass; each applies whole, the log's
// entries stay small, and the node restarts into the same state.
func TestProposeLargeOps(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	n := openLeader(t, cfg)
	vals := map[string][]byte{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 3 {
		o, v := bigSet(fmt.Sprint("big", i), pieceThreshold+3*pieceBytes+i*1000+1)
		vals[fmt.Sprint("big", i)] = v
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, err := n.Propose(o); err != nil || res != "OK" {
				t.Errorf("big SET: %v, %v", res, err)
			}
		}()
	}
	small := 0
	for i := 0; i < 200; i++ {
		set(t, n, fmt.Sprint("s", i), "v", 0)
		mu.Lock()
		small++
		mu.Unlock()
	}
	wg.Wait()
	check := func(n *Node) {
		t.Helper()
		for k, want := range vals {
			if got, ok := lookup(n, 0, k); !ok || got != string(want) {
				t.Errorf("%s: %d bytes, want %d", k, len(got), len(want))
			}
		}
		for i := 0; i < small; i++ {
			if _, ok := lookup(n, 0, fmt.Sprint("s", i)); !ok {
				t.Errorf("s%d missing", i)
			}
		}
	}
	check(n)
	// Each piece is an entry of its own, of at most 256 KB (what a
	// follower's transport decodes in one allocation); no entry is large.
	last := n.Stats().LastLogIndex
	pieces := 0
	for i := uint64(1); i <= last; i++ {
		var l raft.Log
		if err := n.wal.GetLog(i, &l); err != nil {
			continue
		}
		if len(l.Data) > maxBatchBytes {
			t.Errorf("entry %d holds %d bytes", i, len(l.Data))
		}
		if op.IsPiece(l.Data) {
			pieces++
			if len(l.Data) > 256<<10 {
				t.Errorf("piece entry %d holds %d bytes", i, len(l.Data))
			}
		}
		if encs, err := op.SplitBatch(l.Data); err == nil {
			for _, enc := range encs {
				if op.IsPiece(enc) {
					t.Errorf("entry %d is a batch with a piece", i)
				}
			}
		}
	}
	if pieces == 0 {
		t.Error("no piece in the log")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = openLeader(t, cfg) // the pieces replay from the WAL
	defer n.Close()
	check(n)
	if err := n.Snapshot(); err != nil {
		t.Errorf("snapshot after the uploads: %v", err)
	}
}

// TestUploadWindow: an upload alone may have a batch's worth of pieces
// unanswered; once another write is queued, pieceWindow. Pieces of other
// uploads do not count as other writes.
func TestUploadWindow(t *testing.T) {
	if pieceWindowAlone <= pieceWindow {
		t.Fatalf("pieceWindowAlone %d is not above pieceWindow %d", pieceWindowAlone, pieceWindow)
	}
	p := newProposer()
	since := p.others.Load()
	if w := p.uploadWindow(since); w != pieceWindowAlone {
		t.Fatalf("alone: window %d, want %d", w, pieceWindowAlone)
	}
	piece := op.AppendPiece(nil, op.Piece{Upload: 9, Total: 10, Data: []byte("x")})
	p.add(piece)
	if w := p.uploadWindow(since); w != pieceWindowAlone {
		t.Fatalf("after another upload's piece: window %d, want %d", w, pieceWindowAlone)
	}
	p.addOp(&op.Op{Type: op.Set, Args: [][]byte{[]byte("k"), []byte("v")}}, 64)
	if w := p.uploadWindow(since); w != pieceWindow {
		t.Fatalf("after a small write: window %d, want %d", w, pieceWindow)
	}
}
