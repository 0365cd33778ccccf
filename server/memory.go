package server

import "runtime"

// Used memory, as INFO, eviction and MEMORY STATS report it: what the
// node holds for its data, counted by the keyspace as it changes (see
// keyspace/memory.go), plus the heap the process had in use when it
// started (Redis's used_memory_startup). Garbage the Go collector has
// not freed yet is not in it; RSS shows it.

// startupMemory measures the heap in use now, for used_memory_startup:
// live objects only, so it collects first (garbage left by whatever ran
// before, in a process that starts several nodes, is not the node's).
func startupMemory() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// UsedMemory returns used_memory.
func (s *Server) UsedMemory() uint64 { return s.startupMem + s.DatasetMemory() }

// DatasetMemory returns the keyspace's memory.
func (s *Server) DatasetMemory() uint64 {
	ks := s.node.Store()
	ks.RLock()
	n := ks.UsedMemory()
	ks.RUnlock()
	return uint64(n)
}
