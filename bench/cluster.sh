#!/usr/bin/env bash
# bench/cluster.sh: a 3-node LoomCache cluster against Redis 7.0 with
# appendonly yes / appendfsync always, measured in the same run, and the
# failover time.
#
# Starts three loomcache nodes (--fsync always, default Raft timeouts) and
# redis-server --appendonly yes --appendfsync always on free loopback
# ports, then:
#   1. redis-benchmark SET and GET, -c 50, with and without -P 16, against
#      the leader, a follower (its requests are forwarded to the leader) and
#      Redis: ops/s, p50/p99 and the ratios to Redis;
#   2. failover: kill -9 the leader and time until the first write succeeds
#      through a surviving node, BENCH_FAILOVERS times (default 3), the
#      killed node restarted in between.
# It stops every process it started, and only those.
#
# Settings from the environment: BENCH_SECS (3), BENCH_CLIENTS (50),
# BENCH_PIPELINE (16), BENCH_KEYS (100000), BENCH_FAILOVERS (3),
# BENCH_DIR, LOOMCACHE_BIN (see run.sh).

# The tables' printf formats are variables, one per table.
# shellcheck disable=SC2059
set -euo pipefail

cd "$(dirname "$0")/.."

SECS="${BENCH_SECS:-3}"
CLIENTS="${BENCH_CLIENTS:-50}"
PIPE="${BENCH_PIPELINE:-16}"
KEYS="${BENCH_KEYS:-100000}"
FAILOVERS="${BENCH_FAILOVERS:-3}"

# shellcheck source=bench/lib.sh
source bench/lib.sh

NODES=(n1 n2 n3)
cluster_ports "${NODES[@]}"

for n in "${NODES[@]}"; do
	start_cluster_node "$n"
done
start_redis redis-aof --appendonly yes --appendfsync always
L=$(cluster_leader)
wait_ready "${PORT[$L]}" "$L"
wait_ready "${PORT[redis-aof]}" redis-aof
for n in "${NODES[@]}"; do
	[ "$n" != "$L" ] && F=$n
done
# A follower serves clients only once forwarding exists.
if [ "$(redis-cli -p "${PORT[$F]}" SET __bench_probe__ x 2>/dev/null)" = OK ]; then
	FOLLOWER_OK=1
else
	FOLLOWER_OK=0
fi
PORT[leader]=${PORT[$L]}
PID[leader]=${PID[$L]}
PORT[follower]=${PORT[$F]}
PID[follower]=${PID[$F]}
echo "cluster: leader $L :${PORT[$L]}, follower $F :${PORT[$F]}, redis-aof :${PORT[redis-aof]}" >&2

declare -A RES
TARGETS=(leader follower redis-aof)
for t in set get; do
	for p in 1 "$PIPE"; do
		for name in "${TARGETS[@]}"; do
			if [ "$name" = follower ] && [ "$FOLLOWER_OK" = 0 ]; then
				continue
			fi
			echo "  $t -P $p on $name..." >&2
			RES[$t,$p,$name]=$(measure "$name" "$t" "$p")
		done
	done
done

field() { cut -d, -f"$2" <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
printf '\n3-node cluster, redis-benchmark -c %s -r %s, about %ss per figure; ops/s and p50/p99 ms\n\n' "$CLIENTS" "$KEYS" "$SECS"
fmt='%-4s %3s | %9s %6s %6s | %9s %6s %6s | %9s %6s %6s | %5s %5s\n'
printf "$fmt" test P leader p50 p99 follower p50 p99 redis-aof p50 p99 "L/aof" "F/aof"
for t in set get; do
	for p in 1 "$PIPE"; do
		row=()
		for name in "${TARGETS[@]}"; do
			r=${RES[$t,$p,$name]:-}
			if [ -z "$r" ]; then
				row+=(n/a - -)
			else
				row+=("$(printf '%.0f' "$(field "$r" 1)")" "$(field "$r" 4)" "$(field "$r" 6)")
			fi
		done
		printf "$fmt" "${t^^}" "$p" "${row[@]}" "$(ratio "${row[0]}" "${row[6]}")" "$(ratio "${row[3]/n\/a/0}" "${row[6]}")"
	done
done
[ "$FOLLOWER_OK" = 1 ] || echo "(follower: forwarding not available in this build)"
echo "Targets: SET through the leader >= 0.5x redis-aof; GET p50 < 0.5 ms through the leader."

# Failover: kill -9 the leader, time to the first acknowledged write.
ms() { date +%s%3N; }
printf '\nfailover (kill -9 of the leader to the first successful SET through a survivor)\n'
for i in $(seq "$FAILOVERS"); do
	L=$(cluster_leader)
	kill -9 "${PID[$L]}"
	t0=$(ms)
	wait "${PID[$L]}" 2>/dev/null || true
	unset "PID[$L]"
	done_at=
	while [ -z "$done_at" ]; do
		for n in "${NODES[@]}"; do
			[ "$n" = "$L" ] && continue
			if [ "$(redis-cli -p "${PORT[$n]}" SET __failover__ "$i" 2>/dev/null)" = OK ]; then
				done_at=$(ms)
				break
			fi
		done
		[ $(($(ms) - t0)) -lt 30000 ] || { echo "bench: no write within 30 s" >&2; exit 1; }
	done
	printf '  run %d: killed %s, first write after %d ms\n' "$i" "$L" $((done_at - t0))
	start_cluster_node "$L"
	wait_ready "${PORT[$(cluster_leader)]}" leader
	sleep 2 # let the restarted node catch up before the next kill
done
echo "Target: under 2000 ms."
