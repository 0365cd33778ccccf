// Package latency owns a node's latency records, as Redis keeps them per
// instance: the slow log (SLOWLOG), the latency monitor's events (LATENCY
// LATEST, HISTORY, DOCTOR, GRAPH) and the per-command HDR-style latency
// histograms (LATENCY HISTOGRAM, INFO latencystats). Nothing here is
// replicated: each node records what its own clients waited for.
//
// It imports nothing of the project, reads no clock (callers pass the
// time) and never blocks on anything but its own short mutexes, so the
// command path may record into it.
package latency
