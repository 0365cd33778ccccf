package keyspace

import "unsafe"

// Memory accounting. used_memory, as Redis reports it, is what the
// allocator handed out for live data: here, the memory the keyspace's
// structures hold (pages of entries, index tables, the keys' and values'
// allocations rounded up to the Go allocator's size classes), counted as
// they change. It is not the Go heap, which also holds garbage the
// collector has not freed yet.

// UsedMemory returns the bytes the keyspace holds for its data, all
// databases. The caller holds the lock (read or write).
func (s *Store) UsedMemory() int64 {
	var n int64 = int64(unsafe.Sizeof(Store{}))
	for _, d := range s.dbs {
		n += d.UsedMemory()
	}
	return n
}

// UsedMemory returns the bytes database d holds.
func (d *DB) UsedMemory() int64 {
	return int64(unsafe.Sizeof(DB{})) + d.mem + d.idx.bytes() + int64(cap(d.vol))*4 +
		int64(cap(d.slots.pages))*8 + int64(len(d.fttl))*16
}

// OverheadMemory returns the bytes d holds besides its keys' and values'
// allocations: the index and the vol table, as Redis's MEMORY STATS
// counts its hash tables (overhead.hashtable.main, .expires).
func (d *DB) OverheadMemory() (main, expires int64) {
	return d.idx.bytes() + int64(cap(d.slots.pages))*8, int64(cap(d.vol)) * 4
}

// footprint is the memory of an entry's own allocations.
func footprint(e *entry) int64 {
	n := allocSize(len(e.kv))
	if e.obj != nil {
		n += e.obj.Size()
	}
	return n
}

// Usage returns the memory of one key: its slot, its allocations and its
// share of the index, as MEMORY USAGE reports it.
func (e *Entry) Usage() int64 { return entrySize + footprint((*entry)(e)) + 8 }

// sizeClasses are the Go allocator's small size classes (runtime
// sizeclasses.go); an allocation takes the first that holds it.
var sizeClasses = [...]uint16{0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048,
	2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880,
	12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}

// allocSize is the memory an allocation of n bytes takes.
func allocSize(n int) int64 {
	if n == 0 {
		return 0
	}
	if n > 32768 {
		return int64((n + 8191) &^ 8191) // whole pages
	}
	lo, hi := 0, len(sizeClasses)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if int(sizeClasses[mid]) < n {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return int64(sizeClasses[lo])
}
