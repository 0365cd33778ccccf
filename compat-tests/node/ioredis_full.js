// What an app does through ioredis, one line per result.
// clients_node_test.go runs it against redis-server and LoomCache, in
// RESP2 and RESP3, and diffs the outputs: a line that differs is a
// difference an app would see. Only values that cannot match between two
// servers (times, stream ids from the clock) are reduced to their shape.
//
// usage: node ioredis_full.js HOST PORT PROTOCOL
"use strict";
const { client, show, sleep, clients } = require("./helpers.js");

async function connection(r) {
  await show("ping", () => r.ping());
  await show("hello proto", async () => {
    const h = await r.hello();
    return Array.isArray(h) ? h[h.indexOf("proto") + 1] : h.proto;
  });
  await show("acl setuser", () => r.acl("SETUSER", "app", "on", ">s3cret", "~app:*", "+@all", "-flushall"));
  const app = client({ username: "app", password: "s3cret" });
  await show("acl whoami", () => app.acl("WHOAMI"));
  await show("app set own key", () => app.set("app:k", "v"));
  await show("app set other key", () => app.set("other:k", "v"));
  await show("app flushall", () => app.flushall());
  const bad = client({ username: "app", password: "wrong", lazyConnect: true });
  await show("bad password", () => bad.connect());
  await show("acl deluser", () => r.acl("DELUSER", "app"));
  const db2 = client({ db: 2 });
  await show("db2 set", () => db2.set("dbk", "two"));
  await show("db0 get", () => r.get("dbk"));
  await show("db2 get dbsize", async () => [await db2.get("dbk"), await db2.dbsize()]);
  await show("db2 flushdb", () => db2.flushdb());
  const named = client({ connectionName: "node-app" });
  await show("client getname", () => named.client("GETNAME"));
  await show("client setname", () => named.client("SETNAME", "node-app-2"));
  await show("client getname after", () => named.client("GETNAME"));
  await show("unknown command", () => r.call("NOSUCH", "x"));
  await show("wrong arity", () => r.call("GET"));
}

async function pipelines(r, other) {
  await show("pipeline", () => r.pipeline().set("pl:a", 1).incr("pl:a").lpush("pl:a", "x").get("pl:a")
    .incrbyfloat("pl:f", 1.5).exec());
  await show("multi exec error", () => r.multi().set("pl:b", "x").incr("pl:b").append("pl:b", "y").get("pl:b").exec());
  await show("multi queue error", () => r.multi().set("pl:c", 1).call("NOSUCH").set("pl:d", 2).exec());
  await show("multi aborted", () => r.exists("pl:c", "pl:d"));
  await show("multi no pipeline", async () => [await r.multi({ pipeline: false }), await r.set("pl:e", 1),
    await r.incr("pl:e"), await r.exec()]);
  await r.set("tx:w", 10);
  await show("watch", () => r.watch("tx:w"));
  const v = Number(await r.get("tx:w"));
  await other.set("tx:w", 100);
  await show("watch conflict", () => r.multi().set("tx:w", v + 1).exec());
  await show("after conflict", () => r.get("tx:w"));
  await r.watch("tx:w");
  const w = Number(await r.get("tx:w"));
  await show("watch no conflict", () => r.multi().set("tx:w", w + 1).exec());
  await show("after success", () => r.get("tx:w"));
  await show("unwatch", () => r.unwatch());
}

