"""What an app does through redis-py (Debian's python3-redis), one line
per result. clients_py_full_test.go runs it against redis-server and
LoomCache and diffs the two outputs: a line that differs is a difference
an app would see. Only values that cannot match between two servers
(times, stream ids from the clock) are reduced to their shape."""
import sys
import threading
import time

import redis

host, port = sys.argv[1], int(sys.argv[2])
r = redis.Redis(host=host, port=port, decode_responses=True)
raw = redis.Redis(host=host, port=port)  # bytes, for binary values
r.flushall()


def norm(v):
    """v made printable the same way on every run: sets sorted,
    exceptions as their class and message."""
    if isinstance(v, (set, frozenset)):
        return sorted(norm(x) for x in v)
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, tuple):
        return tuple(norm(x) for x in v)
    if isinstance(v, dict):
        return {norm(k): norm(x) for k, x in v.items()}
    if isinstance(v, Exception):
        return "%s: %s" % (type(v).__name__, v)
    return v


def show(label, fn):
    try:
        v = fn()
    except Exception as e:  # a client-side failure is a difference too
        v = e
    print("%s: %r" % (label, norm(v)))


def later(delay, fn):
    """Runs fn on another thread after delay, for blocking commands."""
    t = threading.Timer(delay, fn)
    t.start()
    return t


# --- connection: ACL user, SELECT, CLIENT SETNAME, errors -------------------
show("ping", lambda: r.ping())
show("echo", lambda: r.echo("hi"))
show("acl setuser", lambda: r.acl_setuser("app", enabled=True, passwords=["+s3cret"],
                                          keys=["app:*"], commands=["+@all", "-flushall"]))
app = redis.Redis(host=host, port=port, username="app", password="s3cret", decode_responses=True)
show("acl whoami", lambda: app.acl_whoami())
show("app set own key", lambda: app.set("app:k", "v"))
show("app set other key", lambda: app.set("other:k", "v"))
show("app flushall", lambda: app.flushall())
bad = redis.Redis(host=host, port=port, username="app", password="wrong", decode_responses=True)
show("bad password", lambda: bad.ping())
show("auth command", lambda: r.auth("s3cret", "app"))
show("acl whoami after auth", lambda: r.acl_whoami())
show("auth back", lambda: r.auth("", "default"))
show("acl deluser", lambda: r.acl_deluser("app"))
r = redis.Redis(host=host, port=port, decode_responses=True)
db2 = redis.Redis(host=host, port=port, db=2, decode_responses=True)
show("db2 set", lambda: db2.set("dbk", "two"))
show("db0 get", lambda: r.get("dbk"))
show("db2 get", lambda: db2.get("dbk"))
show("db2 dbsize", lambda: db2.dbsize())
show("swapdb", lambda: r.swapdb(0, 2))
show("db0 get after swap", lambda: r.get("dbk"))
show("move", lambda: r.move("dbk", 2))
show("flushdb", lambda: db2.flushdb())
named = redis.Redis(host=host, port=port, client_name="py-app", decode_responses=True)
show("client getname", lambda: named.client_getname())
show("client setname", lambda: named.client_setname("py-app-2"))
show("client info name", lambda: named.client_info()["name"])
show("client info db", lambda: db2.client_info()["db"])
show("unknown command", lambda: r.execute_command("NOSUCH", "x"))
show("wrong arity", lambda: r.execute_command("GET"))
if "protocol" in redis.Redis.__init__.__code__.co_varnames:
    r3 = redis.Redis(host=host, port=port, protocol=3, decode_responses=True)
    show("resp3 hgetall", lambda: (r3.hset("r3:h", "f", "v"), r3.hgetall("r3:h")))
    show("resp3 zscore", lambda: (r3.zadd("r3:z", {"a": 1.5}), r3.zscore("r3:z", "a")))

