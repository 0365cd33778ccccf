"""redis-py against a 3-node LoomCache whose node it talks to is killed,
run by clients_failover_test.go: the app pattern of docs/client.md,
"Redis clients and failover".

usage: redis_py_failover.py HOST:PORT,HOST:PORT,... N
The client writes N keys through the first address and prints "ready";
the test kills that node and writes a line to stdin; the client's next
command fails (printed as "error: ..."), then a client made for another
address of the list reads the N keys back and writes again."""
import sys
import threading
import time

import redis

addrs = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in sys.argv[1].split(",")]
n = int(sys.argv[2])


def say(line):
    print(line, flush=True)


def connect(addrs):
    """A client for the first address of addrs that answers PING: a node
    that is down refuses the connection at once."""
    last = None
    for host, port in addrs:
        c = redis.Redis(host=host, port=port, decode_responses=True, socket_connect_timeout=1, socket_timeout=10)
        try:
            c.ping()
            return c
        except redis.ConnectionError as e:
            last = e
    raise last


# Errors after which nothing was applied, or a read may simply go again:
# no connection, or a cluster that has no leader for a moment (a follower
# forwards to the leader, and answers CLUSTERDOWN while one is elected).
RETRY = ("CLUSTERDOWN", "LOADING", "TRYAGAIN")
seen = set()  # what the retries met, for the log


def with_retry(fn, deadline=30.0):
    """fn(client), with a new client to a live node after a connection
    error and a pause after an error of RETRY."""
    end = time.time() + deadline
    c, tries = None, 0
    while True:
        tries += 1
        try:
            if c is None:
                c = connect(addrs)
            return fn(c)
        except redis.ConnectionError as e:
            seen.add(type(e).__name__)
            c = None
        except redis.ResponseError as e:
            if not str(e).startswith(RETRY):
                raise
            seen.add(str(e).split(" ")[0])
        if time.time() > end:
            raise AssertionError("no live node answered within %ss" % deadline)
        time.sleep(min(0.05 * tries, 0.5))


r = redis.Redis(host=addrs[0][0], port=addrs[0][1], decode_responses=True)
for i in range(n):
    assert r.set("py:fo:%d" % i, i) is True
    r.incr("py:fo:count")
say("acknowledged %d" % n)
# A command in flight when the node dies: a BLPOP waiting on it.
inflight = []


def blpop():
    c = redis.Redis(host=addrs[0][0], port=addrs[0][1], decode_responses=True)
    try:
        inflight.append(c.blpop(["py:fo:never"], timeout=0))
    except redis.ConnectionError as e:
        inflight.append("%s: %s" % (type(e).__name__, e))


waiter = threading.Thread(target=blpop)
waiter.start()
while not any(c.get("cmd") == "blpop" for c in r.client_list()):
    time.sleep(0.01)
say("ready")
sys.stdin.readline()  # the node is down now

try:
    r.get("py:fo:0")
    say("error: none")
except redis.ConnectionError as e:
    say("error: %s: %s" % (type(e).__name__, e))
waiter.join()
say("in flight: %s" % inflight[0])

start = time.time()
values = with_retry(lambda c: c.mget(["py:fo:%d" % i for i in range(n)]))
lost = [i for i, v in enumerate(values) if v != str(i)]
say("recovered in %.2f s" % (time.time() - start))
count = with_retry(lambda c: c.get("py:fo:count"))
say("read %d of %d, lost %s, count %s" % (n - len(lost), n, lost, count))
say("write after failover: %s" % with_retry(lambda c: c.set("py:fo:after", "yes")))
say("retries met: %s" % sorted(seen))
say("done")
