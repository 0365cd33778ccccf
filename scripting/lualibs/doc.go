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
// sandbox around them (read-only globals and library tables, redis.*
// functions, script caching, the state's limits): that belongs to the
// scripting engine that calls Open.
//
// Behaviour that depends on the C Lua VM is emulated where it is observable:
// number formatting ("%.14g"), string-to-number coercion (glibc strtod),
// C integer conversions of out-of-range doubles (x86-64 semantics), the Lua
// C stack limit (LUAI_MAXCSTACK = 8000) that bounds nesting and result
// counts, error messages ("bad argument #n to 'name' (...)" with the
// "chunk:line: " prefix luaL_error takes from a calling Lua function), and
// the order lua_next gives a table's keys in, which is the order of cjson
// object members and cmsgpack map entries (see luaorder.go).
//
// Known differences from Redis, all owed to gopher-lua:
//   - Key order is rebuilt by replaying a table's keys into a simulated
//     Lua 5.1 table that grows from empty, so it is exact for tables built
//     by cjson.decode, cmsgpack.unpack or assignments. A table literal is
//     presized in C Lua: with 3 or more hash keys, colliding keys may come
//     out in another order (cjson.encode({name='x', age=3, city='y',
//     zip=5, email='e'}) gives {"city":"y","zip":5,"name":"x","age":3,
//     "email":"e"}, Redis {"name":"x","zip":5,"city":"y","age":3,
//     "email":"e"}). gopher-lua also does not record when positive integer
//     keys were set relative to other keys (they are replayed first), nor
//     deleted keys (C Lua keeps dead nodes until the next rehash).
//   - A method-style call with a bad self (cjson:encode()) reports
//     "bad argument #1 to 'encode'" where Lua says "calling 'encode' on bad
//     self": gopher-lua does not tell a method call from a field call.
//   - gopher-lua keeps integer keys below lua.MaxArrayIndex in a dense array,
//     so cmsgpack.unpack refuses ("not enough memory") maps whose integer
//     keys would make it add more than 4M empty slots in one call, and
//     cjson.encode refuses output past 512MB.
//   - Functions that return thousands of values (cmsgpack.unpack,
//     struct.unpack) need a gopher-lua registry that can hold them: with
//     gopher-lua's default options past about 5000 values the call fails
//     with "registry overflow" where Redis allows 7999.
//
// Every library function is wrapped so that a Go panic inside it becomes a
// Lua error ("internal error: ...") instead of crashing the process.
package lualibs
