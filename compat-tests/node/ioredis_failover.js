// ioredis against a 3-node LoomCache whose node it talks to is killed,
// run by clients_failover_test.go: the app patterns of docs/client.md,
// "Redis clients and failover".
//
// usage: node ioredis_failover.js HOST:PORT,HOST:PORT,... N
// Two clients write N keys each through the first address and the script
// prints "ready"; the test kills that node and writes a line to stdin.
// The fail-fast client's next command fails ("error: ..."); a new client
// for a live address of the list reads its keys back; the rotating
// client, whose retryStrategy moves it to the next address, gets its
// pending command answered by a live node.
"use strict";
const Redis = require("ioredis");
const readline = require("readline");

const addrs = process.argv[2].split(",").map((a) => {
  const i = a.lastIndexOf(":");
  return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
});
const n = Number(process.argv[3]);
const say = (line) => console.log(line);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

// connect returns a client for the first address that answers PING; a
// node that is down refuses the connection at once.
async function connect() {
  let last;
  for (const a of addrs) {
    const c = new Redis({ ...a, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on("error", () => {});
    try {
      await c.connect();
      await c.ping();
      return c;
    } catch (e) {
      last = e;
      c.disconnect();
    }
  }
  throw last;
}

// Errors after which nothing was applied: a follower forwards to the
// leader and answers CLUSTERDOWN while one is elected.
const seen = new Set(); // what the retries met, for the log
const retryable = (e) => !(e instanceof Redis.ReplyError) || /^(CLUSTERDOWN|LOADING|TRYAGAIN) /.test(e.message);

// withRetry runs fn(client) with a new client to a live node after a
// connection error, and again after a pause on a retryable reply.
async function withRetry(fn, deadlineMs = 30000) {
  const end = Date.now() + deadlineMs;
  let c = null;
  for (let tries = 1; ; tries++) {
    try {
      if (!c) c = await connect();
      const v = await fn(c);
      c.disconnect();
      return v;
    } catch (e) {
      if (!retryable(e)) throw e;
      seen.add(e instanceof Redis.ReplyError ? e.message.split(" ")[0] : e.message);
      if (c && c.status !== "ready") c = null;
    }
    if (Date.now() > end) throw new Error(`no live node answered within ${deadlineMs} ms`);
    await sleep(Math.min(50 * tries, 500));
  }
}

async function main() {
  const failFast = new Redis({ ...addrs[0], retryStrategy: () => null, maxRetriesPerRequest: 0 });
  failFast.on("error", () => {});
  // rotating keeps one client: each reconnection goes to the next address
  // (its connector reads host and port from the options at each connect),
  // and commands sent meanwhile wait in its offline queue.
  let next = 0;
  const rotating = new Redis({
    ...addrs[0],
    maxRetriesPerRequest: null,
    retryStrategy(times) {
      if (times > 100) return null;
      next = (next + 1) % addrs.length;
      Object.assign(rotating.options, addrs[next]);
      return Math.min(20 * times, 500);
    },
  });
  rotating.on("error", () => {});
  for (let i = 0; i < n; i++) {
    await failFast.set(`node:fo:${i}`, i);
    await rotating.incr("node:fo:count");
  }
  say(`acknowledged ${n}`);
  // A command in flight when the node dies: a BLPOP waiting on it.
  const blocked = new Redis({ ...addrs[0], retryStrategy: () => null, maxRetriesPerRequest: 0 });
  blocked.on("error", () => {});
  const inflight = blocked.blpop("node:fo:never", 0).catch((e) => `${e.name}: ${e.message}`);
  while (!(await failFast.client("LIST")).includes("cmd=blpop")) await sleep(10);
  say("ready");
  const rl = readline.createInterface({ input: process.stdin });
  await new Promise((res) => rl.once("line", res));
  rl.close();

  try {
    await failFast.get("node:fo:0");
    say("error: none");
  } catch (e) {
    say(`error: ${e.name}: ${e.message}`);
  }
  say(`in flight: ${await inflight}`);
  const keys = Array.from({ length: n }, (_, i) => `node:fo:${i}`);
  const start = Date.now();
  const values = await withRetry((c) => c.mget(keys));
  const lost = values.flatMap((v, i) => (v === String(i) ? [] : [i]));
  say(`recovered in ${((Date.now() - start) / 1000).toFixed(2)} s`);
  say(`read ${n - lost.length} of ${n}, lost [${lost}]`);
  // Reads are safe to send again; a CLUSTERDOWN refusal applied nothing.
  let count;
  for (let tries = 0; ; tries++) {
    try {
      count = await rotating.get("node:fo:count");
      break;
    } catch (e) {
      if (!retryable(e) || tries > 100) throw e;
      seen.add(e.message.split(" ")[0]);
      await sleep(100);
    }
  }
  say(`rotating client: count ${count}`);
  say(`write after failover: ${await withRetry((c) => c.set("node:fo:after", "yes"))}`);
  failFast.disconnect();
  rotating.disconnect();
  say(`retries met: ${JSON.stringify([...seen].sort())}`);
  say("done");
}

main().catch((e) => {
  say(`fatal: ${e.stack}`);
  process.exit(1);
});
