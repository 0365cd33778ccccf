// Every data type through ioredis, for ioredis_full.js: strings, bits,
// hashes, lists with blocking pops, sets, sorted sets, streams with
// consumer groups, HyperLogLog and geo.
"use strict";
const { show, later } = require("./helpers.js");

async function strings(r) {
  await show("set ex ttl", async () => [await r.set("s:a", "1", "EX", 100), await r.ttl("s:a")]);
  await show("set nx existing", () => r.set("s:a", "2", "NX"));
  await show("set get", () => r.set("s:a", "3", "GET"));
  await show("mset mget", async () => [await r.mset({ "s:b": "b", "s:c": "c" }), await r.mget("s:a", "s:b", "s:none")]);
  await show("incr family", async () => [await r.incr("s:n"), await r.incrby("s:n", 10), await r.decrby("s:n", 3)]);
  await show("incrbyfloat", async () => [await r.incrbyfloat("s:f", 0.1), await r.incrbyfloat("s:f", 0.2)]);
  await show("incr not int", () => r.incr("s:b"));
  await show("append setrange getrange", async () => [await r.append("s:b", "cd"), await r.setrange("s:b", 1, "XY"),
    await r.getrange("s:b", 0, -1)]);
  await show("getdel getex", async () => [await r.getdel("s:c"), await r.getex("s:b", "EX", 50), await r.ttl("s:b")]);
  await show("binary", async () => [await r.set("s:bin", Buffer.from([0, 255, 13, 10])), await r.getBuffer("s:bin")]);
  await show("expire persist", async () => [await r.expire("s:a", 10), await r.persist("s:a"), await r.ttl("s:a")]);
  await show("rename copy", async () => [await r.rename("s:a", "s:a2"), await r.copy("s:a2", "s:a3"), await r.get("s:a3")]);
  await show("rename missing", () => r.rename("nokey", "x"));
  await show("scan", async () => {
    const keys = [];
    let cursor = "0";
    do {
      const [next, batch] = await r.scan(cursor, "MATCH", "s:*", "COUNT", 2);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    return keys.sort();
  });
  await show("type object encoding", async () => [await r.type("s:n"), await r.object("ENCODING", "s:n"),
    await r.object("ENCODING", "s:b")]);
}

async function bits(r) {
  await show("setbit getbit", async () => [await r.setbit("b:a", 7, 1), await r.setbit("b:a", 100, 1), await r.getbit("b:a", 100)]);
  await show("bitcount bitpos", async () => [await r.bitcount("b:a"), await r.bitcount("b:a", 0, 99, "BIT"),
    await r.bitpos("b:a", 1), await r.bitpos("b:a", 0, 0)]);
  await show("bitop", async () => [await r.set("b:x", "ab"), await r.set("b:y", "c"), await r.bitop("XOR", "b:o", "b:x", "b:y"),
    await r.getBuffer("b:o")]);
  await show("bitfield", () => r.bitfield("b:f", "SET", "u8", 0, 200, "INCRBY", "u8", 0, 100, "OVERFLOW", "SAT",
    "INCRBY", "i8", 8, 200, "GET", "u16", 0));
  await show("bitfield_ro", () => r.bitfield_ro("b:f", "GET", "u8", 0));
  await show("bitfield bad type", () => r.bitfield("b:f", "GET", "x8", 0));
}

async function hashes(r) {
  await show("hset", () => r.hset("h:a", { f1: "v1", f2: "2", f3: "v3" }));
  await show("hgetall", () => r.hgetall("h:a"));
  await show("hmget hkeys hvals hlen", async () => [await r.hmget("h:a", "f1", "nof"), await r.hkeys("h:a"),
    await r.hvals("h:a"), await r.hlen("h:a")]);
  await show("hincrby hincrbyfloat", async () => [await r.hincrby("h:a", "f2", 5), await r.hincrbyfloat("h:a", "f2", 0.5)]);
  await show("hincrby not int", () => r.hincrby("h:a", "f1", 1));
  await show("hsetnx hexists hdel hstrlen", async () => [await r.hsetnx("h:a", "f1", "x"), await r.hexists("h:a", "f1"),
    await r.hdel("h:a", "f1", "nof"), await r.hstrlen("h:a", "f3")]);
  await show("hrandfield", async () => [(await r.hrandfield("h:a", 5)).sort(), await r.hrandfield("h:none")]);
  await show("hgetall missing", () => r.hgetall("h:none"));
  await show("hash wrongtype", () => r.get("h:a"));
}

async function lists(r, other) {
  await show("rpush lpush lrange", async () => [await r.rpush("l:a", "a", "b", "c"), await r.lpush("l:a", "z"),
    await r.lrange("l:a", 0, -1)]);
  await show("lindex lset linsert", async () => [await r.lindex("l:a", 1), await r.lset("l:a", 0, "Z"),
    await r.linsert("l:a", "BEFORE", "b", "ab"), await r.lrange("l:a", 0, -1)]);
  await show("lset out of range", () => r.lset("l:a", 99, "x"));
  await show("lpos lrem ltrim", async () => [await r.lpos("l:a", "b"), await r.lrem("l:a", 0, "b"), await r.ltrim("l:a", 0, 1),
    await r.lrange("l:a", 0, -1)]);
  await show("lpop rpop count", async () => [await r.lpop("l:a"), await r.rpop("l:a", 5), await r.lpop("l:a")]);
  await show("lmove lmpop", async () => [await r.rpush("l:b", 1, 2, 3), await r.lmove("l:b", "l:c", "LEFT", "RIGHT"),
    await r.lmpop(2, "l:none", "l:b", "RIGHT", "COUNT", 5)]);
  await show("blpop timeout", () => r.blpop("l:empty", 0.1));
  await show("blpop woken", () => Promise.all([r.blpop("l:empty", "l:wake", 5),
    later(100, () => other.rpush("l:wake", "w1", "w2"))]));
  await show("brpop existing", () => r.brpop("l:wake", 1));
  await show("blmove woken", () => Promise.all([r.blmove("l:src", "l:dst", "LEFT", "LEFT", 5),
    later(100, () => other.rpush("l:src", "m"))]));
  await show("blmpop woken", () => Promise.all([r.blmpop(5, 1, "l:mp", "LEFT", "COUNT", 2),
    later(100, () => other.lpush("l:mp", "x", "y"))]));
  await show("blpop wrongtype", () => r.blpop("h:a", 0.1));
  await show("blpop in multi", () => r.multi().blpop("l:empty", 1).rpush("l:empty", "v").exec());
}

async function sets(r) {
  await show("sadd", async () => [await r.sadd("st:a", "a", "b", "c", "d"), await r.sadd("st:b", "c", "d", "e"),
    await r.sadd("st:i", 3, 1, 2)]);
  await show("smembers", async () => [(await r.smembers("st:a")).sort(), (await r.smembers("st:i")).sort()]);
  await show("sismember smismember scard srem", async () => [await r.sismember("st:a", "a"), await r.smismember("st:a", "a", "z"),
    await r.scard("st:a"), await r.srem("st:a", "d", "z")]);
  await show("sinter sunion sdiff", async () => [(await r.sinter("st:a", "st:b")).sort(), (await r.sunion("st:a", "st:b")).sort(),
    (await r.sdiff("st:a", "st:b")).sort()]);
  await show("stores sintercard", async () => [await r.sinterstore("st:o1", "st:a", "st:b"), await r.sunionstore("st:o2", "st:a", "st:b"),
    await r.sdiffstore("st:o3", "st:a", "st:b"), await r.sintercard(2, "st:a", "st:b")]);
  await show("smove spop", async () => [await r.smove("st:a", "st:b", "a"), (await r.spop("st:b", 2)).length, await r.scard("st:b")]);
  await show("object encoding sets", async () => [await r.object("ENCODING", "st:i"), await r.object("ENCODING", "st:b")]);
}

async function zsets(r, other) {
  await show("zadd", () => r.zadd("z:a", 1, "a", 2, "b", 3.5, "c", -1, "d"));
  await show("zadd options", async () => [await r.zadd("z:a", "XX", "CH", 5, "a", 0, "e"), await r.zadd("z:a", "INCR", 2, "a")]);
  await show("zrange withscores", () => r.zrange("z:a", 0, -1, "WITHSCORES"));
  await show("zrange rev byscore", () => r.zrange("z:a", "(7", "-inf", "BYSCORE", "REV", "LIMIT", 0, 2));
  await show("zscore zmscore zrank", async () => [await r.zscore("z:a", "c"), await r.zmscore("z:a", "a", "no"),
    await r.zrank("z:a", "c"), await r.zrevrank("z:a", "c")]);
  await show("zincrby zcount zcard", async () => [await r.zincrby("z:a", 0.25, "b"), await r.zcount("z:a", 0, 3), await r.zcard("z:a")]);
  await show("zunionstore", async () => [await r.zunionstore("z:u", 2, "z:a", "z:a", "WEIGHTS", 1, 2, "AGGREGATE", "MAX"),
    await r.zrange("z:u", 0, -1, "WITHSCORES")]);
  await show("zinter", () => r.zinter(2, "z:a", "z:u", "WITHSCORES"));
  await show("zpopmin zpopmax zmpop", async () => [await r.zpopmin("z:a"), await r.zpopmax("z:a", 2),
    await r.zmpop(2, "z:none", "z:a", "MIN")]);
  await show("zrandmember", async () => (await r.zrandmember("z:u", 10)).sort());
  await show("bzpopmin timeout", () => r.bzpopmin("z:empty", 0.1));
  await show("bzpopmax woken", () => Promise.all([r.bzpopmax("z:empty", "z:wake", 5),
    later(100, () => other.zadd("z:wake", 7, "w"))]));
  await show("zadd nan", () => r.zadd("z:a", "nan", "x"));
}

async function streams(r, other) {
  await show("xadd", async () => {
    const ids = [];
    for (let i = 1; i <= 5; i++) ids.push(await r.xadd("x:s", `${i}-1`, "f", String(i)));
    return ids;
  });
  await show("xadd auto seq", () => r.xadd("x:s", "5-*", "f", "6"));
  await show("xadd old id", () => r.xadd("x:s", "1-0", "f", "bad"));
  await show("xadd * id shape", async () => /^\d+-0$/.test(await r.xadd("x:auto", "*", "a", "b")));
  await show("xadd maxlen nomkstream", async () => [await r.xadd("x:t", "MAXLEN", "=", 1, "1-0", "a", 1),
    await r.xadd("x:t", "MAXLEN", "=", 1, "2-0", "a", 2), await r.xlen("x:t"), await r.xadd("x:none", "NOMKSTREAM", "*", "a", 1)]);
  await show("xrange xrevrange", async () => [await r.xrange("x:s", "2", "+", "COUNT", 2), await r.xrevrange("x:s", "+", "-", "COUNT", 2)]);
  await show("xdel xtrim", async () => [await r.xdel("x:s", "1-1"), await r.xtrim("x:t", "MINID", "2-0"), await r.xlen("x:s")]);
  await show("xread", () => r.xread("COUNT", 2, "STREAMS", "x:s", "3-1"));
  await show("xread none", () => r.xread("BLOCK", 100, "STREAMS", "x:s", "$"));
  await show("xread block woken", () => Promise.all([r.xread("BLOCK", 5000, "STREAMS", "x:s", "$"),
    later(100, () => other.xadd("x:s", "9-1", "f", "woke"))]));
  await show("xgroup create", async () => [await r.xgroup("CREATE", "x:s", "g1", "0"),
    await r.xgroup("CREATE", "x:new", "g2", "$", "MKSTREAM")]);
  await show("xgroup create exists", () => r.xgroup("CREATE", "x:s", "g1", "0"));
  await show("xreadgroup new", () => r.xreadgroup("GROUP", "g1", "alice", "COUNT", 2, "STREAMS", "x:s", ">"));
  await show("xreadgroup bob", () => r.xreadgroup("GROUP", "g1", "bob", "COUNT", 1, "STREAMS", "x:s", ">"));
  await show("xreadgroup history", () => r.xreadgroup("GROUP", "g1", "alice", "STREAMS", "x:s", "0"));
  await show("xpending", () => r.xpending("x:s", "g1"));
  await show("xpending range", async () => (await r.xpending("x:s", "g1", "-", "+", 10)).map((e) => [e[0], e[1], e[3]]));
  await show("xack", () => r.xack("x:s", "g1", "2-1", "99-0"));
  await show("xclaim", () => r.xclaim("x:s", "g1", "bob", 0, "3-1"));
  await show("xclaim justid", () => r.xclaim("x:s", "g1", "alice", 0, "3-1", "4-1", "JUSTID"));
  await show("xautoclaim", () => r.xautoclaim("x:s", "g1", "carol", 0, "0-0", "COUNT", 10));
  await show("xinfo groups", () => r.xinfo("GROUPS", "x:s"));
  await show("xreadgroup block woken", () => Promise.all([r.xreadgroup("GROUP", "g2", "dan", "BLOCK", 5000, "STREAMS", "x:new", ">"),
    later(100, () => other.xadd("x:new", "10-0", "late", "1"))]));
  await show("xgroup setid createconsumer delconsumer destroy", async () => [await r.xgroup("SETID", "x:s", "g1", "0"),
    await r.xgroup("CREATECONSUMER", "x:s", "g1", "eve"), await r.xgroup("DELCONSUMER", "x:s", "g1", "carol"),
    await r.xgroup("DESTROY", "x:s", "g1")]);
  await show("xreadgroup no group", () => r.xreadgroup("GROUP", "g1", "alice", "STREAMS", "x:s", ">"));
}

async function hllGeo(r) {
  const elems = (from, to) => Array.from({ length: to - from }, (_, i) => `e${from + i}`);
  await show("pfadd pfcount", async () => [await r.pfadd("hll:a", ...elems(0, 500)), await r.pfadd("hll:a", "e1"),
    await r.pfcount("hll:a")]);
  await show("pfmerge", async () => [await r.pfadd("hll:b", ...elems(300, 900)), await r.pfmerge("hll:m", "hll:a", "hll:b"),
    await r.pfcount("hll:m"), await r.pfcount("hll:a", "hll:b")]);
  await show("hll bytes", async () => (await r.getBuffer("hll:m")).subarray(0, 16));
  await show("pfadd invalid", async () => [await r.set("hll:bad", "HYLLxxxxxxxxxxxxxxxxx"), await r.pfadd("hll:bad", "x")]);
  await show("geoadd", () => r.geoadd("g:it", 13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania",
    12.496366, 41.902782, "Rome"));
  await show("geopos", () => r.geopos("g:it", "Palermo", "Nowhere"));
  await show("geodist", async () => [await r.geodist("g:it", "Palermo", "Catania"), await r.geodist("g:it", "Palermo", "Rome", "km")]);
  await show("geohash", () => r.geohash("g:it", "Palermo", "Nowhere"));
  await show("geosearch", () => r.geosearch("g:it", "FROMLONLAT", 15, 37, "BYRADIUS", 300, "km", "ASC",
    "WITHCOORD", "WITHDIST", "WITHHASH"));
  await show("geosearchstore", async () => [await r.geosearchstore("g:st", "g:it", "FROMMEMBER", "Catania", "BYBOX", 800, 800, "km",
    "COUNT", 2, "DESC", "STOREDIST"), await r.zrange("g:st", 0, -1, "WITHSCORES")]);
  await show("georadius_ro", () => r.georadius_ro("g:it", 15, 37, 200, "km", "WITHDIST", "ASC"));
  await show("geoadd bad coords", () => r.geoadd("g:it", 200, 100, "Bad"));
}

module.exports = async function types(r, other) {
  await strings(r);
  await bits(r);
  await hashes(r);
  await lists(r, other);
  await sets(r);
  await zsets(r, other);
  await streams(r, other);
  await hllGeo(r);
};
