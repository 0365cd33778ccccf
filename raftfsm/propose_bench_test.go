package raftfsm

import (
	"fmt"
	"sync"
	"syscall"
	"testing"

	"github.com/loomcache/loomcache/op"
)

// BenchmarkPropose measures proposals on a three-node in-process cluster
// with fsync on, from 1 and 50 concurrent proposers, each waiting for its
// write before the next: the write path without the network to clients.
//
//	go test -run '^$' -bench Propose -trace trace.out ./raftfsm
func BenchmarkPropose(b *testing.B) {
	nodes := openCluster(b, 3, nil)
	leader := leaderOf(b, nodes)
	for _, writers := range []int{1, 50} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			n := proposeFrom(b, leader, writers)
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkProposeSingle measures a single node's write path with fsync
// on, 50 proposers each waiting for its write before the next (as
// redis-benchmark -c 50 does): besides ns/op, the process's CPU time
// and context switches per write (getrusage), which the load of other
// processes on the machine distorts less than throughput.
//
//	go test -run '^$' -bench ProposeSingle -benchtime 20000x ./raftfsm
func BenchmarkProposeSingle(b *testing.B) {
	leader := openLeader(b, testConfig(b, b.TempDir()))
	r0 := rusage(b)
	b.ResetTimer()
	n := float64(proposeFrom(b, leader, 50))
	b.StopTimer()
	r1 := rusage(b)
	cpu := (r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano())
	b.ReportMetric(float64(cpu)/1e3/n, "cpu-µs/op")
	b.ReportMetric(float64(r1.Nvcsw+r1.Nivcsw-r0.Nvcsw-r0.Nivcsw)/n, "ctxsw/op")
	st := leader.wal.Stats()
	b.ReportMetric(float64(st.Syncs)/n, "fsync/op")
}

func rusage(b *testing.B) syscall.Rusage {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		b.Fatal(err)
	}
	return r
}

// proposeFrom has writers goroutines propose b.N writes in all (rounded
// up), each waiting for its write before the next, and returns how many.
func proposeFrom(b *testing.B, leader *Node, writers int) int {
	var wg sync.WaitGroup
	per := b.N/writers + 1
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := []byte(fmt.Sprint("k", w))
			for i := 0; i < per; i++ {
				o := op.Op{Type: op.Set, Now: leader.Now(), Args: [][]byte{key, []byte("v")}}
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
