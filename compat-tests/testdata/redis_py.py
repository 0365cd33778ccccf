"""redis-py's transaction patterns, run by clients_tx_test.go against
redis-server and LoomCache alike: any difference fails an assertion."""
import sys

import redis

host, port = sys.argv[1], int(sys.argv[2])
r = redis.Redis(host=host, port=port, decode_responses=True)
r.flushall()

# pipeline() is MULTI/EXEC by default.
p = r.pipeline()
p.set("py:a", 1).incr("py:a").incrby("py:a", 5).get("py:a")
assert p.execute() == [True, 2, 7, "7"], "pipeline"

# An error inside EXEC: raised by default, every reply with
# raise_on_error=False, and the other commands applied.
p = r.pipeline()
p.set("py:s", "x").incr("py:s").append("py:s", "y")
try:
    p.execute()
    raise AssertionError("no error raised")
except redis.ResponseError as e:
    assert "not an integer" in str(e), e
assert r.get("py:s") == "xy"
p = r.pipeline()
p.incr("py:s").get("py:s")
res = p.execute(raise_on_error=False)
assert isinstance(res[0], redis.ResponseError) and res[1] == "xy", res

# A queueing error aborts the whole transaction.
p = r.pipeline()
p.set("py:q", 1).execute_command("NOSUCHCOMMAND").set("py:q2", 2)
try:
    p.execute()
    raise AssertionError("no error raised")
except redis.ResponseError as e:
    assert "unknown command" in str(e) or "EXECABORT" in str(e), e
assert r.exists("py:q", "py:q2") == 0

# WATCH: the classic optimistic loop, with another client in the way once.
other = redis.Redis(host=host, port=port, decode_responses=True)
r.set("py:w", 10)
meddled = False
with r.pipeline() as p:
    while True:
        try:
            p.watch("py:w")
            v = int(p.get("py:w"))
            if not meddled:
                other.set("py:w", 100)
                meddled = True
            p.multi()
            p.set("py:w", v + 1)
            p.execute()
            break
        except redis.WatchError:
            continue
assert r.get("py:w") == "101", r.get("py:w")

# transaction() is the same loop as a helper.
r.set("py:t", 1)
def double(pipe):
    v = int(pipe.get("py:t"))
    pipe.multi()
    pipe.set("py:t", v * 2)
assert r.transaction(double, "py:t") == [True]
assert r.get("py:t") == "2"

# RESP3 too.
r3 = redis.Redis(host=host, port=port, decode_responses=True, protocol=3) if "protocol" in redis.Redis.__init__.__code__.co_varnames else None
if r3 is not None:
    p = r3.pipeline()
    p.set("py:3", 1).incr("py:3")
    assert p.execute() == [True, 2]

# Lock: acquire, extend and release run Lua scripts (EVALSHA, falling
# back to EVAL), and a second holder must wait.
lock = r.lock("py:lock", timeout=10)
assert lock.acquire(blocking=False)
assert r.get("py:lock") is not None
other_lock = other.lock("py:lock", timeout=10)
assert not other_lock.acquire(blocking=False), "a held lock was acquired again"
assert lock.extend(5)
assert lock.owned()
lock.release()
assert r.get("py:lock") is None
assert other_lock.acquire(blocking=False)
r.set("py:lock", "someone else's token")  # the lock expired and was taken
try:
    other_lock.release()
    raise AssertionError("released a lock it does not own")
except redis.exceptions.LockNotOwnedError:
    pass
assert r.get("py:lock") == "someone else's token"
with r.lock("py:ctx", timeout=5, blocking_timeout=1):
    assert r.exists("py:ctx") == 1
assert r.exists("py:ctx") == 0

# register_script: EVALSHA, with EVAL when the script is not cached.
incr = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
assert incr(keys=["py:n"], args=[5]) == 5
r.script_flush()
assert incr(keys=["py:n"], args=[5]) == 10

print("all passed")
