package cluster

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLargeValues writes large values (well past the 1 MB over which an
// op goes to Raft in pieces) through a follower and through the leader
// while a client on every node keeps writing small keys. A large write
// must cost the cluster nothing: no node's term or leader changes, every
// small write succeeds, and the large values read back intact. By default
// it writes two of 16 MB; LOOMCACHE_SOAK writes four of 200 MB (within
// proto-max-bulk-len), which take a minute or more on a busy machine.
// It runs on one partition and on three (where no partition's leader
// may change).
func TestLargeValues(t *testing.T) {
	for _, p := range []int{1, 3} {
		t.Run(fmt.Sprintf("p%d", p), func(t *testing.T) { largeValues(t, p) })
	}
}

func largeValues(t *testing.T, partitions int) {
	c := startCluster(t, shape{nodes: 3, partitions: partitions})
	writes, size := 2, 16<<20
	if rc := loadRunConfig(t); rc.soak {
		writes, size = 4, 200<<20
	}
	for _, n := range c.nodes {
		// The suite's clusters evict at a few megabytes (evict_test.go).
		cn, err := dial(n.addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		r, err := cn.do(5*time.Second, "CONFIG", "SET", "maxmemory", "0")
		cn.Close()
		if err != nil || r != "OK" {
			t.Fatalf("CONFIG SET maxmemory 0 on %s: %v, %v", n.id, r, err)
		}
	}
	before := clusterView(t, c)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var smallOK int
	var failures []string
	for _, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, fails := smallWrites(n, stop)
			mu.Lock()
			smallOK += ok
			failures = append(failures, fails...)
			mu.Unlock()
		}()
	}

	leader := c.leader()
	var follower *node
	for _, n := range c.nodes {
		if n != leader {
			follower = n
			break
		}
	}
	for i := range writes {
		via := follower
		if i%2 == 1 {
			via = leader
		}
		key := fmt.Sprintf("large:%d", i)
		val := largeValue(size, byte(i))
		start := time.Now()
		r, err := setLarge(via.addr, key, val)
		if err != nil || r != "OK" {
			t.Fatalf("SET of %d MB through %s: %v, %v", size>>20, via.id, r, err)
		}
		t.Logf("SET of %d MB through %s took %v", size>>20, via.id, time.Since(start).Round(time.Millisecond))
		if err := getCompare(leader.addr, key, val); err != nil {
			t.Fatalf("GET %s from %s: %v", key, leader.id, err)
		}
	}
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d small writes failed (of %d), first: %v", len(failures), len(failures)+smallOK, failures[0])
	}
	if smallOK == 0 {
		t.Error("no small write was made")
	}
	t.Logf("%d small writes, all answered OK", smallOK)
	if after := clusterView(t, c); after != before {
		t.Errorf("the cluster changed during the large writes: %s, then %s", before, after)
	}
	// For the record (not asserted: it depends on the machine): each
	// node's peak resident memory, which holds the values written.
	var peaks []string
	for _, n := range c.nodes {
		peaks = append(peaks, n.id+" "+peakRSS(n))
	}
	t.Logf("peak RSS after %d values of %d MB: %s", writes, size>>20, strings.Join(peaks, ", "))
}

// peakRSS is a node process's peak resident set size (VmHWM) as Linux
// reports it, or "?".
func peakRSS(n *node) string {
	n.mu.Lock()
	pid := n.cmd.Process.Pid
	n.mu.Unlock()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))); err == nil {
				return fmt.Sprintf("%d MB", kb>>10)
			}
		}
	}
	return "?"
}

