package raftfsm

import (
	"fmt"
	"sync"
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
			b.ReportMetric(float64(per*writers)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}
