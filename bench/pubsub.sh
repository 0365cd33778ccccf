#!/usr/bin/env bash
# bench/pubsub.sh: PUBLISH fan-out to 1, 100 and 10,000 subscribers, a
# 3-node LoomCache cluster against one Redis 7.0, measured in the same
# run (issue 13, item 6).
#
# Builds loomcache and bench/pubbench, starts three loomcache nodes
# (--fsync always, as cluster.sh) and redis-server (no persistence:
# Redis writes no PUBLISH to disk) on free loopback ports, and for each
# subscriber count N runs pubbench against the cluster, then against
# Redis:
#   - N subscriber connections SUBSCRIBE to one channel: on LoomCache
#     spread evenly over the 3 nodes, on Redis all on it;
#   - BENCH_PUB_PUBLISHERS publisher connections (3; on LoomCache one a
#     node, so two of them go through a follower, which has the leader
#     propose the message) PUBLISH, one in flight each (no pipelining),
#     each at most a window of messages ahead of the oldest of its
#     messages not yet delivered to every subscriber (1024/N within
#     [1, 16]), for a 1 s warm-up and BENCH_SECS seconds;
#   - every message carries its send time (unix ns) and a sequence
#     number; every subscriber records each message's delivery latency
#     and checks that each publisher's messages come in order, none
#     missing (lost) or out of order or repeated (reordered).
# It prints one table (and, with BENCH_CSV, writes the raw figures
# there) and stops every process it started, and only those.
#
# Settings from the environment: BENCH_SECS (5), BENCH_PUB_SUBS
# (1 100 10000), BENCH_PUB_PUBLISHERS (3), BENCH_PUB_WINDOW (0: the
# default above), BENCH_DIR, BENCH_CSV, LOOMCACHE_BIN (see run.sh).

# The tables' printf formats are variables, one per table.
# shellcheck disable=SC2059
set -euo pipefail

cd "$(dirname "$0")/.."

SECS="${BENCH_SECS:-5}"
read -ra SUBS <<<"${BENCH_PUB_SUBS:-1 100 10000}"
PUBLISHERS="${BENCH_PUB_PUBLISHERS:-3}"
WINDOW="${BENCH_PUB_WINDOW:-0}"

# shellcheck source=bench/lib.sh
source bench/lib.sh

echo "building pubbench..." >&2
go build -o "$WORK/pubbench" ./bench/pubbench

MAXSUBS=$(printf '%s\n' "${SUBS[@]}" | sort -n | tail -1)
# Each process's open files: the subscribers' sockets are all in
# pubbench, and Redis holds them all too.
if [ "$(ulimit -n)" -lt $((MAXSUBS + 1000)) ]; then
	echo "bench: open-file limit $(ulimit -n) is too low for $MAXSUBS subscribers" >&2
	exit 1
fi

NODES=(n1 n2 n3)
cluster_ports "${NODES[@]}"
for n in "${NODES[@]}"; do
	start_cluster_node "$n"
done
start_redis redis --appendonly no --maxclients $((MAXSUBS + PUBLISHERS + 100))
L=$(cluster_leader)
for n in "${NODES[@]}" redis; do
	wait_ready "${PORT[$n]}" "$n"
done
# A node serves maxclients connections (10000 by default): a third of
# the subscribers, one publisher and a margin must fit.
need=$(((MAXSUBS + 2) / 3 + PUBLISHERS + 100))
for n in "${NODES[@]}"; do
	have=$(redis-cli -p "${PORT[$n]}" CONFIG GET maxclients | tail -1)
	if [ "$have" -lt "$need" ]; then
		redis-cli -p "${PORT[$n]}" CONFIG SET maxclients "$need" >/dev/null
	fi
done
if [ "$(redis-cli -p "${PORT[redis]}" CONFIG GET maxclients | tail -1)" -lt $((MAXSUBS + PUBLISHERS)) ]; then
	echo "bench: redis-server could not raise maxclients (open-file limit?)" >&2
	exit 1
fi
LC_ADDRS=$(for n in "${NODES[@]}"; do printf '127.0.0.1:%s,' "${PORT[$n]}"; done)
LC_ADDRS=${LC_ADDRS%,}
echo "cluster: leader $L; nodes $LC_ADDRS; redis :${PORT[redis]}" >&2

# cpu NAME: the CPU ticks of lc (the three nodes' sum) or redis.
cpu() {
	local n t=0
	if [ "$1" = redis ]; then
		cpu_ticks "${PID[redis]}"
		return
	fi
	for n in "${NODES[@]}"; do
		t=$((t + $(cpu_ticks "${PID[$n]}")))
	done
	echo "$t"
}

