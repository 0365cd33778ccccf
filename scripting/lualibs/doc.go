// Package lualibs provides, for the gopher-lua VM, the four C libraries that
// Redis 7.0 loads into its scripting Lua state: cjson (lua-cjson 2.1.0 with
// Redis's patches), cmsgpack (lua-cmsgpack 0.4.0), bit (LuaBitOp 1.0.2) and
// struct (Roberto Ierusalimschy's struct library as patched by Redis).
//
// The package owns these libraries only: their functions, their per-state
// configuration (cjson's encode/decode settings live in closures created by
// Open for one LState, never in package variables), the cjson.null sentinel,
// and the exact Redis 7.0 results and error messages, which were ported from
// the C sources in redis 7.0.15's deps/lua/src. It does not own the Lua
// sandbox around them (read-only globals, redis.* functions, script caching):
// that belongs to the scripting engine that calls Open.
//
// Behaviour that depends on the C Lua VM is emulated where it is observable:
// number formatting ("%.14g"), string-to-number coercion (strtod), C integer
// conversions of out-of-range doubles (x86-64 semantics), the Lua C stack
// limit (LUAI_MAXCSTACK = 8000) that bounds nesting and result counts, and
// error messages ("bad argument #n to 'name' (...)" with the caller's
// "chunk:line:" prefix as luaL_error adds it). What cannot be emulated is
// the order in which C Lua's hash part yields keys: tables with several
// non-array keys are traversed in gopher-lua's order (insertion order), so
// cjson objects and cmsgpack maps with more than one key may list their keys
// in another order than Redis.
//
// Every library function is wrapped so that a Go panic inside it becomes a
// Lua error instead of crashing the process.
package lualibs
