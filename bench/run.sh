#!/usr/bin/env bash
# bench/run.sh: LoomCache against Redis 7.0, measured in the same run.
#
# Builds loomcache, starts (on free loopback ports, fresh temp data dirs):
#   lc-always   loomcache single node, --fsync always (the default)
#   lc-no       loomcache single node, --fsync no
#   redis       redis-server, no persistence (--save '' --appendonly no)
#   redis-aof   redis-server --appendonly yes --appendfsync always
# and runs redis-benchmark against each: SET, GET, INCR, MSET, LPUSH, HSET,
# ZADD, -c 50 -d 64, with and without -P 16. The servers take turns test
# by test, so a change in the machine's load during the run falls on all
# of them alike. A server that answers a test's command with "unknown
# command" gets n/a and the reply. It does all this twice, each time with
# fresh servers: free (the scheduler places every process), then pinned
# (every server on core 1, redis-benchmark on core 0), and prints each
# mode's tables with issue 16's targets, met or not met. It stops every
# process it started, and only those.
#
# Settings from the environment:
#   BENCH_SECS     seconds each measurement aims to last (default 3)
#   BENCH_CLIENTS  redis-benchmark -c (default 50)
#   BENCH_PIPELINE the pipelined depth (default 16)
#   BENCH_TESTS    redis-benchmark -t list (default
#                  set,get,incr,mset,lpush,hset,zadd); also
#                  lpop,sadd,lrange_100 (LPOP and LRANGE_N
#                  find mylist filled first, see lib.sh's prepare)
#   BENCH_DATA     value size in bytes, redis-benchmark -d (default 64)
#   BENCH_PIN      1: pinned only, 0: free only (default: both, free first)
#   BENCH_KEYS     random keyspace size, -r (default 100000)
#   BENCH_DIR      where the temp data dirs go (default $TMPDIR or /tmp)
#   BENCH_CSV      if set, also write the raw figures to this file (its
#                  last column is the mode, free or pinned)
#   LOOMCACHE_BIN  a loomcache binary to measure instead of building one
#                  (to compare two versions: build each, run twice)

# The tables' printf formats are variables, one per table.
# shellcheck disable=SC2059
set -euo pipefail

cd "$(dirname "$0")/.."

SECS="${BENCH_SECS:-3}"
CLIENTS="${BENCH_CLIENTS:-50}"
PIPE="${BENCH_PIPELINE:-16}"
TESTS="${BENCH_TESTS:-set,get,incr,mset,lpush,hset,zadd}"
DATA="${BENCH_DATA:-64}"
KEYS="${BENCH_KEYS:-100000}"

# shellcheck source=bench/lib.sh
source bench/lib.sh

NAMES=(lc-always lc-no redis redis-aof)
IFS=, read -ra TLIST <<<"$TESTS"

# unsupported_row R: whether a measurement is a server's "unknown command".
unsupported_row() { [[ $1 == unsupported,* ]]; }

# targets TEST PIPELINE A/RED A/AOF P50: issue 16's targets for a row of
# lc-always, each followed by met or not met (nothing: the row has none).
targets() {
	local out=()
	case "$1,$2" in
	get,1 | "get,$PIPE") out+=("A/red>=1.0 $(judge "$3" ">=" 1.0)") ;;
	set,1 | incr,1) out+=("A/aof>=1.2 $(judge "$4" ">=" 1.2)") ;;
	"set,$PIPE") out+=("A/aof>=1.0 $(judge "$4" ">=" 1.0)") ;;
	esac
	case "$1,$2" in
	get,1 | set,1 | incr,1) out+=("p50<0.5ms $(judge "$5" "<" 0.5)") ;;
	esac
	[ "${#out[@]}" = 0 ] || printf '%s' "${out[0]}"
	[ "${#out[@]}" -lt 2 ] || printf '; %s' "${out[@]:1}"
	echo
}

# run_mode MODE: fresh servers, pinned or not (lib.sh's pin), every test
# measured, the servers stopped, the mode's tables printed.
run_mode() {
	local t p name r row a n red aof fmt cfmt
	local -A RES UNSUPPORTED
	pin "$1"
	for name in "${NAMES[@]}"; do
		rm -rf "${WORK:?}/$name"
	done
	start_loomcache lc-always always
	start_loomcache lc-no no
	start_redis redis --appendonly no
	start_redis redis-aof --appendonly yes --appendfsync always
	for name in "${NAMES[@]}"; do
		wait_ready "${PORT[$name]}" "$name"
	done
	echo "$PIN_LABEL; servers: $(for n in "${NAMES[@]}"; do printf '%s=:%s ' "$n" "${PORT[$n]}"; done)" >&2

	for t in "${TLIST[@]}"; do
		for p in 1 "$PIPE"; do
			for name in "${NAMES[@]}"; do
				echo "  $t -P $p on $name..." >&2
				RES[$t,$p,$name]=$(measure "$name" "$t" "$p")
			done
		done
	done
	for name in "${NAMES[@]}"; do
		stop "$name"
	done

	printf '\n== %s\n' "$PIN_LABEL"
	printf '\nredis-benchmark -c %s -d %s -r %s, about %ss per figure; ops/s and p50/p99 latency in ms\n\n' "$CLIENTS" "$DATA" "$KEYS" "$SECS"
	fmt='%-5s %3s | %9s %6s %7s | %9s %6s %7s | %9s %6s %7s | %9s %6s %7s | %5s %5s %5s | %s\n'
	printf "$fmt" test P "lc-always" p50 p99 "lc-no" p50 p99 "redis" p50 p99 "redis-aof" p50 p99 "A/red" "A/aof" "N/red" "issue-16 targets"
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
				[ -z "${BENCH_CSV:-}" ] || echo "$t,$p,$name,$r,$MODE_NAME" >>"$BENCH_CSV"
			done
			a=${row[0]} n=${row[3]} red=${row[6]} aof=${row[9]}
			printf "$fmt" "${t^^}" "$p" "${row[@]}" "$(ratio "$a" "$red")" "$(ratio "$a" "$aof")" "$(ratio "$n" "$red")" \
				"$(targets "$t" "$p" "$(ratio "$a" "$red")" "$(ratio "$a" "$aof")" "${row[1]}")"
		done
		for name in "${NAMES[@]}"; do
			[ -z "${UNSUPPORTED[$t,$name]:-}" ] || echo "           $name: $(cut -c1-100 <<<"${UNSUPPORTED[$t,$name]}")"
		done
	done
	printf '\nserver CPU time per request, microseconds (user+system, all threads)\n\n'
	cfmt='%-5s %3s | %9s %9s %9s %9s | %5s %5s\n'
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
}

[ -z "${BENCH_CSV:-}" ] || echo "test,pipeline,server,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms,cpu_us_per_op,mode" >"$BENCH_CSV"
for mode in $(pin_modes); do
	MODE_NAME=free
	[ "$mode" = 0 ] || MODE_NAME=pinned
	run_mode "$mode"
done
cat <<EOF

A/red = lc-always / redis, A/aof = lc-always / redis-aof, N/red = lc-no / redis (ops/s).
n/a: the server answered the test's command with the reply below the test.
Issue 16's targets, single node, in each mode: GET >= 1.0x redis at -P 1
and -P $PIPE; SET and INCR >= 1.2x redis-aof at -P 1; SET >= 1.0x redis-aof
at -P $PIPE; p50 < 0.5 ms for GET, SET and INCR at -P 1 (meant at -c 50).
On a shared machine ops/s follow its load; CPU per request moves far less.
EOF
