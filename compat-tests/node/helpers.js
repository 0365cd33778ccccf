// Helpers of the ioredis scripts: clients made from the command line's
// address and protocol, and show, which prints one result per line.
"use strict";
const Redis = require("ioredis");

const [host, portArg, protoArg] = process.argv.slice(2);
const port = Number(portArg);
const protocol = Number(protoArg || 2);
const opts = (extra) => ({
  host, port, protocol, replyMapping: protocol === 3 ? "resp3" : "legacy",
  retryStrategy: () => null, maxRetriesPerRequest: 0, ...extra,
});
const clients = [];
function client(extra) {
  const c = new Redis(opts(extra));
  c.on("error", () => {}); // each command reports its own error
  clients.push(c);
  return c;
}

// norm makes a reply printable the same way on every run.
function norm(v) {
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  if (Buffer.isBuffer(v)) return { hex: v.toString("hex") };
  if (v instanceof Set) return [...v].map(norm).sort();
  if (v instanceof Map) return [...v].map(([k, x]) => [norm(k), norm(x)]);
  if (Array.isArray(v)) return v.map(norm);
  if (typeof v === "bigint") return `${v}n`;
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = norm(v[k]);
    return o;
  }
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return v === undefined ? null : v;
}

async function show(label, fn) {
  let v;
  try {
    v = await fn();
  } catch (e) {
    v = e;
  }
  console.log(`${label}: ${JSON.stringify(norm(v))}`);
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
// later runs fn after ms, for the commands that block until it does.
const later = (ms, fn) => sleep(ms).then(fn);

module.exports = { client, show, later, sleep, clients, protocol };
