// Package durability holds process-level tests of LoomCache's durability
// path: they start the real binary, write through real connections, kill
// or stop it, restart it on the same data directory and check what came
// back, reading the WAL and Raft figures from INFO. It has no non-test
// code.
package durability
