package compattests

import "testing"

// TestRedisPyPubSub runs testdata/redis_py_pubsub.py (Debian's
// python3-redis) against redis-server and LoomCache: redis-py's PubSub
// object with channels, patterns and handlers.
func TestRedisPyPubSub(t *testing.T) { runRedisPy(t, "redis_py_pubsub.py") }
