package persistence

import (
	"os"
	"syscall"
)

// allocate gives f size bytes of the filesystem without writing them.
func allocate(f *os.File, size int64) error {
	return syscall.Fallocate(int(f.Fd()), 0, 0, size)
}
