package raftfsm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// lockFile is the data directory's lock: one node at a time may use a
// directory (a second would share its log and snapshots).
const lockFile = "LOCK"

// lockDir takes the data directory's lock (flock, released by the kernel
// when the process ends) and writes this process's id in it.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			by := ""
			if pid := strings.TrimSpace(string(b)); pid != "" {
				by = " (process " + pid + ")"
			}
			return nil, fmt.Errorf("the data directory %s is in use by another node%s: each node needs its own", dir, by)
		}
		return nil, fmt.Errorf("lock data dir %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	return f, nil
}
