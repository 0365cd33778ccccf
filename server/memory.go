package server

import "github.com/loomcache/loomcache/keyspace"

// Used memory, as INFO, maxmemory and MEMORY STATS count it, is the
// keyspace's: what it holds for its data, counted as it changes (see
// keyspace/memory.go), its empty structures included. Garbage the Go
// collector has not freed yet is not in it (RSS shows that), nor is the
// rest of the process (connections, the Raft log's caches), which Redis
// counts too; an empty node is at about as much as its empty databases
// take, where Redis starts near a megabyte.

// startupMemory is the memory of an empty keyspace of n databases:
// used_memory_startup.
func startupMemory(n int) uint64 { return uint64(keyspace.New(n).UsedMemory()) }

// UsedMemory returns used_memory.
func (s *Server) UsedMemory() uint64 {
	var n int64
	for _, g := range s.groups {
		ks := g.Store()
		ks.RLock()
		n += ks.UsedMemory()
		ks.RUnlock()
	}
	return uint64(max(n, 0))
}
