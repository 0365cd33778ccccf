package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// BenchmarkServe is one client's GET or SET on a single node over TCP:
// read, parse, dispatch, (propose, apply,) reply. The client allocates
// nothing (its request is encoded once, its replies read into one
// buffer), so allocs/op is what the server spends on a request:
//
//	go test -run '^$' -bench Serve -benchmem -memprofile m.out ./server
//	go tool pprof -sample_index=alloc_objects -top m.out
func BenchmarkServe(b *testing.B) {
	node := nodetest.Start(b, server.Config{Fsync: true})
	c, err := net.Dial("tcp", node.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		cmd   string
		depth int
	}{{"GET", 1}, {"GET", 16}, {"SET", 1}, {"SET", 16}} {
		b.Run(fmt.Sprintf("%s/P%d", tc.cmd, tc.depth), func(b *testing.B) {
			var req bytes.Buffer
			var reply string
			for i := 0; i < tc.depth; i++ {
				// 64-byte values, as the redis-benchmark runs use.
				val := string(bytes.Repeat([]byte{'x'}, 64))
				key := "key:" + strconv.Itoa(i)
				if tc.cmd == "SET" {
					encode(&req, "SET", key, val)
					reply += "+OK\r\n"
				} else {
					encode(&req, "GET", key)
					reply += "$64\r\n" + val + "\r\n"
				}
			}
			if tc.cmd == "GET" {
				// The keys the GETs read.
				var set bytes.Buffer
				for i := 0; i < tc.depth; i++ {
					encode(&set, "SET", "key:"+strconv.Itoa(i), string(bytes.Repeat([]byte{'x'}, 64)))
				}
				roundTrip(b, c, set.Bytes(), make([]byte, 5*tc.depth))
			}
			buf := make([]byte, len(reply))
			roundTrip(b, c, req.Bytes(), buf)
			if string(buf) != reply {
				b.Fatalf("reply %q, want %q", buf, reply)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += tc.depth {
				roundTrip(b, c, req.Bytes(), buf)
			}
		})
	}
}

// roundTrip writes req and reads exactly len(buf) bytes of replies.
func roundTrip(b *testing.B, c net.Conn, req, buf []byte) {
	if _, err := c.Write(req); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		b.Fatal(err)
	}
}