# --- pipelines ---------------------------------------------------------------
p = r.pipeline(transaction=False)
p.set("pl:a", 1).incr("pl:a").lpush("pl:a", "x").get("pl:a").incrbyfloat("pl:f", 1.5)
show("pipeline no tx", lambda: p.execute(raise_on_error=False))
p = r.pipeline(transaction=True)
p.set("pl:b", "x").incr("pl:b").append("pl:b", "y").get("pl:b")
show("pipeline tx exec error", lambda: p.execute())
p = r.pipeline(transaction=True)
p.set("pl:b", "x").incr("pl:b").append("pl:b", "y").get("pl:b")
show("pipeline tx all replies", lambda: p.execute(raise_on_error=False))
p = r.pipeline()
p.set("pl:c", 1).execute_command("NOSUCH").set("pl:d", 2)
show("pipeline tx queue error", lambda: p.execute())
show("pipeline tx aborted", lambda: r.exists("pl:c", "pl:d"))
p = r.pipeline()
show("empty pipeline", lambda: p.execute())

# --- transactions with WATCH -------------------------------------------------
other = redis.Redis(host=host, port=port, decode_responses=True)
r.set("tx:w", 10)
with r.pipeline() as p:
    p.watch("tx:w")
    v = int(p.get("tx:w"))
    other.set("tx:w", 100)
    p.multi()
    p.set("tx:w", v + 1)
    show("watch conflict", lambda: p.execute())
show("after conflict", lambda: r.get("tx:w"))
with r.pipeline() as p:
    p.watch("tx:w")
    v = int(p.get("tx:w"))
    p.multi()
    p.set("tx:w", v + 1)
    show("watch no conflict", lambda: p.execute())
show("after success", lambda: r.get("tx:w"))
# (A key absent at WATCH and at EXEC, created and deleted between, aborts
# on Redis and not here: docs/commands.md, WATCH.)
show("transaction helper", lambda: r.transaction(lambda pipe: (pipe.multi(), pipe.incr("tx:w")), "tx:w"))

# --- pub/sub -----------------------------------------------------------------