// clusterView is every node's term and leader, as RAFT.INFO tells them,
// and with several partitions each partition's, once the leaderships are
// spread (one each, for 3 partitions on 3 nodes: balancing moves none).
func clusterView(t *testing.T, c *cluster) string {
	t.Helper()
	c.leader() // reads ready: every node knows the term's leader soon after
	var view string
	for _, n := range c.nodes {
		deadline := time.Now().Add(leaderBound)
		for {
			f, err := raftInfo(n)
			leaders, ok := partitionLeaders(f)
			if err == nil && f["leader_id"] != "" && ok {
				view += fmt.Sprintf("%s: term %s leader %s%s; ", n.id, f["current_term"], f["leader_id"], leaders)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s knows no leader: %v %v", n.id, f, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return view
}

// partitionLeaders returns the term and leader of each partition RAFT.INFO
// lists, and whether every partition has a leader and no node leads two
// while another leads none.
func partitionLeaders(f map[string]string) (string, bool) {
	var out string
	counts := map[string]int{}
	for i := 0; ; i++ {
		line, ok := f["partition"+strconv.Itoa(i)]
		if !ok {
			break
		}
		var term, leader string
		for _, kv := range strings.Split(line, ",") {
			if v, ok := strings.CutPrefix(kv, "term="); ok {
				term = v
			}
			if v, ok := strings.CutPrefix(kv, "leader="); ok {
				leader = v
			}
		}
		if leader == "" {
			return "", false
		}
		counts[leader]++
		out += fmt.Sprintf(", p%d term %s leader %s", i, term, leader)
	}
	for _, k := range counts {
		if k > 1 && len(counts) < 3 {
			return "", false
		}
	}
	return out, true
}

// smallWrites sets small keys on n, one after another, until stop; it
// returns how many were answered OK and how every other one ended.
func smallWrites(n *node, stop <-chan struct{}) (ok int, failures []string) {
	cn, err := dial(n.addr, time.Second)
	if err != nil {
		return 0, []string{n.id + ": " + err.Error()}
	}
	defer cn.Close()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return ok, failures
		case <-time.After(5 * time.Millisecond):
		}
		r, err := cn.do(30*time.Second, "SET", fmt.Sprintf("small:%s:%d", n.id, i), strconv.Itoa(i))
		switch {
		case err != nil:
			return ok, append(failures, fmt.Sprintf("%s: SET %d: %v", n.id, i, err))
		case r != "OK":
			failures = append(failures, fmt.Sprintf("%s: SET %d: %v", n.id, i, r))
		default:
			ok++
		}
	}
}

// largeValue is n bytes that differ with seed, none repeating in any
// short period, so a misplaced piece shows.
func largeValue(n int, seed byte) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(i) ^ byte(i>>8)*31 ^ byte(i>>16)*7 ^ seed
	}
	return v
}

// setLarge sends SET key val and the options after it, writing val
// straight to the socket, and reads the reply.
func setLarge(addr, key string, val []byte, options ...string) (reply, error) {
	cn, err := sendLarge(addr, key, val, options...)
	if err != nil {
		return nil, err
	}
	defer cn.Close()
	return readReply(cn.r)
}

// sendLarge sends what setLarge does and returns the connection to read
// the reply from.
func sendLarge(addr, key string, val []byte, options ...string) (*conn, error) {
	cn, err := dial(addr, time.Second)
	if err != nil {
		return nil, err
	}
	cn.nc.SetDeadline(time.Now().Add(5 * time.Minute))
	head := fmt.Sprintf("*%d\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", 3+len(options), len(key), key, len(val))
	tail := "\r\n"
	for _, o := range options {
		tail += fmt.Sprintf("$%d\r\n%s\r\n", len(o), o)
	}
	for _, b := range [][]byte{[]byte(head), val, []byte(tail)} {
		if _, err := cn.nc.Write(b); err != nil {
			cn.Close()
			return nil, err
		}
	}
	return cn, nil
}

// getCompare reads key from addr and compares it with want as it
// arrives, without holding a second copy.
func getCompare(addr, key string, want []byte) error {
	cn, err := dial(addr, time.Second)
	if err != nil {
		return err
	}
	defer cn.Close()
	cn.nc.SetDeadline(time.Now().Add(5 * time.Minute))
	if _, err := fmt.Fprintf(cn.nc, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key); err != nil {
		return err
	}
	line, err := cn.r.ReadString('\n')
	if err != nil {
		return err
	}
	if line != fmt.Sprintf("$%d\r\n", len(want)) {
		return fmt.Errorf("reply starts %q, want a bulk of %d bytes", line, len(want))
	}
	buf := make([]byte, 1<<20)
	for off := 0; off < len(want); {
		k, err := io.ReadFull(cn.r, buf[:min(len(buf), len(want)-off)])
		if err != nil {
			return err
		}
		if !bytes.Equal(buf[:k], want[off:off+k]) {
			return fmt.Errorf("bytes %d..%d differ", off, off+k)
		}
		off += k
	}
	if tail, err := cn.r.Peek(2); err != nil || string(tail) != "\r\n" {
		return fmt.Errorf("bulk not terminated: %q, %v", tail, err)
	}
	return nil
}
