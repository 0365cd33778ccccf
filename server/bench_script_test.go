package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
	"github.com/redis/go-redis/v9"
)

// BenchmarkScript runs a read-modify-write script (EVALSHA) and a
// MULTI/EXEC of three INCRs from 50 connections on 1,000 keys, fsync on:
// the block path, for pprof.
//
//	go test -run '^$' -bench Script -cpuprofile cpu.out ./server
func BenchmarkScript(b *testing.B) {
	node := nodetest.Start(b, server.Config{Fsync: true})
	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Addr: node.Addr().String(), PoolSize: 50})
	defer rc.Close()
	s := redis.NewScript(incrScript)
	if err := s.Load(ctx, rc).Err(); err != nil {
		b.Fatal(err)
	}
	for name, call := range map[string]func(key string) error{
		"evalsha": func(key string) error { return s.EvalSha(ctx, rc, []string{key}).Err() },
		"multi": func(key string) error {
			_, err := rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, key)
				p.Incr(ctx, key+"b")
				p.Incr(ctx, key+"c")
				return nil
			})
			return err
		},
	} {
		b.Run(name, func(b *testing.B) {
			var wg sync.WaitGroup
			per := b.N/50 + 1
			for i := 0; i < 50; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					for j := 0; j < per; j++ {
						if err := call(fmt.Sprintf("k%d", (i*per+j)%1000)); err != nil {
							b.Error(err)
							return
						}
					}
				}(i)
			}
			wg.Wait()
		})
	}
}
