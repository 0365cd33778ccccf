#!/usr/bin/env bash
# bench/scale.sh: LoomCache against Redis 7.0 with millions of keys loaded
# (issue 9): memory, load time, SET/GET latency with the keys present, the
# SET p99 against an empty node, and restart-to-ready.
#
# Builds loomcache and starts, on free loopback ports with their own data
# dirs under the bench temp dir:
#   lc     loomcache single node, --fsync always
#   redis  redis-server --appendonly yes --appendfsync always
# then:
#   1. writes N SETs (keys key:%012d, the names redis-benchmark -r uses,
#      SIZE-byte values that LZF cannot shrink) once into a protocol file
#      and times redis-cli --pipe of it into each server;
#   2. reads INFO memory after the load and again after a settle;
#   3. redis-benchmark -t set, then -t get, -r N -d SIZE -c CLIENTS
#      against both, the keys present; the SET run again against a fresh,
#      empty loomcache node;
#   4. stops each server (SIGTERM), starts it on the same data and times
#      until GET of a loaded key returns its value (Redis reloads its AOF);
#      then Redis SAVEs and a redis-server with appendonly no is timed
#      loading that RDB.
# It prints one table with the ratios LoomCache/Redis and PASS/FAIL against
# the issue's targets, and stops every process it started, and only those.
#
# Options (or environment):
#   --keys N        keys loaded (SCALE_KEYS, default 1000000)
#   --size BYTES    value size (SCALE_SIZE, default 64)
#   --requests N    requests of each redis-benchmark run (SCALE_REQUESTS,
#                   default 200000)
#   --clients C     redis-benchmark -c (SCALE_CLIENTS, default 50)
#   --settle SECS   wait before the second memory reading (SCALE_SETTLE, 5)
# BENCH_DIR and LOOMCACHE_BIN as for run.sh.

# The tables' printf formats are variables, one per table.
# shellcheck disable=SC2059
set -euo pipefail

cd "$(dirname "$0")/.."

N="${SCALE_KEYS:-1000000}"
SIZE="${SCALE_SIZE:-64}"
REQUESTS="${SCALE_REQUESTS:-200000}"
CLIENTS="${SCALE_CLIENTS:-50}"
SETTLE="${SCALE_SETTLE:-5}"
while [ $# -gt 0 ]; do
	case "$1" in
	-h | --help) ;;
	*)
		[ $# -ge 2 ] || {
			echo "scale: $1 needs a value (see --help)" >&2
			exit 2
		}
		;;
	esac
	case "$1" in
	--keys) N=$2 ;;
	--size) SIZE=$2 ;;
	--requests) REQUESTS=$2 ;;
	--clients) CLIENTS=$2 ;;
	--settle) SETTLE=$2 ;;
	-h | --help)
		sed -n '2,/^$/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "scale: unknown option $1 (see --help)" >&2
		exit 2
		;;
	esac
	shift 2
done
for v in N SIZE REQUESTS CLIENTS SETTLE; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || {
		echo "scale: $v must be a positive integer, not '${!v}'" >&2
		exit 2
	}
done
# lib.sh's own benchmark helpers read these.
SECS=3
KEYS=$N

# shellcheck source=bench/lib.sh
source bench/lib.sh

log() { echo "scale: $*" >&2; }
now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

declare -A DIR

start_lc() { # name: a loomcache node on its ports and data dir (fixed on first start)
	local name=$1
	[ -n "${PORT[$name]:-}" ] || PORT[$name]=$(free_port)
	[ -n "${RAFT[$name]:-}" ] || RAFT[$name]=$(free_port)
	DIR[$name]=$WORK/$name
	mkdir -p "${DIR[$name]}"
	"$LC" --id n1 --addr "127.0.0.1:${PORT[$name]}" --raft-addr "127.0.0.1:${RAFT[$name]}" \
		--data-dir "${DIR[$name]}" --fsync always >>"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	PID[$name]=$!
}