async function pubsub(r) {
  const sub = client();
  const got = [];
  sub.on("message", (ch, msg) => got.push(["message", ch, msg]));
  sub.on("pmessage", (pat, ch, msg) => got.push(["pmessage", pat, ch, msg]));
  sub.on("smessage", (ch, msg) => got.push(["smessage", ch, msg]));
  const wait = async (n) => {
    for (let i = 0; i < 200 && got.length < n; i++) await sleep(25);
    return got.splice(0, n).sort();
  };
  await show("subscribe", () => sub.subscribe("ch:a", "ch:b"));
  await show("psubscribe", () => sub.psubscribe("ch:*"));
  await show("ssubscribe", () => sub.ssubscribe("sh:a"));
  await show("pubsub channels", async () => (await r.pubsub("CHANNELS", "ch:*")).sort());
  await show("pubsub numsub", () => r.pubsub("NUMSUB", "ch:a", "ch:z"));
  await show("pubsub numpat", () => r.pubsub("NUMPAT"));
  await show("pubsub shardchannels", () => r.pubsub("SHARDCHANNELS"));
  await show("publish", () => r.publish("ch:a", "hello"));
  await show("messages", () => wait(2));
  await show("spublish", () => r.spublish("sh:a", "sharded"));
  await show("smessage", () => wait(1));
  await show("command while subscribed (RESP2 refuses)", () => sub.get("k"));
  await show("unsubscribe", () => sub.unsubscribe("ch:a", "ch:b"));
  await show("punsubscribe", () => sub.punsubscribe("ch:*"));
  await show("sunsubscribe", () => sub.sunsubscribe("sh:a"));
  await show("publish nobody", () => r.publish("ch:a", "nobody"));
}

async function scripts(r) {
  r.defineCommand("myincr", { numberOfKeys: 1, lua: "return redis.call('incrby', KEYS[1], ARGV[1])" });
  await show("defined command", () => r.myincr("sc:n", 5));
  await show("script flush", () => r.script("FLUSH"));
  await show("defined after flush (NOSCRIPT fallback)", () => r.myincr("sc:n", 5));
  await show("defined in pipeline", () => r.pipeline().myincr("sc:n", 1).myincr("sc:n", 1).exec());
  await show("evalsha unknown", () => r.evalsha("0".repeat(40), 0));
  await show("eval table", () => r.eval("return {1, 'two', {3, false}, redis.status_reply('OK')}", 0));
  await show("eval double", () => r.eval("return redis.setresp(3) or {double=3.5}", 0));
  await show("eval error", () => r.set("sc:s", "x").then(() => r.eval("return redis.call('incr', KEYS[1])", 1, "sc:s")));
  const lib = `#!lua name=nodelib
redis.register_function('node_incr', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)
redis.register_function{function_name='node_get', callback=function(keys) return redis.call('get', keys[1]) end,
  flags={'no-writes'}}
`;
  await show("function load", () => r.function("LOAD", lib));
  await show("function load again", () => r.function("LOAD", lib));
  await show("function load replace", () => r.function("LOAD", "REPLACE", lib));
  await show("fcall", () => r.fcall("node_incr", 1, "fn:n", 3));
  await show("fcall_ro", () => r.fcall_ro("node_get", 1, "fn:n"));
  await show("fcall_ro write function", () => r.fcall_ro("node_incr", 1, "fn:n", 3));
  // A library's functions come in its dict's order, which Redis seeds at random.
  await show("function list", async () => (await r.function("LIST", "LIBRARYNAME", "nodelib")).map((lib) => {
    if (!Array.isArray(lib)) return { ...lib, functions: [...lib.functions].sort((a, b) => (a.name < b.name ? -1 : 1)) };
    const fns = lib[lib.indexOf("functions") + 1];
    return [...lib.slice(0, -1), [...fns].sort((a, b) => (a[1] < b[1] ? -1 : 1))];
  }));
  await show("function delete", () => r.function("DELETE", "nodelib"));
}

async function main() {
  const r = client();
  const other = client();
  await r.flushall();
  await connection(r);
  await pipelines(r, other);
  await pubsub(r);
  await scripts(r);
  await require("./ioredis_types.js")(r, other);
  console.log("done");
}

if (require.main === module) {
  main().catch((e) => {
    console.log(`fatal: ${e.stack}`);
    process.exitCode = 1;
  }).finally(() => clients.forEach((c) => c.disconnect()));
}
