package backup_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/loomcache/loomcache/backup"
	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestBackupUnderLoadRestoresIntoNewCluster takes a backup of a 3-node
// cluster while writers run, restores it into a fresh 3-node cluster and
// finds there every write acknowledged before the backup started (each
// writer records its acknowledgements in order; the backup's start is a
// cut through those records), on the new leader and on each follower.
func TestBackupUnderLoadRestoresIntoNewCluster(t *testing.T) {
	ctx := context.Background()
	src := nodetest.StartCluster(t, 3, nil)
	addr := src.Leader().Addr().String()

	const writers = 4
	var mu sync.Mutex
	acked := make([][]string, writers) // per writer, keys in ack order
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
			defer rc.Close()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("w%d:%d", w, i)
				if err := rc.Set(ctx, k, k+"-value", 0).Err(); err != nil {
					continue // not acknowledged: not counted
				}
				mu.Lock()
				acked[w] = append(acked[w], k)
				mu.Unlock()
			}
		}()
	}
	// Let the writers get going, then cut.
	for total := 0; total < 2000; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		total = 0
		for _, a := range acked {
			total += len(a)
		}
		mu.Unlock()
	}
	mu.Lock()
	var before []string
	for _, a := range acked {
		before = append(before, a...)
	}
	mu.Unlock()
	start := time.Now()
	parts, err := backup.Take(ctx, backup.Options{Addr: src.Followers()[0].Addr().String()}) // MOVED to the leader
	took := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := backup.Write(&file, parts); err != nil {
		t.Fatal(err)
	}
	t.Logf("backup of %d keys acknowledged before it (%d partition(s)): %d bytes in %v",
		len(before), len(parts), file.Len(), took)

	read, err := backup.Read(&file)
	if err != nil {
		t.Fatal(err)
	}
	dst := nodetest.StartCluster(t, 3, nil)
	start = time.Now()
	if err := backup.Restore(ctx, backup.Options{Addr: dst.Leader().Addr().String()}, read); err != nil {
		t.Fatal(err)
	}
	t.Logf("restored into a new 3-node cluster in %v", time.Since(start))

	leader := dst.Leader()
	check := func(who string, rc *redis.Client) {
		t.Helper()
		for _, k := range before {
			v, err := rc.Get(ctx, k).Result()
			if err != nil || v != k+"-value" {
				t.Fatalf("%s: GET %s = %q, %v: a write acknowledged before the backup is missing", who, k, v, err)
			}
		}
	}
	rc := redis.NewClient(&redis.Options{Addr: leader.Addr().String()})
	defer rc.Close()
	check("new leader", rc)
	// Every member holds the restored state: each follower, read locally.
	for _, f := range dst.Followers() {
		// Stats' applied index counts an installed snapshot's (the FSM is
		// not told it).
		want := leader.Node().Stats().AppliedIndex
		deadline := time.Now().Add(30 * time.Second)
		for f.Node().Stats().AppliedIndex < want {
			if time.Now().After(deadline) {
				t.Fatalf("%s never caught up with the restore", f.Cfg.ID)
			}
			time.Sleep(10 * time.Millisecond)
		}
		fc := redis.NewClient(&redis.Options{Addr: f.Addr().String(),
			OnConnect: func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() }})
		check(f.Cfg.ID, fc)
		fc.Close()
	}
}

// FuzzRead: a backup file, however malformed, reads as parts or an
// error; what Write writes reads back the same.
func FuzzRead(f *testing.F) {
	var good bytes.Buffer
	backup.Write(&good, []backup.Part{{Index: 7, Term: 2, Data: []byte("snap")}, {Partition: 1, Index: 9, Term: 3}})
	f.Add(good.Bytes())
	f.Add([]byte("LOOMCACHE-BACKUP 1\npartition 0 index 1 term 1 size 99999999999 crc32c 00000000\n"))
	f.Add([]byte("LOOMCACHE-BACKUP 1\npartition 0 index -1 term x size 1 crc32c zz\nx"))
	f.Add([]byte("LOOMCACHE-BACKUP 1\npartition 0 index 1 term 1 size 1 crc32c 00000000\nx"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, err := backup.Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		var again bytes.Buffer
		if err := backup.Write(&again, parts); err != nil {
			t.Fatal(err)
		}
		back, err := backup.Read(&again)
		if err != nil || len(back) != len(parts) {
			t.Fatalf("written parts read back as %d, %v", len(back), err)
		}
		for i := range parts {
			p, q := parts[i], back[i]
			if p.Partition != q.Partition || p.Index != q.Index || p.Term != q.Term || !bytes.Equal(p.Data, q.Data) {
				t.Fatalf("part %d changed: %+v -> %+v", i, p, q)
			}
		}
	})
}

// TestBackupEveryPartition: with several partitions the backup holds one
// snapshot per partition, each taken on its own leader, and a cluster
// with as many partitions restored from it holds every key.
func TestBackupEveryPartition(t *testing.T) {
	ctx := context.Background()
	parted := func(_ int, cfg *server.Config) { cfg.Partitions = 3 }
	src := nodetest.StartCluster(t, 3, parted)
	src.WaitSpread()
	rc := redis.NewClient(&redis.Options{Addr: src.Nodes[0].Addr().String()})
	defer rc.Close()
	for i := range 300 {
		if err := rc.Set(ctx, fmt.Sprint("k", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	parts, err := backup.Take(ctx, backup.Options{Addr: src.Nodes[1].Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 {
		t.Fatalf("%d parts; want one per partition", len(parts))
	}
	dst := nodetest.StartCluster(t, 3, parted)
	dst.WaitSpread()
	if err := backup.Restore(ctx, backup.Options{Addr: dst.Nodes[2].Addr().String()}, parts); err != nil {
		t.Fatal(err)
	}
	dc := redis.NewClient(&redis.Options{Addr: dst.Nodes[0].Addr().String()})
	defer dc.Close()
	for i := range 300 {
		if v, err := dc.Get(ctx, fmt.Sprint("k", i)).Int(); err != nil || v != i {
			t.Fatalf("GET k%d = %d, %v after the restore", i, v, err)
		}
	}
}