# pubmeasure NAME ADDRS N: one pubbench run. Prints its CSV row plus the
# server's (the cluster's) CPU time per delivery in microseconds.
pubmeasure() {
	local c0 row d
	c0=$(cpu "$1")
	row=$("$WORK/pubbench" -addrs "$2" -subs "$3" -publishers "$PUBLISHERS" -window "$WINDOW" \
		-channel "bench:$3" -duration "${SECS}s" -csv)
	d=$(cut -d, -f5 <<<"$row")
	echo "$row,$(awk -v t=$(($(cpu "$1") - c0)) -v k="$TCK" -v n="$d" 'BEGIN { printf "%.2f", (n > 0) ? t * 1e6 / k / n : 0 }')"
}

declare -A RES
for n in "${SUBS[@]}"; do
	echo "  $n subscribers on lc..." >&2
	RES[$n,lc]=$(pubmeasure lc "$LC_ADDRS" "$n")
	echo "  $n subscribers on redis..." >&2
	RES[$n,redis]=$(pubmeasure redis "127.0.0.1:${PORT[redis]}" "$n")
done

# CSV fields: subs,window,published,pub_per_s,deliveries,deliv_per_s,
# p50_ms,p99_ms,max_ms,lost,reordered,disconnected,errors,first_error,cpu_us
field() { cut -d, -f"$2" <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'; }

printf '\nPUBLISH fan-out: 3-node LoomCache (subscribers spread over the nodes) and one Redis, %s publishers\n' "$PUBLISHERS"
printf 'one PUBLISH in flight each, W messages in flight per publisher until every subscriber has them; %ss per figure\n' "$SECS"
printf 'msg/s published, deliveries/s, delivery latency p50/p99 in ms, server CPU µs per delivery\n\n'
fmt='%6s %3s | %7s %9s %7s %7s %6s | %7s %9s %7s %7s %6s | %5s %5s %5s %5s\n'
printf "$fmt" subs W "lc msg/s" deliv/s p50 p99 "µs/d" "red msg/s" deliv/s p50 p99 "µs/d" msg p50 p99 "µs/d"
printf "$fmt" "" "" "" "" "" "" "" "" "" "" "" "" L/R L/R L/R L/R
[ -n "${BENCH_CSV:-}" ] && echo "system,subs,window,published,pub_per_s,deliveries,deliv_per_s,p50_ms,p99_ms,max_ms,lost,reordered,disconnected,errors,first_error,cpu_us_per_delivery" >"$BENCH_CSV"
for n in "${SUBS[@]}"; do
	row=()
	for s in lc redis; do
		r=${RES[$n,$s]}
		row+=("$(field "$r" 4)" "$(field "$r" 6)" "$(field "$r" 7)" "$(field "$r" 8)" "$(field "$r" 15)")
		[ -n "${BENCH_CSV:-}" ] && echo "$s,$r" >>"$BENCH_CSV"
	done
	printf "$fmt" "$n" "$(field "${RES[$n,lc]}" 2)" "${row[@]}" "$(ratio "${row[0]}" "${row[5]}")" \
		"$(ratio "${row[2]}" "${row[7]}")" "$(ratio "${row[3]}" "${row[8]}")" "$(ratio "${row[4]}" "${row[9]}")"
done

printf '\nchecks: per subscriber, each publisher'\''s messages in order, none missing\n\n'
fmt='%6s | %-6s %9s %9s %6s %9s %6s %6s %s\n'
printf "$fmt" subs system published delivered lost reordered disc errors "first error"
bad=0
for n in "${SUBS[@]}"; do
	for s in lc redis; do
		r=${RES[$n,$s]}
		printf "$fmt" "$n" "$s" "$(field "$r" 3)" "$(field "$r" 5)" "$(field "$r" 10)" "$(field "$r" 11)" \
			"$(field "$r" 12)" "$(field "$r" 13)" "$(field "$r" 14)"
		if [ "$(field "$r" 10)" != 0 ] || [ "$(field "$r" 11)" != 0 ]; then
			bad=1
		fi
	done
done
cat <<EOF

delivered = published x subs when nothing is lost. lost and reordered must be 0 for both systems
unless a subscriber was disconnected (disc) for passing its output limit (client-output-buffer-limit
pubsub). Deliveries/s count messages received in the measured time. CPU per delivery is the
server's (LoomCache: the three nodes' sum) user+system time over the whole run, connects included.
All servers and pubbench share the machine's cores: at 10,000 subscribers pubbench reading them
takes a large part of the CPU, so those figures are a floor for both systems.
EOF
[ "$bad" = 0 ] || echo "LOSS OR REORDERING SEEN: see the checks table"
