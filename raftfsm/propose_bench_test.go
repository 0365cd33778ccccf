package raftfsm

import (
	"fmt"
	"sync"
	"syscall"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// BenchmarkPropose measures proposals on a three-node in-process cluster
// with fsync on, from 1 and 50 concurrent proposers, each waiting for its
// write before the next: the write path without the network to clients.
//
//	go test -run '^$' -bench Propose -trace trace.out ./raftfsm
func BenchmarkPropose(b *testing.B) {
	nodes := openCluster(b, 3, nil)
	benchWriters(b, leaderOf(b, nodes))
}

// BenchmarkProposeSingle is BenchmarkPropose on a single node (fsync on):
// propose → batch → raft → WAL → apply → future, with no replication.
// Its allocs/op are the write path's own, per op.
//
//	go test -run '^$' -bench ProposeSingle -benchmem -memprofile m.out ./raftfsm
func BenchmarkProposeSingle(b *testing.B) {
	n := openLeader(b, testConfig(b, b.TempDir()))
	defer n.Close()
	benchWriters(b, n)
}

// benchWriters proposes SETs of 64-byte values to leader from 1 and 50
// writers, each waiting for its write before the next.
func benchWriters(b *testing.B, leader *Node) {
	val := make([]byte, 64)
	for _, writers := range []int{1, 50} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			n := proposeFrom(b, leader, writers, val)
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkFSMApply is the FSM's side of a SET: decoding an entry and
// applying it, alone or as a batch of 16 ops (as group commit makes them),
// allocs/op per op.
func BenchmarkFSMApply(b *testing.B) {
	val := make([]byte, 64)
	for _, ops := range []int{1, 16} {
		b.Run(fmt.Sprintf("ops=%d", ops), func(b *testing.B) {
			f := &fsm{ks: keyspace.New(16), apply: testApply}
			encs := make([][]byte, ops)
			for i := range encs {
				o := op.Op{Type: op.Set, Now: 1, Args: [][]byte{[]byte(fmt.Sprint("key:", i)), val}}
				encs[i] = o.Encode(nil)
			}
			data := encs[0]
			if ops > 1 {
				data = op.AppendBatch(nil, encs)
			}
			logs := []*raft.Log{{Type: raft.LogCommand, Data: data}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += ops {
				logs[0].Index++
				f.ApplyBatch(logs)
			}
		})
	}
}

// BenchmarkProposeCost measures a single node's write path with fsync
// on, 50 proposers each waiting for its write before the next (as
// redis-benchmark -c 50 does): besides ns/op, the process's CPU time,
// context switches and fsyncs per write (getrusage, the WAL's count),
// which the load of other processes on the machine distorts less than
// throughput.
//
//	go test -run '^$' -bench ProposeCost -benchtime 20000x ./raftfsm
func BenchmarkProposeCost(b *testing.B) {
	leader := openLeader(b, testConfig(b, b.TempDir()))
	defer leader.Close()
	r0 := rusage(b)
	b.ResetTimer()
	n := float64(proposeFrom(b, leader, 50, make([]byte, 64)))
	b.StopTimer()
	r1 := rusage(b)
	cpu := r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano()
	b.ReportMetric(float64(cpu)/1e3/n, "cpu-µs/op")
	b.ReportMetric(float64(r1.Nvcsw+r1.Nivcsw-r0.Nvcsw-r0.Nivcsw)/n, "ctxsw/op")
	b.ReportMetric(float64(leader.wal.Stats().Syncs)/n, "fsync/op")
}

func rusage(b *testing.B) syscall.Rusage {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		b.Fatal(err)
	}
	return r
}

// proposeFrom has writers goroutines propose SETs of val, b.N in all
// (rounded up), each waiting for its write before the next, and returns
// how many.
func proposeFrom(b *testing.B, leader *Node, writers int, val []byte) int {
	var wg sync.WaitGroup
	per := b.N/writers + 1
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := op.Op{Type: op.Set, Args: [][]byte{[]byte(fmt.Sprint("k", w)), val}}
			for i := 0; i < per; i++ {
				o.Now = leader.Now()
				if _, err := leader.Propose(&o); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return per * writers
}