start_rs() { # name dir extra-args...: a redis-server on its port (fixed on first start)
	local name=$1 dir=$2
	shift 2
	[ -n "${PORT[$name]:-}" ] || PORT[$name]=$(free_port)
	DIR[$name]=$dir
	mkdir -p "$dir"
	redis-server --port "${PORT[$name]}" --bind 127.0.0.1 --dir "$dir" --daemonize no \
		--logfile "$WORK/$name.log" --save '' "$@" &
	PIDS+=($!)
	PID[$name]=$!
}

# until_value NAME KEY VALUE: seconds from START_NS until GET KEY answers
# VALUE (at most 30 minutes: a 10M-key load is slow).
until_value() {
	local deadline=$((SECONDS + 1800))
	while [ "$(redis-cli -p "${PORT[$1]}" GET "$2" 2>/dev/null)" != "$3" ]; do
		if [ $SECONDS -ge $deadline ] || ! kill -0 "${PID[$1]}" 2>/dev/null; then
			log "$1 never answered GET $2 with its value; its log:"
			tail -20 "$WORK/$1.log" >&2 || true
			exit 1
		fi
		sleep 0.01
	done
	secs_since "$START_NS"
}

# until_pong NAME: seconds from START_NS until PING answers PONG (a
# loomcache node listens once its newest snapshot is restored; Redis
# listens before it loads, answering -LOADING).
until_pong() {
	local deadline=$((SECONDS + 1800))
	while [ "$(redis-cli -p "${PORT[$1]}" PING 2>/dev/null)" != PONG ]; do
		if [ $SECONDS -ge $deadline ] || ! kill -0 "${PID[$1]}" 2>/dev/null; then
			log "$1 never answered PING; its log:"
			tail -20 "$WORK/$1.log" >&2 || true
			exit 1
		fi
		sleep 0.01
	done
	secs_since "$START_NS"
}

# loaded_in NAME WHAT: the load time redis-server logged last ("DB loaded
# from WHAT: S seconds"), or "-".
loaded_in() {
	{ grep -o "DB loaded from $2: [0-9.]* seconds" "$WORK/$1.log" || true; } | tail -1 | awk '{ print $(NF - 1) } END { if (!NR) print "-" }'
}

# rbench NAME TEST: one redis-benchmark run with the keys of the load;
# prints "rps,avg,min,p50,p95,p99,max" (ms) from its CSV.
rbench() {
	local row
	row=$(timeout 1800 redis-benchmark -p "${PORT[$1]}" -t "$2" -n "$REQUESTS" -c "$CLIENTS" \
		-r "$N" -d "$SIZE" --csv 2>/dev/null |
		awk -F'","' 'NR == 2 { gsub(/"/, "", $NF); print $2","$3","$4","$5","$6","$7","$8 }')
	[ -n "$row" ] || {
		log "redis-benchmark -t $2 against $1 gave no figures"
		exit 1
	}
	echo "$row"
}

# 1. The load, generated once. A value is the key's number and then
# random letters and digits: distinct per key and with no repeats inside,
# so that neither server's snapshot compresses it away.
PROTO=$WORK/load.proto
log "generating $N SETs of $SIZE-byte values..."
awk -v n="$N" -v size="$SIZE" 'BEGIN {
	srand(9)
	c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for (i = 0; i < 2 * size; i++) base = base substr(c, int(rand() * 62) + 1, 1)
	for (i = 0; i < n; i++) {
		v = substr(sprintf("%012d", i) substr(base, 1 + i % size, size), 1, size)
		printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$%d\r\n%s\r\n", i, size, v
	}
}' >"$PROTO"

start_lc lc
start_rs redis "$WORK/redis" --appendonly yes --appendfsync always
wait_ready "${PORT[lc]}" lc
wait_ready "${PORT[redis]}" redis
log "servers: lc=:${PORT[lc]} redis=:${PORT[redis]}"

declare -A R # results: R[name,what]
for name in lc redis; do
	log "loading $N keys into $name (redis-cli --pipe)..."
	START_NS=$(now_ns)
	out=$(timeout $((N / 500 + 600)) redis-cli -p "${PORT[$name]}" --pipe <"$PROTO" 2>&1) || {
		log "redis-cli --pipe into $name failed: $out"
		exit 1
	}
	R[$name,load]=$(secs_since "$START_NS")
	grep -q "errors: 0, replies: $N\$" <<<"$out" || {
		log "redis-cli --pipe into $name: $out"
		exit 1
	}
	R[$name,dbsize]=$(redis-cli -p "${PORT[$name]}" DBSIZE)
