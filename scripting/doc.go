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
//
// A server runs EVAL and FCALL like this:
//
//	e := scripting.NewEngine(scripting.Options{})
//	// EVAL body numkeys k... a... (EVAL_RO: ReadOnly true)
//	e.Run(w, scripting.Request{Kind: scripting.KindEval, Script: body,
//		Keys: keys, Args: args, Host: host, Proto: client.Proto})
//	// FUNCTION LOAD, then FCALL name numkeys k... a...
//	name, err := e.FunctionLoad(code, false)
//	e.Run(w, scripting.Request{Kind: scripting.KindFunction, Script: "myfunc",
//		Keys: keys, Args: args, Host: host, Proto: client.Proto})
//	// SCRIPT KILL / FUNCTION KILL, from another goroutine
//	if r := e.Running(); r != nil {
//		r.Kill()
//	}
//
// Runs are serialized and hold the engine while they go, so a Host must
// not call back into the Engine (Redis refuses EVAL, SCRIPT and FUNCTION
// from scripts anyway); Running and Run.Kill never wait.
package scripting
