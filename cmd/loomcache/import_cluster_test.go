package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/rdb"
	"github.com/loomcache/loomcache/server"
)

// An import through a follower of a 3-node cluster: every key goes to the
// leader through Raft, and each node holds the same bytes (DUMP) after.
func TestImportRDBThroughFollower(t *testing.T) {
	file := []byte("REDIS0010")
	payloads := map[string][]byte{}
	add := func(key string, body []byte) {
		payloads[key] = rdb.Payload(append([]byte(nil), body...))
		file = append(file, body[0])
		file = rdb.AppendString(file, []byte(key))
		file = append(file, body[1:]...)
	}
	for i := range 300 {
		add(fmt.Sprintf("s%d", i), rdb.EncodeString(fmt.Appendf(nil, "value-%d", i)))
	}
	add("list", rdb.EncodeQuicklist([][]byte{[]byte("a"), []byte("1")}, []int{2}))
	add("hash", rdb.EncodeHashListpack([][]byte{[]byte("f"), []byte("v")}))
	file = append(file, 0xff)
	file = binary.LittleEndian.AppendUint64(file, rdb.CRC64(file))
	path := filepath.Join(t.TempDir(), "dump.rdb")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	c := nodetest.StartCluster(t, 3, nil)
	follower := c.Followers()[0]
	var log bytes.Buffer
	sum, err := importRDB(importOptions{file: path, addr: follower.Addr().String(), pipeline: 16, batch: 50, progress: "off"}, &log, time.Now)
	if err != nil || sum.errors != 0 || sum.keys != 302 {
		t.Fatalf("import: %v %s", err, sum)
	}
	ctx := context.Background()
	for _, n := range c.Nodes {
		cl := redis.NewClient(&redis.Options{Addr: n.Addr().String()})
		defer cl.Close()
		// A follower serves its own copy after READONLY; wait until it
		// has applied everything.
		deadline := time.Now().Add(10 * time.Second)
		for {
			cmd := cl.Pipeline()
			cmd.Do(ctx, "READONLY")
			size := cmd.DBSize(ctx)
			cmd.Exec(ctx)
			if size.Val() == 302 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s: %d keys", n.Cfg.ID, size.Val())
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, k := range []string{"s0", "s299", "list", "hash"} {
			cmd := cl.Pipeline()
			cmd.Do(ctx, "READONLY")
			d := cmd.Dump(ctx, k)
			cmd.Exec(ctx)
			if d.Val() != string(payloads[k]) {
				t.Errorf("node %s %s: DUMP %q, want %q", n.Cfg.ID, k, d.Val(), payloads[k])
			}
		}
	}
}

// With requirepass the import authenticates with --password; without it
// the server's NOAUTH stops it before any key is sent.
func TestImportRDBAuth(t *testing.T) {
	file := []byte("REDIS0010")
	body := rdb.EncodeString([]byte("v"))
	file = append(file, body[0])
	file = rdb.AppendString(file, []byte("k"))
	file = append(append(file, body[1:]...), 0xff)
	file = binary.LittleEndian.AppendUint64(file, rdb.CRC64(file))
	path := filepath.Join(t.TempDir(), "dump.rdb")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	n := nodetest.Start(t, server.Config{})
	ctx := context.Background()
	cl := redis.NewClient(&redis.Options{Addr: n.Addr().String()})
	defer cl.Close()
	if err := cl.ConfigSet(ctx, "requirepass", "s3cret").Err(); err != nil {
		t.Fatal(err)
	}
	o := importOptions{file: path, addr: n.Addr().String(), pipeline: 4, batch: 1, progress: "off"}
	var log bytes.Buffer
	if sum, _ := importRDB(o, &log, time.Now); sum.errors != 1 || sum.keys != 1 {
		t.Fatalf("without a password: %s", sum)
	}
	o.password = "s3cret"
	if sum, err := importRDB(o, &log, time.Now); err != nil || sum.errors != 0 || sum.keys != 1 {
		t.Fatalf("with the password: %v %s", err, sum)
	}
	o.password = "wrong"
	if _, err := importRDB(o, &log, time.Now); err == nil {
		t.Fatal("a wrong password imported")
	}
}

// Over TLS, as redis-cli's --tls --cacert --cert --key.
func TestImportRDBTLS(t *testing.T) {
	file := []byte("REDIS0010")
	body := rdb.EncodeString([]byte("v"))
	file = append(file, body[0])
	file = rdb.AppendString(file, []byte("k"))
	file = append(append(file, body[1:]...), 0xff)
	file = binary.LittleEndian.AppendUint64(file, rdb.CRC64(file))
	path := filepath.Join(t.TempDir(), "dump.rdb")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	pki := nodetest.NewPKI(t, "import CA")
	cert, client := pki.Issue("server"), pki.Issue("client")
	n := nodetest.Start(t, server.Config{Directives: pki.Directives(cert, nodetest.FreePort(t))})
	o, err := parseImportArgs([]string{path, "--addr", n.TLSAddr().String(), "--tls", "--cacert", pki.CAFile,
		"--cert", client.CertFile, "--key", client.KeyFile, "--progress", "off"})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if sum, err := importRDB(o, &log, time.Now); err != nil || sum.errors != 0 || sum.keys != 1 {
		t.Fatalf("over TLS: %v %s", err, sum)
	}
	o.cacert = "" // the system's roots do not know the test CA
	if _, err := importRDB(o, &log, time.Now); err == nil {
		t.Fatal("an unverified server was trusted")
	}
}
