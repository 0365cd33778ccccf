#!/usr/bin/env bash
# bench/tx.sh: atomic multi-key read-modify-writes, LoomCache against
# Redis 7.0 measured in the same run.
#
# Builds loomcache and bench/txbench, starts (on free loopback ports,
# fresh temp data dirs):
#   lc-always   loomcache single node, --fsync always (the default)
#   redis-aof   redis-server --appendonly yes --appendfsync always
# and runs txbench against each: MULTI / INCR x3 / EXEC (go-redis
# TxPipelined, one round trip), then EVALSHA of a script that does the
# same read-modify-write of 3 keys. The servers take turns workload by
# workload, so a change in the machine's load falls on both alike. A
# server that does not know a command of the workload is reported as
# such. It prints one table and stops every process it started, and
# only those.
#
# Settings from the environment:
#   BENCH_SECS          measured seconds per figure (default 5)
#   BENCH_CLIENTS       concurrent clients (default 50)
#   BENCH_KEYS          key groups chosen from at random (default 100000)
#   BENCH_TX_INCRS      keys per operation (default 3)
#   BENCH_TX_WORKLOADS  txbench workloads (default multi,evalsha)
#   BENCH_DIR, BENCH_CSV, LOOMCACHE_BIN as for run.sh

# The tables' printf formats are variables, one per table.
# shellcheck disable=SC2059
set -euo pipefail

cd "$(dirname "$0")/.."

SECS="${BENCH_SECS:-5}"
CLIENTS="${BENCH_CLIENTS:-50}"
KEYS="${BENCH_KEYS:-100000}"
INCRS="${BENCH_TX_INCRS:-3}"
WORKLOADS="${BENCH_TX_WORKLOADS:-multi,evalsha}"

# shellcheck source=bench/lib.sh
source bench/lib.sh

echo "building txbench..." >&2
go build -o "$WORK/txbench" ./bench/txbench

NAMES=(lc-always redis-aof)
start_loomcache lc-always always
start_redis redis-aof --appendonly yes --appendfsync always
for name in "${NAMES[@]}"; do
	wait_ready "${PORT[$name]}" "$name"
done
echo "servers: $(for n in "${NAMES[@]}"; do printf '%s=:%s ' "$n" "${PORT[$n]}"; done)" >&2

# txmeasure NAME WORKLOAD: one txbench run. Prints its CSV row
# "workload,ops_per_s,p50_ms,p99_ms,ops,errors" plus the server's CPU time
# per operation in microseconds, or "workload,unsupported,<reply>".
txmeasure() {
	local c0 row ops
	c0=$(cpu_ticks "${PID[$1]}")
	row=$("$WORK/txbench" -addr "127.0.0.1:${PORT[$1]}" -workload "$2" -clients "$CLIENTS" \
		-incrs "$INCRS" -keys "$KEYS" -duration "${SECS}s" -csv)
	if [[ $row == *,unsupported,* ]]; then
		echo "$row"
		return
	fi
	ops=$(cut -d, -f5 <<<"$row")
	echo "$row,$(awk -v t=$(($(cpu_ticks "${PID[$1]}") - c0)) -v k="$TCK" -v n="$ops" 'BEGIN { printf "%.2f", (n > 0) ? t * 1e6 / k / n : 0 }')"
}

declare -A RES
IFS=, read -ra WLIST <<<"$WORKLOADS"
for wl in "${WLIST[@]}"; do
	for name in "${NAMES[@]}"; do
		echo "  $wl on $name..." >&2
		RES[$wl,$name]=$(txmeasure "$name" "$wl")
	done
done

field() { cut -d, -f"$2" <<<"$1"; }
# ratio A B: A/B, or "-" when either is missing (0: unsupported).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'; }

printf '\ntxbench -clients %s, %s keys per operation, %ss per figure; operations/s and p50/p99 latency in ms\n\n' "$CLIENTS" "$INCRS" "$SECS"
fmt='%-8s | %9s %7s %7s | %9s %7s %7s | %5s | %8s %8s %5s\n'
printf "$fmt" workload lc-always p50 p99 redis-aof p50 p99 A/aof "lc µs/op" "aof µs/op" A/aof
[ -n "${BENCH_CSV:-}" ] && echo "workload,server,ops_per_s,p50_ms,p99_ms,ops,errors,cpu_us_per_op" >"$BENCH_CSV"
for wl in "${WLIST[@]}"; do
	row=()
	unsupported=()
	for name in "${NAMES[@]}"; do
		r=${RES[$wl,$name]}
		if [[ $r == *,unsupported,* ]]; then
			row+=(n/a - -)
			unsupported+=("$name: $(cut -d, -f3- <<<"$r" | cut -c1-100)")
			continue
		fi
		row+=("$(field "$r" 2)" "$(field "$r" 3)" "$(field "$r" 4)")
		[ -n "${BENCH_CSV:-}" ] && echo "$wl,$name,$(cut -d, -f2- <<<"$r")" >>"$BENCH_CSV"
	done
	# An unsupported workload has no figures: its ratios are "-".
	a=${RES[$wl,lc-always]} b=${RES[$wl,redis-aof]}
	ca=- cb=-
	[[ $a == *,unsupported,* ]] || ca=$(field "$a" 7)
	[[ $b == *,unsupported,* ]] || cb=$(field "$b" 7)
	printf "$fmt" "${wl^^}" "${row[@]}" "$(ratio "${row[0]/n\/a/0}" "${row[3]/n\/a/0}")" \
		"$ca" "$cb" "$(ratio "${ca/-/0}" "${cb/-/0}")"
	for u in "${unsupported[@]}"; do
		echo "         $u"
	done
done
cat <<EOF

A/aof = lc-always / redis-aof: ops/s, then server CPU time (user+system) per operation.
MULTI is one round trip (MULTI, the INCRs and EXEC pipelined, as go-redis's TxPipelined sends them).
On a shared machine ops/s follow its load; CPU per operation moves far less.
EOF
