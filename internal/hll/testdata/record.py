#!/usr/bin/env python3
# Records the golden files of internal/hll's tests from a redis-server
# 7.0 (redis-server --port 7421 --save '' --appendonly no; it needs
# PFDEBUG and CONFIG SET). Run from this folder: python3 record.py [port].
# It FLUSHALLs the server. The elements are derived from indexes, so the
# Go tests rebuild them; only replies, lengths and digests are stored.
import hashlib, json, random, socket, sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 7421
s = socket.create_connection(("127.0.0.1", PORT))
f = s.makefile("rb")
def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        if isinstance(a, str): a = a.encode()
        elif isinstance(a, int): a = str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    return read()
def read():
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t == b"+": return rest.decode()
    if t == b"-": return "ERR:" + rest.decode()
    if t == b":": return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0: return None
        d = f.read(n + 2)[:-2]
        return d
    if t == b"*":
        return [read() for _ in range(int(rest))]
rnd = random.Random(42)
scen = []
def digest(b): return hashlib.sha256(b).hexdigest()
rnd = random.Random(42)
scen = []
def digest(b): return hashlib.sha256(b).hexdigest()
def step(st, c, *a):
    r = cmd(c, *a)
    g = cmd("GET", "k")
    st.append({"cmd": c, "n": len(a)-1, "reply": r, "len": len(g) if g else 0, "sha": digest(g)[:16] if g else ""})
# scenario: growing adds with several sparse limits
for limit in [3000, 200, 0, 10000]:
    cmd("CONFIG", "SET", "hll-sparse-max-bytes", str(limit))
    cmd("DEL", "k")
    st = []
    n = 0
    while n < 6000:
        batch = rnd.choice([1, 3, 10, 50, 200])
        elems = [("e%d" % (n + i)) for i in range(batch)]
        n += batch
        step(st, "PFADD", "k", *elems)
        if rnd.random() < 0.5:
            step(st, "PFCOUNT", "k")
    scen.append({"limit": limit, "steps": st})
cmd("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
# binary elements, repeats, empty
cmd("DEL", "k")
st = []
for i in range(300):
    e = hashlib.sha256(str(i).encode()).digest()[:i%21]
    step(st, "PFADD", "k", e)
    step(st, "PFCOUNT", "k")
scen.append({"limit": 3000, "steps": st})
json.dump(scen, open("redis-steps.json", "w"), separators=(",", ":"))
# PFCOUNT values for many cardinalities: counts of the same sequence
counts = []
cmd("DEL", "c", "d")
cmd("PFADD", "d"); 
n = 0
for target in [0, 1, 2, 5, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000]:
    elems = ["c%d" % i for i in range(n, target)]
    for i in range(0, len(elems), 1000):
        cmd("PFADD", "c", *elems[i:i+1000])
    n = target
    counts.append([target, cmd("PFCOUNT", "c")])
json.dump(counts, open("redis-counts.json", "w"))
out = {}
def dense(regs):
    b = bytearray(b"HYLL" + bytes([0,0,0,0]) + bytes(7) + b"\x80") + bytearray(12288)
    r = memoryview(b)[16:]
    for i, v in enumerate(regs):
        byte = i*6//8; fb = i*6 & 7
        r[byte] |= (v << fb) & 0xff
        if byte + 1 < 12288:
            r[byte+1] |= v >> (8 - fb)
    return bytes(b)
VALS = [0, 0, 0, 1, 2, 3, 10, 30, 50, 51, 52, 63]
def gen(t):
    x = t * 7919 + 1
    regs = []
    keep = [1, 4, 16, 64, 4096][t % 5]  # one register in 'keep' is set
    for i in range(16384):
        x = (x * 1103515245 + 12345) % (1 << 31)
        regs.append(VALS[(x >> 8) % len(VALS)] if (x >> 20) % keep == 0 else 0)
    return regs
cases = []
for t in range(30):
    cmd("SET", "d", dense(gen(t)))
    cases.append(cmd("PFCOUNT", "d"))
out["dense"] = cases
rnd = random.Random(7)
merges = []
for trial in range(16):
    cmd("FLUSHALL")
    keys = []
    for j in range(rnd.randint(1, 4)):
        n = rnd.choice([0, 3, 30, 300, 3000])
        k = "s%d" % j
        elems = ["m%d-%d-%d" % (trial, j, i) for i in range(n)]
        cmd("PFADD", k, *elems) if elems else cmd("PFADD", k)
        todense = rnd.random() < 0.3
        if todense:
            cmd("PFDEBUG", "TODENSE", k)
        keys.append([n, todense])
    dest = rnd.choice(["s0", "new"])
    r = cmd("PFMERGE", dest, *["s%d" % j for j in range(len(keys))])
    g = cmd("GET", dest)
    merges.append({"srcs": keys, "dest": dest, "reply": r, "len": len(g), "sha": hashlib.sha256(g).hexdigest()[:16], "count": cmd("PFCOUNT", dest), "multi": cmd("PFCOUNT", *["s%d" % j for j in range(len(keys))])})
out["merges"] = merges
json.dump(out, open("redis-cases.json", "w"), separators=(",", ":"))
