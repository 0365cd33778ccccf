// Command bigset times one SET of a large value (bench/cluster.sh's large
// values): the value is made here, on the client, never on the server; each
// repetition writes the whole command on an open connection and waits for
// the reply, and the time is from the first byte sent to the reply read.
// It prints the median in milliseconds on stdout, each repetition on
// stderr.
//
//	bigset -addr 127.0.0.1:6379 -mb 100 -reps 3
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	mb := flag.Int("mb", 10, "value size in MiB")
	reps := flag.Int("reps", 3, "repetitions; the median is printed")
	key := flag.String("key", "bench:big", "key to SET")
	timeout := flag.Duration("timeout", 5*time.Minute, "longest wait for one reply")
	flag.Parse()
	if *mb < 1 || *reps < 1 {
		fmt.Fprintln(os.Stderr, "bigset: -mb and -reps must be positive")
		os.Exit(2)
	}
	ms, err := run(*addr, *key, *mb<<20, *reps, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigset:", err)
		os.Exit(1)
	}
	fmt.Printf("%.1f\n", ms)
}

// run sends reps SETs of a size-byte value and returns the median time in
// milliseconds.
func run(addr, key string, size, reps int, timeout time.Duration) (float64, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	// Random bytes: a value no layer can shrink by compressing it.
	value := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{1})
	_, _ = rng.Read(value)
	header := []byte("*3\r\n$3\r\nSET\r\n$" + strconv.Itoa(len(key)) + "\r\n" + key +
		"\r\n$" + strconv.Itoa(size) + "\r\n")
	r := bufio.NewReader(conn)
	times := make([]float64, 0, reps)
	for i := range reps {
		if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
			return 0, err
		}
		bufs := net.Buffers{header, value, []byte("\r\n")}
		start := time.Now()
		if _, err := bufs.WriteTo(conn); err != nil {
			return 0, err
		}
		reply, err := r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		d := float64(time.Since(start)) / float64(time.Millisecond)
		if reply != "+OK\r\n" {
			return 0, fmt.Errorf("SET answered %q", reply)
		}
		fmt.Fprintf(os.Stderr, "bigset %s %d MiB run %d: %.1f ms\n", addr, size>>20, i+1, d)
		times = append(times, d)
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}
