"""redis-py's Pub/Sub patterns, run by clients_pubsub_test.go against
redis-server and LoomCache alike: any difference fails an assertion."""
import sys
import time

import redis

host, port = sys.argv[1], int(sys.argv[2])
r = redis.Redis(host=host, port=port, decode_responses=True)


def next_message(ps, timeout=10.0):
    """The next message of ps (confirmations included), or fail."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = ps.get_message(timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no message within %ss" % timeout)


ps = r.pubsub()
ps.subscribe("py:news", "py:sport")
assert next_message(ps) == {"type": "subscribe", "pattern": None, "channel": "py:news", "data": 1}
assert next_message(ps) == {"type": "subscribe", "pattern": None, "channel": "py:sport", "data": 2}
ps.psubscribe("py:n*")
assert next_message(ps) == {"type": "psubscribe", "pattern": None, "channel": "py:n*", "data": 3}
assert r.pubsub_numsub("py:news", "py:none") == [("py:news", 1), ("py:none", 0)]
assert r.pubsub_numpat() == 1
assert r.publish("py:news", "hello") == 2, "channel and pattern both count"
assert next_message(ps) == {"type": "message", "pattern": None, "channel": "py:news", "data": "hello"}
assert next_message(ps) == {"type": "pmessage", "pattern": "py:n*", "channel": "py:news", "data": "hello"}
assert r.publish("py:sport", "goal") == 1
assert next_message(ps)["data"] == "goal"

# A handler per channel, run by get_message.
seen = []
ps.subscribe(**{"py:handled": lambda m: seen.append(m["data"])})
next_message(ps)  # its confirmation
r.publish("py:handled", "h1")
deadline = time.time() + 10
while not seen and time.time() < deadline:
    ps.get_message(timeout=0.1)
assert seen == ["h1"], seen

ps.unsubscribe("py:news")
assert next_message(ps) == {"type": "unsubscribe", "pattern": None, "channel": "py:news", "data": 3}
ps.punsubscribe()
assert next_message(ps) == {"type": "punsubscribe", "pattern": None, "channel": "py:n*", "data": 2}
assert r.publish("py:news", "nobody") == 0
ps.unsubscribe()
counts = sorted(next_message(ps)["data"] for _ in range(2))
assert counts == [0, 1], counts
ps.close()

# redis-py 4.3 (Debian's) has no shard channel support in PubSub:
# SSUBSCRIBE is covered by server/pubsub_test.go.

print("all passed")
