// Package scripting is Redis 7.0's Lua scripting environment (EVAL and the
// FUNCTION API) on gopher-lua, independent of the server.
//
// The server hands the engine a Host that runs the commands a script calls
// (redis.call / redis.pcall) and gets the script's reply written into a
// resp.Writer. The engine owns the Lua states, the script cache, the
// sandbox Redis builds around Lua (libraries, read-only globals, its PRNG),
// the conversions between RESP and Lua values, and interrupting a run
// (SCRIPT KILL / FUNCTION KILL).
//
// What the engine does not know about is the server's state: ACLs, OOM,
// replicas, cluster slots, which commands write. Flags parsed from a
// script's shebang or a function's registration are exposed so the server
// can enforce them, and the running Run is exposed to the Host so it can
// refuse writes from read-only runs.
package scripting
