#!/usr/bin/env bash
# bench/cost.sh: how cost grows (issue 16, item 5). LoomCache single node
# --fsync always (lc-always) against redis-server --appendonly yes
# --appendfsync always (redis-aof), measured in the same run:
#   SET and GET at -c 1, 10, 50 and 200 (-P 1, -d 64), and at -c 50 with
#   -d 1024 and -d 16384,
# each with ops/s, the server's CPU time per request (user+system, all
# threads, from /proc/PID/stat) and, for SET, requests per fsync: the
# fdatasync and fsync calls the server process made during the measured
# run, counted by perf stat (n/a without a working perf). For LoomCache it
# also prints its own figures from INFO persistence: log entries per synced
# WAL commit (wal_entries / wal_syncs over the run) and requests per log
# entry. It prints one table and stops every process it started, and only
# those.
#
# Settings from the environment: BENCH_SECS (3), BENCH_KEYS (100000),
# BENCH_PIN (1: servers on core 1, redis-benchmark on core 0; default 0),
# BENCH_DIR, LOOMCACHE_BIN (see run.sh).

# The table's printf format is a variable.
# shellcheck disable=SC2059
set -euo pipefail

cd "$(dirname "$0")/.."

SECS="${BENCH_SECS:-3}"
KEYS="${BENCH_KEYS:-100000}"
CLIENTS=50
DATA=64

# shellcheck source=bench/lib.sh
source bench/lib.sh

BENCH_PIN=${BENCH_PIN:-0}
pin "$(pin_modes)"
NAMES=(lc-always redis-aof)
# Each case: test, clients, value size.
CASES=("set 1 64" "get 1 64" "set 10 64" "get 10 64" "set 50 64" "get 50 64"
	"set 200 64" "get 200 64" "set 50 1024" "get 50 1024" "set 50 16384" "get 50 16384")

start_loomcache lc-always always
start_redis redis-aof --appendonly yes --appendfsync always
for name in "${NAMES[@]}"; do
	wait_ready "${PORT[$name]}" "$name"
done
echo "$PIN_LABEL; servers: lc-always=:${PORT[lc-always]} redis-aof=:${PORT[redis-aof]}" >&2

FSYNC_EVENTS=syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync
# perf counts the syscalls when it can attach to a server and has the
# syscall tracepoints (root or perf_event_paranoid low enough).
PERF=0
if command -v perf >/dev/null &&
	perf stat -x, -e "$FSYNC_EVENTS" -p "${PID[redis-aof]}" -- sleep 0.1 2>&1 | grep -q sys_enter_fsync; then
	PERF=1
else
	echo "bench: perf stat cannot count syscalls here: requests per fsync are n/a" >&2
fi

# measure_start NAME (lib.sh's hook): perf stat attached to the server
# and LoomCache's WAL counters before the run.
measure_start() {
	W0=$(info "$1" wal_entries)
	S0=$(info "$1" wal_syncs)
	[ "$PERF" = 1 ] || return 0
	rm -f "$WORK/perf.out"
	perf stat -x, -e "$FSYNC_EVENTS" -p "${PID[$1]}" -o "$WORK/perf.out" &
	PERF_PID=$!
	sleep 0.5 # perf attaches to every thread before the run starts
}

# measure_end NAME N: MEASURE_EXTRA is "N,fsyncs,wal_entries,wal_syncs"
# of the run of N requests; a figure the server or the machine cannot give
# is n/a.
measure_end() {
	local fs=n/a w1 s1
	if [ "$PERF" = 1 ]; then
		kill -INT "$PERF_PID"
		wait "$PERF_PID" 2>/dev/null || true
		fs=$(awk -F, '/syscalls:/ { c++; if ($1 !~ /^[0-9]+$/) bad = 1; n += $1 } END { print bad || c == 0 ? "n/a" : n }' "$WORK/perf.out" 2>/dev/null || echo n/a)
	fi
	w1=$(info "$1" wal_entries)
	s1=$(info "$1" wal_syncs)
	if [[ $W0$w1$S0$s1 =~ ^[0-9]+$ ]]; then
		MEASURE_EXTRA="$2,$fs,$((w1 - W0)),$((s1 - S0))"
	else
		MEASURE_EXTRA="$2,$fs,n/a,n/a"
	fi
}

declare -A RES
for c in "${CASES[@]}"; do
	read -r t CLIENTS DATA <<<"$c"
	for name in "${NAMES[@]}"; do
		echo "  $t -c $CLIENTS -d $DATA on $name..." >&2
		RES[$c,$name]=$(measure "$name" "$t" 1)
	done
done

# per A B: A/B with one decimal, "-" when either is no figure or B is 0.
per() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.1f", a / b; else print "-" }'; }

printf '\n%s\n' "$PIN_LABEL"
printf 'redis-benchmark -P 1 -r %s, about %ss per figure\n\n' "$KEYS" "$SECS"
fmt='%-4s %4s %6s | %8s %7s %8s %8s %7s | %8s %7s %8s | %5s\n'
printf "$fmt" "" "" "" lc-always "" "" "" "" redis-aof "" "" ""
printf "$fmt" test c d "ops/s" "cpu-us" "req/fsyn" "ent/sync" "req/ent" "ops/s" "cpu-us" "req/fsyn" "A/aof"
for c in "${CASES[@]}"; do
	read -r t cl d <<<"$c"
	row=()
	for name in "${NAMES[@]}"; do
		r=${RES[$c,$name]:-}
		ops=$(printf '%.0f' "$(field "$r" 1)")
		row+=("$ops" "$(field "$r" 8)")
		if [ "$t" = set ]; then
			row+=("$(per "$(field "$r" 9)" "$(field "$r" 10)")")
		else
			row+=(-)
		fi
		if [ "$name" = lc-always ]; then
			if [ "$t" = set ]; then
				row+=("$(per "$(field "$r" 11)" "$(field "$r" 12)")" "$(per "$(field "$r" 9)" "$(field "$r" 11)")")
			else
				row+=(- -)
			fi
		fi
	done
	printf "$fmt" "${t^^}" "$cl" "$d" "${row[@]}" "$(ratio "${row[0]}" "${row[5]}")"
done
cat <<EOF

ops/s: throughput; cpu-us: server CPU time per request (user+system, all
threads); req/fsyn: requests per fdatasync+fsync the server made (perf
stat; "-" for GET, n/a without perf); ent/sync: LoomCache's log entries
per synced WAL commit (INFO wal_entries / wal_syncs over the run); req/ent:
requests per log entry. A/aof: lc-always / redis-aof ops/s.
Redis fsyncs once per event-loop turn, so its req/fsyn is about the number
of clients whose requests one turn read; LoomCache's group commit should
reach at least as many.
EOF
