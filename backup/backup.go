// Package backup owns LoomCache's backup file: every partition's Raft
// snapshot with the log index and term it was taken at, as RAFT.BACKUP
// hands them out. Take writes one from a running cluster; Restore puts
// one into another cluster (through each partition's leader, which
// installs it on every member). It talks to nodes as any client does and
// never touches a data dir.
package backup

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// magic opens every backup file (version 1).
const magic = "LOOMCACHE-BACKUP 1\n"

// castagnoli is the CRC-32C table each part's checksum uses.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxSnapshot bounds a partition's snapshot in a file: RAFT.RESTORE
// carries it as one argument, under proto-max-bulk-len's ceiling.
const maxSnapshot = 1 << 40

// Part is one partition's snapshot.
type Part struct {
	Partition   int
	Index, Term uint64
	Data        []byte
}

// Write writes parts as a backup file.
func Write(w io.Writer, parts []Part) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(magic)
	for _, p := range parts {
		fmt.Fprintf(bw, "partition %d index %d term %d size %d crc32c %08x\n", p.Partition, p.Index, p.Term, len(p.Data),
			crc32.Checksum(p.Data, castagnoli))
		bw.Write(p.Data)
	}
	return bw.Flush()
}

// Read reads a backup file; a malformed one is an error, never a panic.
func Read(r io.Reader) ([]Part, error) {
	br := bufio.NewReader(r)
	head, err := br.ReadString('\n')
	if err != nil || head != magic {
		return nil, errors.New("not a LoomCache backup file (version 1)")
	}
	var parts []Part
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			return parts, nil
		}
		if err != nil {
			return nil, fmt.Errorf("backup part %d: %w", len(parts), io.ErrUnexpectedEOF)
		}
		var p Part
		var size int64
		var sum uint64
		f := strings.Fields(line)
		if len(f) != 10 || f[0] != "partition" || f[2] != "index" || f[4] != "term" || f[6] != "size" || f[8] != "crc32c" {
			return nil, fmt.Errorf("backup part %d: bad header %q", len(parts), strings.TrimSpace(line))
		}
		p.Partition, err = strconv.Atoi(f[1])
		if err == nil {
			p.Index, err = strconv.ParseUint(f[3], 10, 64)
		}
		if err == nil {
			p.Term, err = strconv.ParseUint(f[5], 10, 64)
		}
		if err == nil {
			size, err = strconv.ParseInt(f[7], 10, 64)
		}
		if err == nil {
			sum, err = strconv.ParseUint(f[9], 16, 32)
		}
		if err != nil || p.Partition != len(parts) || size < 0 || size > maxSnapshot {
			return nil, fmt.Errorf("backup part %d: bad header %q", len(parts), strings.TrimSpace(line))
		}
		// Read as it comes: a lying size fails at the end of the file, not
		// with a huge allocation.
		var buf bytes.Buffer
		if n, err := io.CopyN(&buf, br, size); err != nil {
			return nil, fmt.Errorf("backup part %d: %d of %d bytes: %w", len(parts), n, size, io.ErrUnexpectedEOF)
		}
		p.Data = buf.Bytes()
		if crc32.Checksum(p.Data, castagnoli) != uint32(sum) {
			return nil, fmt.Errorf("backup part %d: checksum mismatch: the file is damaged", len(parts))
		}
		parts = append(parts, p)
	}
}

// Options say how to reach the cluster.
type Options struct {
	Addr     string // any node's RESP address
	Username string
	Password string
}

// Take asks each partition's leader for a fresh snapshot (following
// MOVED from Addr) and returns them: every write acknowledged before Take
// was called is in them.
func Take(ctx context.Context, o Options) ([]Part, error) {
	var parts []Part
	for p := 0; ; p++ {
		res, err := do(ctx, o, "raft.backup", "partition", p)
		if err != nil {
			if p > 0 && strings.Contains(err.Error(), "no such partition") {
				return parts, nil
			}
			return nil, fmt.Errorf("partition %d: %w", p, err)
		}
		a, ok := res.([]any)
		if !ok || len(a) != 3 {
			return nil, fmt.Errorf("partition %d: unexpected reply %T", p, res)
		}
		index, ok1 := a[0].(int64)
		term, ok2 := a[1].(int64)
		data, ok3 := a[2].(string)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("partition %d: unexpected reply", p)
		}
		parts = append(parts, Part{Partition: p, Index: uint64(index), Term: uint64(term), Data: []byte(data)})
	}
}

// Restore replaces each partition's state in the cluster at Addr with
// the backup's; the cluster must have as many partitions.
func Restore(ctx context.Context, o Options, parts []Part) error {
	for _, p := range parts {
		if _, err := do(ctx, o, "raft.restore", p.Index, p.Term, p.Data, "partition", p.Partition); err != nil {
			return fmt.Errorf("partition %d: %w", p.Partition, err)
		}
	}
	return nil
}

// do runs one command at Addr, following MOVED redirects to a leader.
func do(ctx context.Context, o Options, args ...any) (any, error) {
	addr := o.Addr
	for range 5 {
		rc := redis.NewClient(&redis.Options{Addr: addr, Username: o.Username, Password: o.Password,
			MaxRetries: -1, ReadTimeout: 10 * time.Minute, WriteTimeout: 10 * time.Minute, Protocol: 2})
		res, err := rc.Do(ctx, args...).Result()
		rc.Close()
		if err != nil && strings.HasPrefix(err.Error(), "MOVED ") {
			if f := strings.Fields(err.Error()); len(f) == 3 {
				addr = f[2]
				continue
			}
		}
		return res, err
	}
	return nil, errors.New("too many redirects")
}
