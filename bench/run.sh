#!/usr/bin/env bash
# bench/run.sh: LoomCache against Redis 7.0, measured in the same run.
#
# Builds loomcache, starts (on free loopback ports, fresh temp data dirs):
#   lc-always   loomcache single node, --fsync always (the default)
#   lc-no       loomcache single node, --fsync no
#   redis       redis-server, no persistence (--save '' --appendonly no)
#   redis-aof   redis-server --appendonly yes --appendfsync always
# and runs redis-benchmark against each: SET, GET, INCR, MSET, -c 50, with
# and without -P 16. The servers take turns test by test, so a change in
# the machine's load during the run falls on all of them alike. A server
# that answers a test's command with "unknown command" gets n/a and the
# reply. It prints one table and stops every process it started, and only
# those.
#
# Settings from the environment:
#   BENCH_SECS     seconds each measurement aims to last (default 3)
#   BENCH_CLIENTS  redis-benchmark -c (default 50)
#   BENCH_PIPELINE the pipelined depth (default 16)
#   BENCH_TESTS    redis-benchmark -t list (default set,get,incr,mset);
#                  the collections (issue 11):
#                  lpush,lpop,sadd,hset,zadd,lrange_100 (LPOP and LRANGE_N
#                  find mylist filled first, see lib.sh's prepare)
#   BENCH_KEYS     random keyspace size, -r (default 100000)
#   BENCH_DIR      where the temp data dirs go (default $TMPDIR or /tmp)
#   BENCH_CSV      if set, also write the raw figures to this file
#   LOOMCACHE_BIN  a loomcache binary to measure instead of building one
#                  (to compare two versions: build each, run twice)

# The tables' printf formats are variables, one per table.
# shellcheck disable=SC2059
set -euo pipefail

cd "$(dirname "$0")/.."

SECS="${BENCH_SECS:-3}"
CLIENTS="${BENCH_CLIENTS:-50}"
PIPE="${BENCH_PIPELINE:-16}"
TESTS="${BENCH_TESTS:-set,get,incr,mset}"
KEYS="${BENCH_KEYS:-100000}"

# shellcheck source=bench/lib.sh
source bench/lib.sh

NAMES=(lc-always lc-no redis redis-aof)

start_loomcache lc-always always
start_loomcache lc-no no
start_redis redis --appendonly no
start_redis redis-aof --appendonly yes --appendfsync always
for name in "${NAMES[@]}"; do
	wait_ready "${PORT[$name]}" "$name"
done
echo "servers: $(for n in "${NAMES[@]}"; do printf '%s=:%s ' "$n" "${PORT[$n]}"; done)" >&2

declare -A RES
IFS=, read -ra TLIST <<<"$TESTS"
for t in "${TLIST[@]}"; do
	for p in 1 "$PIPE"; do
		for name in "${NAMES[@]}"; do
			echo "  $t -P $p on $name..." >&2
			RES[$t,$p,$name]=$(measure "$name" "$t" "$p")
		done
	done
done

# field ROW I: the I-th (1-based) comma-separated figure.
field() { cut -d, -f"$2" <<<"$1"; }
# ratio A B: A/B, or "-" when either is missing (n/a: unsupported).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
# unsupported_row R: whether a measurement is a server's "unknown command".
unsupported_row() { [[ $1 == unsupported,* ]]; }

printf '\nredis-benchmark -c %s -r %s, about %ss per figure; ops/s and p50/p99 latency in ms\n\n' "$CLIENTS" "$KEYS" "$SECS"
fmt='%-10s %3s | %9s %6s %6s | %9s %6s %6s | %9s %6s %6s | %9s %6s %6s | %5s %5s %5s\n'
printf "$fmt" test P "lc-always" p50 p99 "lc-no" p50 p99 "redis" p50 p99 "redis-aof" p50 p99 "A/red" "A/aof" "N/red"
[ -n "${BENCH_CSV:-}" ] && echo "test,pipeline,server,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms,cpu_us_per_op" >"$BENCH_CSV"
declare -A UNSUPPORTED
for t in "${TLIST[@]}"; do
	for p in 1 "$PIPE"; do
		row=()
		for name in "${NAMES[@]}"; do
			r=${RES[$t,$p,$name]:-0,0,0,0,0,0,0,0}
			if unsupported_row "$r"; then
				row+=(n/a - -)
				UNSUPPORTED[$t,$name]=${r#unsupported,}
				continue
			fi
			row+=("$(printf '%.0f' "$(field "$r" 1)")" "$(field "$r" 4)" "$(field "$r" 6)")
			[ -n "${BENCH_CSV:-}" ] && echo "$t,$p,$name,$r" >>"$BENCH_CSV"
		done
		a=${row[0]} n=${row[3]} red=${row[6]} aof=${row[9]}
		printf "$fmt" "${t^^}" "$p" "${row[@]}" "$(ratio "$a" "$red")" "$(ratio "$a" "$aof")" "$(ratio "$n" "$red")"
	done
	for name in "${NAMES[@]}"; do
		[ -z "${UNSUPPORTED[$t,$name]:-}" ] || echo "           $name: $(cut -c1-100 <<<"${UNSUPPORTED[$t,$name]}")"
	done
done
printf '\nserver CPU time per request, microseconds (user+system, all threads)\n\n'
cfmt='%-10s %3s | %9s %9s %9s %9s | %5s %5s\n'
printf "$cfmt" test P lc-always lc-no redis redis-aof "A/red" "A/aof"
for t in "${TLIST[@]}"; do
	for p in 1 "$PIPE"; do
		row=()
		for name in "${NAMES[@]}"; do
			r=${RES[$t,$p,$name]:-0,0,0,0,0,0,0,0}
			if unsupported_row "$r"; then
				row+=(n/a)
			else
				row+=("$(field "$r" 8)")
			fi
		done
		printf "$cfmt" "${t^^}" "$p" "${row[@]}" "$(ratio "${row[0]}" "${row[2]}")" "$(ratio "${row[0]}" "${row[3]}")"
	done
done
cat <<EOF

A/red = lc-always / redis, A/aof = lc-always / redis-aof, N/red = lc-no / redis (ops/s).
n/a: the server answered the test's command with the reply below the test.
Targets: GET >= 0.8x redis, SET >= 1.0x redis-aof, p50 < 0.5 ms at -P 1.
On a shared machine ops/s follow its load; CPU per request moves far less.
EOF
