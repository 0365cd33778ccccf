package server

import (
	"github.com/loomcache/loomcache/commands"
)

// Info appends INFO's text.
func (s *Server) Info(dst []byte, sections []string, caller *commands.Session) []byte {
	return dst
}

// ConfigGet returns settings matching pattern.
func (s *Server) ConfigGet(pattern string) [][2]string { return nil }

// ConfigSet changes settings.
func (s *Server) ConfigSet(pairs [][2]string) error { return nil }

// ResetStats zeroes counters.
func (s *Server) ResetStats() {}

// LastSave returns the unix time of the newest snapshot.
func (s *Server) LastSave() int64 { return s.started.Unix() }
