//go:build !linux

package sockio

import "net"

// Wrap returns nc: raw socket I/O (sockio_linux.go) is Linux's.
func Wrap(nc net.Conn) net.Conn { return nc }
