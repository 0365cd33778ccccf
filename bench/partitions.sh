#!/usr/bin/env bash
# bench/partitions.sh: a 3-node cluster with P = 1, 3 and 6 partitions;
# plain clients (every node forwards what another node leads) against
# the native client (package client: each command straight to its
# partition's leader), measured in the same run.
#
# Builds loomcache and bench/partbench. For each P it starts three
# loomcache nodes (--fsync always by default, --partitions P) on free loopback ports
# with fresh data dirs, waits until every partition is led and the
# leaderships are spread, then for SET and GET, -c 50, one request in
# flight per client:
#   rb      redis-benchmark against one node (the one leading fewest
#           partitions: with P = 1 a follower), which forwards the
#           commands of the partitions it does not lead;
#   plain   partbench -mode plain: go-redis against that node, the same
#           Go program as native, so that the ratio is the routing alone;
#   native  partbench -mode native: the native client, seeded with it.
# The three take turns, BENCH_ROUNDS times (3), so that a change in the
# machine's load falls on all alike; each figure is the round with the
# median throughput. Every figure comes with each node's CPU time (user+system, from
# /proc/PID/stat) per operation: on 2 cores the gain of direct routing is
# bounded by CPU, and this shows where it goes (a forwarded command costs
# the node that forwards it and the leader). It prints two tables and
# stops every process it started, and only those.
#
# Settings from the environment: BENCH_SECS (3), BENCH_CLIENTS (50),
# BENCH_KEYS (100000), BENCH_PARTITIONS (1 3 6), BENCH_FSYNC (always),
# BENCH_ROUNDS (3), BENCH_DIR,
# LOOMCACHE_BIN (see run.sh).

# The tables' printf formats are variables, one per table.
# shellcheck disable=SC2059
set -euo pipefail

cd "$(dirname "$0")/.."

SECS="${BENCH_SECS:-3}"
CLIENTS="${BENCH_CLIENTS:-50}"
KEYS="${BENCH_KEYS:-100000}"
read -ra PARTS <<<"${BENCH_PARTITIONS:-1 3 6}"
FSYNC="${BENCH_FSYNC:-always}"
ROUNDS="${BENCH_ROUNDS:-3}"

# shellcheck source=bench/lib.sh
source bench/lib.sh

echo "building partbench..." >&2
go build -o "$WORK/partbench" ./bench/partbench

NODES=(n1 n2 n3)

start_node() { # id partitions dir
	local n=$1
	mkdir -p "$3/$n"
	"$LC" --id "$n" --addr "127.0.0.1:${PORT[$n]}" --raft-addr "127.0.0.1:${RAFT[$n]}" \
		--data-dir "$3/$n" --cluster "$CLUSTER" --partitions "$2" --fsync "$FSYNC" >>"$WORK/$n.log" 2>&1 &
	PIDS+=($!)
	PID[$n]=$!
}

# led: prints "id count" for each node, the partitions it leads (read
# from RAFT.PARTITIONS, RESP2: a flat list of field, value), or nothing
# while a partition has no leader.
led() {
	redis-cli -p "${PORT[n1]}" RAFT.PARTITIONS 2>/dev/null | awk -v nodes="${NODES[*]}" '
		prev == "leader" { if ($0 == "") none = 1; c[$0]++; p++ }
		{ prev = $0 }
		END {
			if (none || p == 0) exit
			split(nodes, ns, " ")
			for (i in ns) print ns[i], c[ns[i]] + 0
		}'
}