def next_message(ps, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = ps.get_message(timeout=0.05)
        if m is not None:
            return m
    return "no message"


ps = r.pubsub()
ps.subscribe("ch:a", "ch:b")
show("subscribe a", lambda: next_message(ps))
show("subscribe b", lambda: next_message(ps))
ps.psubscribe("ch:*")
show("psubscribe", lambda: next_message(ps))
show("pubsub channels", lambda: sorted(r.pubsub_channels("ch:*")))
show("pubsub numsub", lambda: r.pubsub_numsub("ch:a", "ch:z"))
show("pubsub numpat", lambda: r.pubsub_numpat())
show("publish", lambda: r.publish("ch:a", "hello"))
show("message", lambda: next_message(ps))
show("pmessage", lambda: next_message(ps))
show("publish binary", lambda: r.publish("ch:b", "a\r\nb"))
show("message binary", lambda: next_message(ps))
show("pmessage binary", lambda: next_message(ps))
ps.unsubscribe()
# All channels go in their dict's order, which Redis seeds at random.
unsubs = [next_message(ps), next_message(ps)]
show("unsubscribe all", lambda: (sorted(m["channel"] for m in unsubs), [(m["type"], m["data"]) for m in unsubs]))
ps.punsubscribe()
show("punsubscribe", lambda: next_message(ps))
ps.close()
# redis-py 4.3 has no shard channels in PubSub: a plain connection.
conn = r.connection_pool.get_connection("ssubscribe")
conn.send_command("SSUBSCRIBE", "sh:a")
show("ssubscribe", lambda: conn.read_response())
show("spublish", lambda: r.execute_command("SPUBLISH", "sh:a", "sharded"))
show("smessage", lambda: conn.read_response())
show("pubsub shardchannels", lambda: r.execute_command("PUBSUB", "SHARDCHANNELS"))
conn.send_command("SUNSUBSCRIBE")
show("sunsubscribe", lambda: conn.read_response())
conn.disconnect()
r.connection_pool.release(conn)

# --- scripts and functions ---------------------------------------------------
incr = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
show("script run", lambda: incr(keys=["sc:n"], args=[5]))
show("script exists", lambda: r.script_exists(incr.sha, "0" * 40))
show("script flush", lambda: r.script_flush())
show("script after flush (NOSCRIPT fallback)", lambda: incr(keys=["sc:n"], args=[5]))
show("evalsha unknown", lambda: r.evalsha("0" * 40, 0))
show("eval table", lambda: r.eval("return {1, 'two', {3, false}, redis.status_reply('OK')}", 0))
show("eval error", lambda: r.eval("return redis.call('incr', KEYS[1])", 1, "sc:s") and r.set("sc:s", "x")
     and r.eval("return redis.call('incr', KEYS[1])", 1, "sc:s"))
show("eval pcall", lambda: r.eval("return redis.pcall('nosuch')", 0))
show("eval_ro write", lambda: r.eval_ro("return redis.call('set', KEYS[1], 1)", 1, "sc:ro"))
lib = """#!lua name=pylib
redis.register_function('py_incr', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)
redis.register_function{function_name='py_get', callback=function(keys) return redis.call('get', keys[1]) end,
  flags={'no-writes'}}
"""
show("function load", lambda: r.function_load(lib))
show("function load again", lambda: r.function_load(lib))
show("function load replace", lambda: r.function_load(lib, replace=True))
show("fcall", lambda: r.fcall("py_incr", 1, "fn:n", 3))
show("fcall_ro", lambda: r.fcall_ro("py_get", 1, "fn:n"))
show("fcall_ro write function", lambda: r.fcall_ro("py_incr", 1, "fn:n", 3))
show("fcall unknown", lambda: r.fcall("nosuch", 0))
# A library's functions come in its dict's order, which Redis seeds at random.
show("function list", lambda: [lib[:5] + [sorted(lib[5], key=lambda f: f[1])] for lib in r.function_list(library="pylib")])
show("function delete", lambda: r.function_delete("pylib"))
show("function list empty", lambda: r.function_list())

# --- strings and keys --------------------------------------------------------
show("set ex", lambda: r.set("s:a", "1", ex=100))
show("ttl", lambda: r.ttl("s:a"))
show("set nx existing", lambda: r.set("s:a", "2", nx=True))
show("set get", lambda: r.set("s:a", "3", get=True))
show("set keepttl", lambda: (r.set("s:a", "4", keepttl=True), r.ttl("s:a")))
show("persist", lambda: (r.persist("s:a"), r.ttl("s:a")))
show("mset mget", lambda: (r.mset({"s:b": "b", "s:c": "c"}), r.mget("s:a", "s:b", "s:none")))
show("msetnx", lambda: r.msetnx({"s:b": "x", "s:d": "d"}))
show("incr family", lambda: (r.incr("s:n"), r.incrby("s:n", 10), r.decr("s:n"), r.decrby("s:n", 3)))
show("incrbyfloat", lambda: r.incrbyfloat("s:f", 0.1) and r.incrbyfloat("s:f", 0.2))
show("incr not int", lambda: r.incr("s:b"))
show("append strlen", lambda: (r.append("s:b", "cd"), r.strlen("s:b")))
show("getrange setrange", lambda: (r.setrange("s:b", 1, "XY"), r.getrange("s:b", 0, -1)))
show("getdel", lambda: (r.getdel("s:c"), r.exists("s:c")))
show("getex", lambda: (r.getex("s:b", ex=50), r.ttl("s:b")))
show("lcs", lambda: (r.mset({"s:l1": "ohmytext", "s:l2": "mynewtext"}), r.lcs("s:l1", "s:l2")))
show("type", lambda: [r.type(k) for k in ("s:a", "nokey")])
show("expire pexpire", lambda: (r.expire("s:a", 10), r.ttl("s:a"), r.pexpire("s:a", 10**9), r.ttl("s:a")))
show("rename", lambda: (r.rename("s:a", "s:a2"), r.exists("s:a"), r.get("s:a2")))
show("rename missing", lambda: r.rename("nokey", "x"))
show("copy", lambda: (r.copy("s:a2", "s:a3"), r.get("s:a3")))
show("scan_iter", lambda: sorted(r.scan_iter(match="s:*", count=2)))
show("keys", lambda: sorted(r.keys("s:?")))
show("unlink", lambda: r.unlink("s:a2", "s:a3", "nokey"))
show("object encoding", lambda: [r.object("encoding", k) for k in ("s:n", "s:b")])

# --- bits --------------------------------------------------------------------
show("setbit getbit", lambda: (r.setbit("b:a", 7, 1), r.setbit("b:a", 7, 0), r.setbit("b:a", 100, 1),
                               r.getbit("b:a", 100), r.getbit("b:a", 5)))
show("bitcount", lambda: (r.bitcount("b:a"), r.bitcount("b:a", 0, 5), r.bitcount("b:a", 0, 99, "BIT")))
show("bitpos", lambda: (r.bitpos("b:a", 1), r.bitpos("b:a", 0, 0), r.bitpos("b:a", 1, 13, -1)))
show("bitop", lambda: (r.set("b:x", "ab"), r.set("b:y", "c"), r.bitop("AND", "b:and", "b:x", "b:y"),
                       raw.get("b:and"), r.bitop("NOT", "b:not", "b:y"), raw.get("b:not")))
show("bitfield", lambda: r.bitfield("b:f").set("u8", 0, 200).incrby("u8", 0, 100).overflow("SAT")
     .incrby("i8", 8, 200).get("u16", 0).execute())
show("bitfield_ro", lambda: r.execute_command("BITFIELD_RO", "b:f", "GET", "u8", 0, "GET", "u4", 4))
show("bitop wrongtype", lambda: (r.lpush("b:l", 1), r.bitop("OR", "b:o", "b:l")))

# --- hashes ------------------------------------------------------------------
show("hset", lambda: r.hset("h:a", mapping={"f1": "v1", "f2": "2", "f3": "v3"}))
show("hget hmget", lambda: (r.hget("h:a", "f1"), r.hmget("h:a", ["f1", "nof", "f3"])))
show("hgetall", lambda: r.hgetall("h:a"))
show("hkeys hvals hlen", lambda: (r.hkeys("h:a"), r.hvals("h:a"), r.hlen("h:a")))
show("hincrby hincrbyfloat", lambda: (r.hincrby("h:a", "f2", 5), r.hincrbyfloat("h:a", "f2", 0.5)))
show("hincrby not int", lambda: r.hincrby("h:a", "f1", 1))
show("hsetnx hexists hdel", lambda: (r.hsetnx("h:a", "f1", "x"), r.hexists("h:a", "f1"), r.hdel("h:a", "f1", "nof")))
show("hstrlen", lambda: r.hstrlen("h:a", "f3"))
show("hrandfield", lambda: (r.hrandfield("h:a", 5), r.hrandfield("h:none")))
show("hscan", lambda: sorted(r.hscan_iter("h:a")))
show("hash wrongtype", lambda: r.get("h:a"))

# --- lists, blocking pops included -------------------------------------------
show("rpush lpush", lambda: (r.rpush("l:a", "a", "b", "c"), r.lpush("l:a", "z")))
show("lrange", lambda: r.lrange("l:a", 0, -1))
show("lindex llen", lambda: (r.lindex("l:a", 1), r.lindex("l:a", 99), r.llen("l:a")))
show("lset linsert", lambda: (r.lset("l:a", 0, "Z"), r.linsert("l:a", "before", "b", "ab"), r.lrange("l:a", 0, -1)))
show("lset out of range", lambda: r.lset("l:a", 99, "x"))
show("lpos", lambda: (r.lpos("l:a", "b"), r.lpos("l:a", "none"), r.rpush("l:a", "b"), r.lpos("l:a", "b", count=0)))
show("lrem ltrim", lambda: (r.lrem("l:a", 0, "b"), r.ltrim("l:a", 0, 2), r.lrange("l:a", 0, -1)))
show("lpop rpop count", lambda: (r.lpop("l:a"), r.rpop("l:a", 5), r.lpop("l:a")))
show("lmove", lambda: (r.rpush("l:b", 1, 2, 3), r.lmove("l:b", "l:c", "LEFT", "RIGHT"), r.lrange("l:c", 0, -1)))
show("lmpop", lambda: r.lmpop(2, "l:none", "l:b", direction="RIGHT", count=5))
show("blpop timeout", lambda: r.blpop(["l:empty"], timeout=0.1))
t = later(0.1, lambda: other.rpush("l:wake", "w1", "w2"))
show("blpop woken", lambda: r.blpop(["l:empty", "l:wake"], timeout=5))
t.join()
show("brpop existing", lambda: r.brpop(["l:wake"], timeout=1))
t = later(0.1, lambda: other.rpush("l:src", "m"))
show("blmove woken", lambda: (r.blmove("l:src", "l:dst", 5, "LEFT", "LEFT"), r.lrange("l:dst", 0, -1)))
t.join()
t = later(0.1, lambda: other.lpush("l:mp", "x", "y"))
show("blmpop woken", lambda: r.blmpop(5, 1, "l:mp", direction="LEFT", count=2))
t.join()
show("brpoplpush timeout", lambda: r.brpoplpush("l:empty", "l:dst", 0.1))
show("blpop wrongtype", lambda: r.blpop(["h:a"], timeout=0.1))
p = r.pipeline()
p.blpop(["l:empty"], timeout=1).rpush("l:empty", "v")
show("blpop in multi does not block", lambda: p.execute())

# --- sets --------------------------------------------------------------------
show("sadd", lambda: (r.sadd("st:a", "a", "b", "c", "d"), r.sadd("st:b", "c", "d", "e"), r.sadd("st:i", 3, 1, 2)))
show("smembers", lambda: (r.smembers("st:a"), r.smembers("st:i")))
show("sismember smismember", lambda: (r.sismember("st:a", "a"), r.smismember("st:a", ["a", "z"])))
show("scard srem", lambda: (r.scard("st:a"), r.srem("st:a", "d", "z"), r.scard("st:a")))
show("sinter sunion sdiff", lambda: (r.sinter("st:a", "st:b"), r.sunion("st:a", "st:b"), r.sdiff("st:a", "st:b")))
show("store variants", lambda: (r.sinterstore("st:o1", ["st:a", "st:b"]), r.sunionstore("st:o2", ["st:a", "st:b"]),
                                r.sdiffstore("st:o3", ["st:a", "st:b"]), r.sintercard(2, ["st:a", "st:b"])))
show("smove", lambda: (r.smove("st:a", "st:b", "a"), r.smembers("st:b")))
show("spop srandmember", lambda: (len(r.spop("st:b", 2)), r.scard("st:b"), len(r.srandmember("st:b", -5))))
show("sscan", lambda: sorted(r.sscan_iter("st:i")))
show("object encoding sets", lambda: [r.object("encoding", k) for k in ("st:i", "st:b")])

# --- sorted sets -------------------------------------------------------------
show("zadd", lambda: r.zadd("z:a", {"a": 1, "b": 2, "c": 3.5, "d": -1}))
show("zadd options", lambda: (r.zadd("z:a", {"a": 5, "e": 0}, xx=True, ch=True), r.zadd("z:a", {"a": 1}, gt=True),
                              r.zadd("z:a", {"a": 2}, incr=True)))
show("zrange", lambda: r.zrange("z:a", 0, -1, withscores=True))
show("zrange rev byscore", lambda: r.zrange("z:a", "(7", "-inf", desc=True, byscore=True, offset=0, num=2))
show("zrangebylex", lambda: (r.zadd("z:l", {"a": 0, "b": 0, "c": 0}), r.zrangebylex("z:l", "[b", "+")))
show("zscore zmscore zrank", lambda: (r.zscore("z:a", "c"), r.zmscore("z:a", ["a", "no"]), r.zrank("z:a", "c"),
                                      r.zrevrank("z:a", "c")))
show("zincrby zcount zcard", lambda: (r.zincrby("z:a", 0.25, "b"), r.zcount("z:a", 0, 3), r.zcard("z:a")))
show("zunionstore", lambda: (r.zunionstore("z:u", {"z:a": 1, "z:l": 2}, aggregate="MAX"),
                             r.zrange("z:u", 0, -1, withscores=True)))
show("zinter", lambda: r.zinter(["z:a", "z:u"], withscores=True))
show("zpopmin zpopmax", lambda: (r.zpopmin("z:a"), r.zpopmax("z:a", 2)))
show("zmpop", lambda: r.zmpop(2, ["z:none", "z:a"], min=True, count=1))
show("zrem zremrangebyscore", lambda: (r.zrem("z:u", "a"), r.zremrangebyscore("z:u", "-inf", 0)))
show("bzpopmin timeout", lambda: r.bzpopmin(["z:empty"], timeout=0.1))
t = later(0.1, lambda: other.zadd("z:wake", {"w": 7}))
show("bzpopmax woken", lambda: r.bzpopmax(["z:empty", "z:wake"], timeout=5))
t.join()
show("zadd nan", lambda: r.zadd("z:a", {"x": "nan"}))
show("zscan", lambda: sorted(r.zscan_iter("z:u")))

# --- streams, consumer groups included ---------------------------------------
show("xadd", lambda: [r.xadd("x:s", {"f": str(i)}, id="%d-1" % i) for i in range(1, 6)])
show("xadd auto seq", lambda: r.xadd("x:s", {"f": "6"}, id="5-*"))
show("xadd old id", lambda: r.xadd("x:s", {"f": "bad"}, id="1-0"))
auto = r.xadd("x:auto", {"a": "b"})
show("xadd * id shape", lambda: auto.split("-")[1] == "0" and auto.split("-")[0].isdigit())
show("xadd maxlen", lambda: (r.xadd("x:t", {"a": 1}, id="1-0"), r.xadd("x:t", {"a": 2}, id="2-0", maxlen=1,
                                                                      approximate=False), r.xlen("x:t")))
show("xadd nomkstream", lambda: r.xadd("x:none", {"a": 1}, nomkstream=True))
show("xlen", lambda: r.xlen("x:s"))
show("xrange", lambda: r.xrange("x:s", "2", "+", count=2))
show("xrevrange", lambda: r.xrevrange("x:s", "+", "-", count=2))
show("xdel xtrim", lambda: (r.xdel("x:s", "1-1"), r.xtrim("x:t", minid="2-0"), r.xlen("x:s")))
show("xread", lambda: r.xread({"x:s": "3-1"}, count=2))
show("xread none", lambda: r.xread({"x:s": "$"}, block=100))
t = later(0.1, lambda: other.xadd("x:s", {"f": "woke"}, id="9-1"))
show("xread block woken", lambda: r.xread({"x:s": "$"}, block=5000))
t.join()
show("xgroup create", lambda: (r.xgroup_create("x:s", "g1", id="0"), r.xgroup_create("x:new", "g2", id="$",
                                                                                      mkstream=True)))
show("xgroup create exists", lambda: r.xgroup_create("x:s", "g1"))
show("xreadgroup new", lambda: r.xreadgroup("g1", "alice", {"x:s": ">"}, count=2))
show("xreadgroup bob", lambda: r.xreadgroup("g1", "bob", {"x:s": ">"}, count=1))
show("xreadgroup history", lambda: r.xreadgroup("g1", "alice", {"x:s": "0"}))
show("xpending", lambda: r.xpending("x:s", "g1"))
show("xpending range", lambda: [(m["message_id"], m["consumer"], m["times_delivered"])
                                for m in r.xpending_range("x:s", "g1", "-", "+", 10)])
show("xack", lambda: r.xack("x:s", "g1", "2-1", "99-0"))
show("xclaim", lambda: r.xclaim("x:s", "g1", "bob", 0, ["3-1"]))
show("xclaim justid", lambda: r.xclaim("x:s", "g1", "alice", 0, ["3-1", "4-1"], justid=True))
show("xautoclaim", lambda: r.xautoclaim("x:s", "g1", "carol", 0, start_id="0-0", count=10))
show("xinfo groups", lambda: r.xinfo_groups("x:s"))
show("xinfo consumers", lambda: sorted((c["name"], c["pending"]) for c in r.xinfo_consumers("x:s", "g1")))
show("xinfo stream", lambda: {k: v for k, v in r.xinfo_stream("x:s").items() if not k.startswith("radix")})
t = later(0.1, lambda: other.xadd("x:new", {"late": "1"}, id="10-0"))
show("xreadgroup block woken", lambda: r.xreadgroup("g2", "dan", {"x:new": ">"}, block=5000))
t.join()
show("xgroup setid", lambda: r.xgroup_setid("x:s", "g1", "0"))
show("xgroup createconsumer delconsumer", lambda: (r.xgroup_createconsumer("x:s", "g1", "eve"),
                                                   r.xgroup_delconsumer("x:s", "g1", "carol")))
show("xgroup destroy", lambda: r.xgroup_destroy("x:s", "g1"))
show("xreadgroup no group", lambda: r.xreadgroup("g1", "alice", {"x:s": ">"}))

# --- HyperLogLog -------------------------------------------------------------
show("pfadd", lambda: (r.pfadd("hll:a", *["e%d" % i for i in range(500)]), r.pfadd("hll:a", "e1")))
show("pfcount", lambda: r.pfcount("hll:a"))
show("pfmerge", lambda: (r.pfadd("hll:b", *["e%d" % i for i in range(300, 900)]), r.pfmerge("hll:m", "hll:a", "hll:b"),
                         r.pfcount("hll:m"), r.pfcount("hll:a", "hll:b")))
show("hll bytes", lambda: raw.get("hll:m")[:16])
show("pfcount wrongtype", lambda: r.pfcount("h:a"))
show("pfadd invalid", lambda: (r.set("hll:bad", "HYLLxxxxxxxxxxxxxxxxx"), r.pfadd("hll:bad", "x")))

# --- geo ---------------------------------------------------------------------
show("geoadd", lambda: r.geoadd("g:it", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania",
                                         12.496366, 41.902782, "Rome"]))
