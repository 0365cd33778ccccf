package commands

import "maps"

// ErrorCounts returns a copy of INFO errorstats' counts by error code,
// for the metrics endpoint.
func (t *Table) ErrorCounts() map[string]int64 {
	e := &t.errStats
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.codes)
}
