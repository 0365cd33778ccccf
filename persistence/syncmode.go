package persistence

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// SyncMode is the log's fsync policy: Redis's appendfsync.
type SyncMode int32

const (
	// SyncNo leaves flushing to the OS.
	SyncNo SyncMode = iota
	// SyncEverySec writes without fsync and has a background fsync make
	// every write durable within about a second (syncEvery): what a crash
	// of the machine can lose is bounded by that second plus one fsync.
	SyncEverySec
	// SyncAlways commits each batch of log entries with an fsync.
	SyncAlways
)

// syncEvery is SyncEverySec's period, as Redis's everysec.
const syncEvery = time.Second

// ParseSyncMode reads appendfsync's words.
func ParseSyncMode(s string) (SyncMode, bool) {
	switch s {
	case "always":
		return SyncAlways, true
	case "everysec":
		return SyncEverySec, true
	case "no":
		return SyncNo, true
	}
	return SyncNo, false
}

func (m SyncMode) String() string {
	switch m {
	case SyncAlways:
		return "always"
	case SyncEverySec:
		return "everysec"
	}
	return "no"
}

// syncer holds a DB's policy and runs everysec's background fsync; the
// DB owns its goroutine and Close stops it.
type syncer struct {
	mode  atomic.Int32
	dirty atomic.Bool   // a write since the last fsync
	done  atomic.Uint64 // background fsyncs done
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

// SetSyncMode changes the policy (CONFIG SET appendfsync); the next
// commit follows it.
func (d *DB) SetSyncMode(m SyncMode) { d.sync.mode.Store(int32(m)) }

// BackgroundSyncs counts everysec's fsyncs.
func (d *DB) BackgroundSyncs() uint64 { return d.sync.done.Load() }

// SyncMode is the policy now.
func (d *DB) SyncMode() SyncMode { return SyncMode(d.sync.mode.Load()) }

// writeOpts are the options of the next log commit.
func (d *DB) writeOpts() *pebble.WriteOptions {
	if d.SyncMode() == SyncAlways {
		return pebble.Sync
	}
	d.sync.dirty.Store(true)
	return pebble.NoSync
}

func (d *DB) startSyncer(m SyncMode) {
	d.sync.mode.Store(int32(m))
	d.sync.stop = make(chan struct{})
	d.sync.wg.Add(1)
	go d.syncLoop()
}

// syncLoop fsyncs the log once a second while the policy is everysec
// and something was written: an empty synced commit makes Pebble's WAL,
// everything before it included, durable.
func (d *DB) syncLoop() {
	defer d.sync.wg.Done()
	t := time.NewTicker(syncEvery)
	defer t.Stop()
	for {
		select {
		case <-d.sync.stop:
			return
		case <-t.C:
		}
		if d.SyncMode() != SyncEverySec || !d.sync.dirty.Swap(false) {
			continue
		}
		if !d.open() {
			return
		}
		if err := d.db.LogData(nil, pebble.Sync); err != nil {
			d.sync.dirty.Store(true) // try again next second
		} else {
			d.sync.done.Add(1)
		}
		d.life.RUnlock()
	}
}

// stopSyncer ends syncLoop; Close calls it before closing the database.
func (d *DB) stopSyncer() {
	d.sync.once.Do(func() { close(d.sync.stop) })
	d.sync.wg.Wait()
}