# wait_spread P: until every partition is led and no node leads two more
# than another (the nodes balance leaderships every ~2 s). Sets TARGET to
# the node leading fewest.
wait_spread() {
	local out lo hi
	for _ in $(seq 600); do
		out=$(led)
		if [ -n "$out" ]; then
			lo=$(sort -k2n <<<"$out" | head -1)
			hi=$(sort -k2n <<<"$out" | tail -1)
			if [ $((${hi#* } - ${lo#* })) -lt 2 ]; then
				TARGET=${lo% *}
				return
			fi
		fi
		sleep 0.1
	done
	echo "bench: partitions not led and spread: $out" >&2
	exit 1
}

# cpus: the nodes' CPU ticks, space-separated.
cpus() {
	local n
	for n in "${NODES[@]}"; do
		printf '%s ' "$(cpu_ticks "${PID[$n]}")"
	done
}

# per_op BEFORE AFTER OPS: each node's CPU µs per operation and their
# sum, comma-separated.
per_op() {
	awk -v a="$1" -v b="$2" -v ops="$3" -v k="$TCK" 'BEGIN {
		n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++) { u = (y[i] - x[i]) * 1e6 / k / ops; s += u; printf "%.1f,", u }
		printf "%.1f", s
	}'
}

# rb TEST: redis-benchmark against TARGET, sized to about SECS seconds by
# a short probe. Prints "ops_s,p50,p99,cpu..." .
rb() {
	local port=${PORT[$TARGET]} probe n c0 row
	probe=$(bench "$port" "$1" 1 5000)
	n=$(awk -v r="${probe%%,*}" -v s="$SECS" 'BEGIN { n = int(r * s); if (n < 5000) n = 5000; print n }')
	c0=$(cpus)
	row=$(bench "$port" "$1" 1 "$n")
	echo "$(cut -d, -f1 <<<"$row"),$(cut -d, -f4 <<<"$row"),$(cut -d, -f6 <<<"$row"),$(per_op "$c0" "$(cpus)" "$n")"
}

# pb MODE TEST: partbench against TARGET. Prints "ops_s,p50,p99,cpu...".
pb() {
	local c0 row
	c0=$(cpus)
	row=$("$WORK/partbench" -mode "$1" -test "$2" -seeds "127.0.0.1:${PORT[$TARGET]}" \
		-clients "$CLIENTS" -keys "$KEYS" -duration "${SECS}s" -warmup 0 -csv)
	IFS=, read -r _ _ ops_s p50 p99 ops errs <<<"$row"
	[ "$errs" = 0 ] || echo "bench: partbench $1 $2: $errs errors" >&2
	echo "$ops_s,$p50,$p99,$(per_op "$c0" "$(cpus)" "$ops")"
}

# median ROWS: of CSV rows, one a line, the one with the median first
# field (throughput).
median() {
	sort -t, -k1,1n <<<"${1%$'\n'}" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}

declare -A RES WHO
for P in "${PARTS[@]}"; do
	cluster_ports "${NODES[@]}"
	for n in "${NODES[@]}"; do
		start_node "$n" "$P" "$WORK/p$P"
	done
	for n in "${NODES[@]}"; do
		wait_ready "${PORT[$n]}" "$n"
	done
	wait_spread
	WHO[$P]="$TARGET leads $(led | awk -v t="$TARGET" '$1 == t { print $2 }')/$P"
	echo "P=$P: ${WHO[$P]}; nodes $(for n in "${NODES[@]}"; do printf '%s=:%s ' "$n" "${PORT[$n]}"; done)" >&2
	for t in set get; do
		declare -A RUNS=()
		for r in $(seq "$ROUNDS"); do
			for m in rb plain native; do
				echo "  P=$P $t $m, round $r..." >&2
				if [ "$m" = rb ]; then
					RUNS[$m]+="$(rb "$t")"$'\n'
				else
					RUNS[$m]+="$(pb "$m" "$t")"$'\n'
				fi
			done
		done
		for m in rb plain native; do
			RES[$P,$t,$m]=$(median "${RUNS[$m]}")
		done
	done
	for n in "${NODES[@]}"; do
		stop "$n"
	done
	rm -rf "$WORK/p$P"
done

f() { cut -d, -f"$2" <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

printf '\n3 nodes, --fsync %s, -c %s (goroutines), one request in flight each, %s random keys, %ss per figure,\nthe median of %s rounds taking turns\n' "$FSYNC" "$CLIENTS" "$KEYS" "$SECS" "$ROUNDS"
printf 'rb: redis-benchmark, plain: go-redis, both against one node (forwarding); native: package client (direct)\n\n'
fmt='%2s %-4s | %8s %5s %5s | %8s %5s %5s | %8s %5s %5s | %5s %5s\n'
printf "$fmt" P test rb p50 p99 plain p50 p99 native p50 p99 "N/pl" "N/rb"
for P in "${PARTS[@]}"; do
	for t in set get; do
		row=()
		for m in rb plain native; do
			r=${RES[$P,$t,$m]}
			row+=("$(printf '%.0f' "$(f "$r" 1)")" "$(printf '%.2f' "$(f "$r" 2)")" "$(printf '%.2f' "$(f "$r" 3)")")
		done
		printf "$fmt" "$P" "${t^^}" "${row[@]}" "$(ratio "${row[6]}" "${row[3]}")" "$(ratio "${row[6]}" "${row[0]}")"
	done
done

printf '\nCPU time per operation, µs (user+system of each node process; n1..n3 and their sum)\n\n'
fmt2='%2s %-4s %-6s | %6s %6s %6s | %6s   %s\n'
printf "$fmt2" P test client n1 n2 n3 sum "target"
for P in "${PARTS[@]}"; do
	for t in set get; do
		for m in rb plain native; do
			r=${RES[$P,$t,$m]}
			printf "$fmt2" "$P" "${t^^}" "$m" "$(f "$r" 4)" "$(f "$r" 5)" "$(f "$r" 6)" "$(f "$r" 7)" "${WHO[$P]}"
		done
	done
done
echo "N/pl: native over plain go-redis (the gain of direct routing); N/rb: native over redis-benchmark."
