//go:build !linux

package server

import "net"

// newSockIO returns nc: raw socket I/O (sockio_linux.go) is Linux's.
func newSockIO(nc net.Conn) net.Conn { return nc }