done

# 2. Memory, right after the load and after a settle with no traffic (no
# DEBUG: LoomCache's collector runs when it likes).
for name in lc redis; do
	R[$name,mem0]=$(info "$name" used_memory)
	R[$name,rss0]=$(info "$name" used_memory_rss)
done
log "settling ${SETTLE}s..."
sleep "$SETTLE"
for name in lc redis; do
	R[$name,mem1]=$(info "$name" used_memory)
	R[$name,rss1]=$(info "$name" used_memory_rss)
done

# 3. Latency with the keys present, then the SET run on an empty node.
saves0=$(info lc rdb_saves)
for name in lc redis; do
	log "SET x $REQUESTS on $name..."
	R[$name,set]=$(rbench "$name" set)
done
R[lc,snapshots]=$(($(info lc rdb_saves) - saves0))
start_lc lc-empty
wait_ready "${PORT[lc-empty]}" lc-empty
log "SET x $REQUESTS on an empty loomcache node..."
R[lc-empty,set]=$(rbench lc-empty set)
stop lc-empty
rm -rf "${DIR[lc-empty]}"
for name in lc redis; do
	log "GET x $REQUESTS on $name..."
	R[$name,get]=$(rbench "$name" get)
done

# 4. Restart to ready: a key's value as it is now must come back.
KEY=$(printf 'key:%012d' $((N / 2)))
R[lc,tail]=$(($(info lc raft_applied_index) - $(info lc raft_last_snapshot_index)))
for name in lc redis; do
	want=$(redis-cli -p "${PORT[$name]}" GET "$KEY")
	size=$(redis-cli -p "${PORT[$name]}" DBSIZE)
	log "restarting $name..."
	stop "$name"
	START_NS=$(now_ns)
	if [ "$name" = lc ]; then
		start_lc lc
		R[lc,listen]=$(until_pong lc)
	else
		start_rs redis "$WORK/redis" --appendonly yes --appendfsync always
	fi
	R[$name,restart]=$(until_value "$name" "$KEY" "$want")
	[ "$(redis-cli -p "${PORT[$name]}" DBSIZE)" = "$size" ] || {
		log "$name has $(redis-cli -p "${PORT[$name]}" DBSIZE) keys after its restart, not $size"
		exit 1
	}
done
R[redis,disk]=$(du -sb "$WORK/redis/appendonlydir" | cut -f1)
R[redis,aoflog]=$(loaded_in redis 'append only file')
log "Redis SAVE and an RDB load..."
want=$(redis-cli -p "${PORT[redis]}" GET "$KEY")
redis-cli -p "${PORT[redis]}" SAVE >/dev/null
mkdir -p "$WORK/redis-rdb"
cp "$WORK/redis/dump.rdb" "$WORK/redis-rdb/"
R[redis,rdbsize]=$(du -sb "$WORK/redis-rdb/dump.rdb" | cut -f1)
stop redis
START_NS=$(now_ns)
start_rs redis-rdb "$WORK/redis-rdb" --appendonly no
R[redis,rdbload]=$(until_value redis-rdb "$KEY" "$want")
R[redis,rdblog]=$(loaded_in redis-rdb disk)
R[lc,disk]=$(du -sb "$WORK/lc" | cut -f1)
R[lc,snapsize]=$(find "$WORK/lc/snapshots" -name state.bin -printf '%T@ %s\n' | sort -n | awk 'END { print $2 + 0 }')