show("geoadd nx ch", lambda: r.geoadd("g:it", [13.5, 38.1, "Palermo"], xx=True, ch=True))
show("geopos", lambda: r.geopos("g:it", "Palermo", "Nowhere"))
show("geodist", lambda: (r.geodist("g:it", "Palermo", "Catania"), r.geodist("g:it", "Palermo", "Rome", unit="km")))
show("geohash", lambda: r.geohash("g:it", "Palermo", "Catania", "Nowhere"))
show("geosearch", lambda: r.geosearch("g:it", longitude=15, latitude=37, radius=300, unit="km",
                                      withdist=True, withcoord=True, withhash=True, sort="ASC"))
show("geosearch box count", lambda: r.geosearch("g:it", member="Catania", width=800, height=800, unit="km",
                                                count=2, sort="DESC"))
show("geosearchstore", lambda: (r.geosearchstore("g:st", "g:it", longitude=15, latitude=37, radius=200, unit="km",
                                                 storedist=True), r.zrange("g:st", 0, -1, withscores=True)))
show("georadius", lambda: r.georadius("g:it", 15, 37, 200, unit="km", withdist=True, sort="ASC"))
show("georadiusbymember", lambda: r.georadiusbymember("g:it", "Rome", 500, unit="km"))
show("geoadd bad coords", lambda: r.geoadd("g:it", [200, 100, "Bad"]))
show("zscore of geo", lambda: r.zscore("g:it", "Rome"))

print("done")
