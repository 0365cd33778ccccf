//go:build linux && race

package sockio

import "syscall"

// Under the race detector, syscall.Read and syscall.Write: they tell it
// that a write happens before the reads after it (as every socket's do),
// which tests that hand values over through a socket rely on. A raw
// system call would hide that and report races that are not there.

func sysRead(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), p)
	return max(n, 0), errno(err)
}

func sysWrite(fd uintptr, p []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), p)
	return max(n, 0), errno(err)
}

func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	return err.(syscall.Errno)
}
