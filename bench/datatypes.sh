#!/usr/bin/env bash
# bench/datatypes.sh: the data types of issue 14 against Redis 7.0 in the
# same run.
#
# 1. Throughput and latency of XADD, XREAD, PFADD, SETBIT and GEOADD:
#    bench/run.sh with those tests (its four servers, its tables; see
#    bench/README.md). XREAD reads 10 entries of a 100-entry stream.
# 2. Memory of one stream of DT_ENTRIES entries (default 1,000,000):
#    a LoomCache node (--fsync DT_FSYNC, default always) and redis-server
#    without persistence, started on free loopback ports with fresh data
#    dirs, each loaded with the same XADD commands (redis-cli --pipe;
#    ids from each server's clock, two fields: a small integer and an
#    8-byte value); then used_memory's growth over the load, per entry,
#    and the ratio lc/redis.
#
# Settings from the environment: DT_SKIP_THROUGHPUT=1 skips part 1,
# DT_ENTRIES, DT_FSYNC, DT_SETTLE (seconds before reading, default 2), and
# everything run.sh and lib.sh read (BENCH_SECS, BENCH_DIR, LOOMCACHE_BIN,
# ...). BENCH_TESTS (default xadd,xread,pfadd,setbit,geoadd) picks part
# 1's tests.
set -euo pipefail

cd "$(dirname "$0")/.."

ENTRIES="${DT_ENTRIES:-1000000}"
FSYNC="${DT_FSYNC:-always}"
SETTLE="${DT_SETTLE:-2}"
[[ $ENTRIES =~ ^[1-9][0-9]*$ ]] || {
	echo "datatypes: DT_ENTRIES must be a positive integer, not '$ENTRIES'" >&2
	exit 2
}

if [ -z "${DT_SKIP_THROUGHPUT:-}" ]; then
	BENCH_TESTS="${BENCH_TESTS:-xadd,xread,pfadd,setbit,geoadd}" bash bench/run.sh
fi

# shellcheck source=bench/lib.sh
source bench/lib.sh

log() { echo "datatypes: $*" >&2; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

PROTO=$WORK/stream.proto
log "generating $ENTRIES XADD commands..."
awk -v n="$ENTRIES" 'BEGIN {
	for (i = 0; i < n; i++) {
		v = sprintf("v%07d", i); s = (i % 100) ""
		printf "*7\r\n$4\r\nXADD\r\n$12\r\nbench:stream\r\n$1\r\n*\r\n$6\r\nsensor\r\n$%d\r\n%s\r\n$5\r\nvalue\r\n$8\r\n%s\r\n", length(s), s, v
	}
}' >"$PROTO"

start_loomcache lc "$FSYNC"
start_redis redis --appendonly no
declare -A MEM0 MEM LEN LOAD
for name in lc redis; do
	wait_ready "${PORT[$name]}" "$name"
	MEM0[$name]=$(info "$name" used_memory)
	log "loading into $name..."
	t0=$(date +%s%N)
	out=$(redis-cli -p "${PORT[$name]}" --pipe <"$PROTO" 2>&1) || {
		log "redis-cli --pipe into $name failed: $(tail -3 <<<"$out")"
		exit 1
	}
	LOAD[$name]=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	grep -q "errors: 0, replies: $ENTRIES\$" <<<"$out" || {
		log "$name: $(tail -2 <<<"$out")"
		exit 1
	}
done
sleep "$SETTLE"
for name in lc redis; do
	MEM[$name]=$(info "$name" used_memory)
	LEN[$name]=$(redis-cli -p "${PORT[$name]}" XLEN bench:stream)
done

printf '\none stream of %s entries (2 fields); LoomCache --fsync %s, Redis without persistence\n\n' "$ENTRIES" "$FSYNC"
fmt='%-6s | %9s | %10s | %8s | %7s\n'
printf "$fmt" server XLEN "used MiB" "B/entry" "load s"
for name in lc redis; do
	printf "$fmt" "$name" "${LEN[$name]}" "$(mib "${MEM[$name]}")" \
		"$(awk -v a="${MEM0[$name]}" -v b="${MEM[$name]}" -v n="$ENTRIES" 'BEGIN { printf "%.1f", (b - a) / n }')" "${LOAD[$name]}"
done
awk -v a0="${MEM0[lc]}" -v a="${MEM[lc]}" -v b0="${MEM0[redis]}" -v b="${MEM[redis]}" \
	'BEGIN { if (b > b0) printf "\nlc/redis (growth of used_memory over the load): %.2f\n", (a - a0) / (b - b0) }'