# The table.
field() { cut -d, -f"$2" <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
# mark RATIO LIMIT
mark() { awk -v r="$1" -v l="$2" 'BEGIN { if (r == "-") print "-"; else if (r + 0 <= l + 0) print "PASS"; else print "FAIL" }'; }
fmt='%-34s %12s %12s %9s  %-9s %s\n'
row() { # label lc redis [target-limit]
	local r
	r=$(ratio "$2" "$3")
	if [ -n "${4:-}" ]; then
		printf "$fmt" "$1" "$2" "$3" "$r" "<= ${4}x" "$(mark "$r" "$4")"
	else
		printf "$fmt" "$1" "$2" "$3" "$r" "" ""
	fi
}

printf '\n%s keys of %s bytes; redis-benchmark -c %s -n %s -r %s -d %s; LoomCache --fsync always, Redis appendonly yes appendfsync always\n\n' \
	"$N" "$SIZE" "$CLIENTS" "$REQUESTS" "$N" "$SIZE"
printf "$fmt" "" loomcache redis "lc/redis" target ""
row "keys after load (DBSIZE)" "${R[lc,dbsize]}" "${R[redis,dbsize]}"
row "load time (redis-cli --pipe), s" "${R[lc,load]}" "${R[redis,load]}"
row "used_memory after load, MiB" "$(mib "${R[lc,mem0]}")" "$(mib "${R[redis,mem0]}")"
row "used_memory after ${SETTLE}s settle, MiB" "$(mib "${R[lc,mem1]}")" "$(mib "${R[redis,mem1]}")" 1.3
row "used_memory_rss after load, MiB" "$(mib "${R[lc,rss0]}")" "$(mib "${R[redis,rss0]}")"
row "used_memory_rss after settle, MiB" "$(mib "${R[lc,rss1]}")" "$(mib "${R[redis,rss1]}")" 1.5
for t in set get; do
	T=${t^^}
	row "$T ops/s (keys loaded)" "$(printf '%.0f' "$(field "${R[lc,$t]}" 1)")" "$(printf '%.0f' "$(field "${R[redis,$t]}" 1)")"
	row "$T p50, ms" "$(field "${R[lc,$t]}" 4)" "$(field "${R[redis,$t]}" 4)"
	row "$T p99, ms" "$(field "${R[lc,$t]}" 6)" "$(field "${R[redis,$t]}" 6)"
	row "$T max, ms" "$(field "${R[lc,$t]}" 7)" "$(field "${R[redis,$t]}" 7)"
done
printf "$fmt" "snapshots during the SET run" "${R[lc,snapshots]}" "" "" "" ""
e=${R[lc-empty,set]}
printf "$fmt" "SET ops/s, empty lc node" "$(printf '%.0f' "$(field "$e" 1)")" "" "" "" ""
printf "$fmt" "SET p99 ms, empty lc node" "$(field "$e" 6)" "" "" "" ""
r=$(ratio "$(field "${R[lc,set]}" 6)" "$(field "$e" 6)")
printf "$fmt" "SET p99 keys loaded / empty (lc)" "$r" "" "" "<= 2x" "$(mark "$r" 2)"
row "on disk after the runs, MiB" "$(mib "${R[lc,disk]}")" "$(mib "${R[redis,disk]}")"
row "newest snapshot / RDB file, MiB" "$(mib "${R[lc,snapsize]:-0}")" "$(mib "${R[redis,rdbsize]}")"
printf "$fmt" "restart: lc listening, s" "${R[lc,listen]}" "" "" "" ""
row "restart to ready (lc / AOF), s" "${R[lc,restart]}" "${R[redis,restart]}"
row "restart (lc) vs Redis RDB load, s" "${R[lc,restart]}" "${R[redis,rdbload]}" 2
printf "$fmt" "Redis's logged AOF / RDB load, s" "" "${R[redis,aoflog]} / ${R[redis,rdblog]}" "" "" ""
cat <<EOF

Memory: LoomCache's used_memory is the keyspace's count of its data
(docs/keyspace.md), RSS the whole process; the targets are checked on the
reading after the settle. On disk: LoomCache's data dir (WAL and snapshots), Redis's
appendonlydir (aof-use-rdb-preamble yes). Restart: ready = GET $KEY
answers the value it had before the stop (SIGTERM); "lc listening" is when
it answers PING, once its newest snapshot is restored, before it replays
the ${R[lc,tail]} log entries after it and elects itself.
On a shared machine every figure follows its load; run it twice.
EOF
