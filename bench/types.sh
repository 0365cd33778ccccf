#!/usr/bin/env bash
# bench/types.sh: memory of many small collections (issue 11), LoomCache
# against Redis 7.0 measured in the same run.
#
# Builds loomcache and, for each type in turn, starts on free loopback
# ports with fresh data dirs:
#   lc     loomcache single node (--fsync TYPES_FSYNC, default always)
#   redis  redis-server, no persistence (--save '' --appendonly no)
# loads N keys of ELEMS short elements each into both with redis-cli --pipe
# of one generated protocol file, reads INFO memory after a settle, and
# stops both (only the processes it started). The types:
#   hash    HSET h:I f0 v0000000 ... (field names f0.., 8-byte values)
#   list    RPUSH l:I e0000000 ...
#   set     SADD s:I m0000000 ...    (strings: a hashtable in Redis 7.0)
#   intset  SADD i:I 5I 5I+1 ...     (integers: an intset in both)
#   zset    ZADD z:I 0 m0000000 ...  (integer scores, 8-byte members)
# A type whose command the server answers with "unknown command" is n/a
# for that server, with the reply; the other server is still measured.
# It prints a table: each server's used_memory, bytes per key (the growth
# of used_memory over the load, per key) and their ratio, with the
# issue's target (LoomCache <= 1.5x Redis); then RSS and load times.
#
# Settings from the environment:
#   TYPES_KEYS    keys per type (default 1000000)
#   TYPES_ELEMS   elements per key (default 5)
#   TYPES_TYPES   the types measured (default hash,list,set,intset,zset)
#   TYPES_FSYNC   loomcache --fsync (default always; memory does not
#                 depend on it, only the load time does)
#   TYPES_SETTLE  seconds between the load and the reading (default 2)
#   BENCH_DIR, LOOMCACHE_BIN as for run.sh

# The tables' printf formats are variables, one per table.
# shellcheck disable=SC2059
set -euo pipefail

cd "$(dirname "$0")/.."

N="${TYPES_KEYS:-1000000}"
ELEMS="${TYPES_ELEMS:-5}"
TYPES="${TYPES_TYPES:-hash,list,set,intset,zset}"
FSYNC="${TYPES_FSYNC:-always}"
SETTLE="${TYPES_SETTLE:-2}"
for v in N ELEMS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || {
		echo "types: $v must be a positive integer, not '${!v}'" >&2
		exit 2
	}
done
[[ $SETTLE =~ ^[0-9]+$ ]] || {
	echo "types: TYPES_SETTLE must be a number of seconds, not '$SETTLE'" >&2
	exit 2
}

# The key prefix of each type.
declare -A PREFIX=([hash]=h: [list]=l: [set]=s: [intset]=i: [zset]=z:)
IFS=, read -ra TLIST <<<"$TYPES"
for t in "${TLIST[@]}"; do
	[ -n "${PREFIX[$t]:-}" ] || {
		echo "types: unknown type '$t' (hash, list, set, intset, zset)" >&2
		exit 2
	}
done

# shellcheck source=bench/lib.sh
source bench/lib.sh

log() { echo "types: $*" >&2; }
now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

# gen TYPE COUNT PREFIX: the protocol of COUNT keys PREFIXI of TYPE, one
# command a key. Element j of key i is numbered i*ELEMS+j, so every
# element is distinct and every value of a type has the same length.
gen() {
	awk -v type="$1" -v n="$2" -v prefix="$3" -v e="$ELEMS" '
	function bulk(s) { return sprintf("$%d\r\n%s\r\n", length(s), s) }
	BEGIN {
		split("hash HSET 2 list RPUSH 1 set SADD 1 intset SADD 1 zset ZADD 2", t, " ")
		for (k = 1; k < 15; k += 3) if (t[k] == type) { cmd = t[k + 1]; per = t[k + 2] }
		head = sprintf("*%d\r\n%s", 2 + per * e, bulk(cmd))
		for (i = 0; i < n; i++) {
			out = head bulk(prefix i)
			for (j = 0; j < e; j++) {
				x = i * e + j
				if (type == "hash") out = out bulk("f" j) bulk(sprintf("v%07d", x))
				else if (type == "list") out = out bulk(sprintf("e%07d", x))
				else if (type == "set") out = out bulk(sprintf("m%07d", x))
				else if (type == "intset") out = out bulk(x "")
				else out = out bulk(x "") bulk(sprintf("m%07d", x))
			}
			printf "%s", out
		}
	}'
}

# probe NAME TYPE: the reply to one key of TYPE if it is an error (the
# server does not know the command), else nothing; the key is deleted.
probe() {
	local out
	out=$(gen "$2" 1 __types_probe: | redis-cli -p "${PORT[$1]}" --pipe 2>&1 || true)
	redis-cli -p "${PORT[$1]}" DEL __types_probe:0 >/dev/null 2>&1 || true
	if ! grep -q 'errors: 0, replies: 1$' <<<"$out"; then
		grep -v -e '^All data transferred' -e '^Last reply received' -e '^errors: ' <<<"$out" | head -1
	fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
# perkey BEFORE AFTER: the growth per key.
perkey() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%.0f", (b - a) / n }'; }
# mark RATIO LIMIT
mark() { awk -v r="$1" -v l="$2" 'BEGIN { if (r == "-") print "-"; else if (r + 0 <= l + 0) print "PASS"; else print "FAIL" }'; }
# fig TYPE NAME WHAT: a result, or n/a for a type the server does not know.
fig() {
	if [ -n "${R[$1,$2,err]:-}" ]; then
		echo n/a
	else
		echo "${R[$1,$2,$3]}"
	fi
}

declare -A R # results: R[type,server,what]
for t in "${TLIST[@]}"; do
	start_loomcache lc "$FSYNC"
	start_redis redis --appendonly no
	wait_ready "${PORT[lc]}" lc
	wait_ready "${PORT[redis]}" redis
	PROTO=$WORK/$t.proto
	log "$t: generating $N keys of $ELEMS elements..."
	gen "$t" "$N" "${PREFIX[$t]}" >"$PROTO"
	for name in lc redis; do
		err=$(probe "$name" "$t")
		if [ -n "$err" ]; then
			R[$t,$name,err]=$err
			log "$t: $name answers: $err"
			continue
		fi
		R[$t,$name,mem0]=$(info "$name" used_memory)
		log "$t: loading into $name (redis-cli --pipe)..."
		START_NS=$(now_ns)
		out=$(timeout $((N / 500 + 600)) redis-cli -p "${PORT[$name]}" --pipe <"$PROTO" 2>&1) || {
			log "redis-cli --pipe into $name failed: $(tail -3 <<<"$out")"
			exit 1
		}
		R[$t,$name,load]=$(secs_since "$START_NS")
		grep -q "errors: 0, replies: $N\$" <<<"$out" || {
			log "redis-cli --pipe into $name: $(tail -3 <<<"$out")"
			exit 1
		}
		keys=$(redis-cli -p "${PORT[$name]}" DBSIZE)
		[ "$keys" = "$N" ] || {
			log "$name holds $keys keys after the load of $N"
			exit 1
		}
		R[$t,$name,enc]=$(redis-cli -p "${PORT[$name]}" OBJECT ENCODING "${PREFIX[$t]}$((N / 2))")
	done
	rm -f "$PROTO"
	sleep "$SETTLE"
	for name in lc redis; do
		[ -z "${R[$t,$name,err]:-}" ] || continue
		mem=$(info "$name" used_memory)
		R[$t,$name,mem]=$(mib "$mem")
		R[$t,$name,bpk]=$(perkey "${R[$t,$name,mem0]}" "$mem")
		R[$t,$name,rss]=$(mib "$(info "$name" used_memory_rss)")
	done
	stop lc
	stop redis
	rm -rf "${WORK:?}/lc" "${WORK:?}/redis"
done

# The tables.
printf '\n%s keys per type, %s elements each; LoomCache --fsync %s, Redis without persistence\n\n' "$N" "$ELEMS" "$FSYNC"
fmt='%-7s | %-9s %-9s | %10s %10s | %7s %7s | %8s  %s\n'
printf "$fmt" type "lc enc" "redis enc" "lc MiB" "redis MiB" "lc B/k" "red B/k" "lc/redis" "<= 1.5x"
for t in "${TLIST[@]}"; do
	cols=()
	for what in enc mem bpk; do
		for name in lc redis; do
			cols+=("$(fig "$t" "$name" "$what")")
		done
	done
	r=$(ratio "${cols[4]}" "${cols[5]}")
	printf "$fmt" "$t" "${cols[@]}" "$r" "$(mark "$r" 1.5)"
	for name in lc redis; do
		[ -z "${R[$t,$name,err]:-}" ] || echo "          $name: $(cut -c1-100 <<<"${R[$t,$name,err]}")"
	done
done

printf '\nprocess memory and load time\n\n'
fmt='%-7s | %10s %10s %8s | %8s %8s\n'
printf "$fmt" type "lc RSS" "redis RSS" "lc/redis" "lc load" "redis"
for t in "${TLIST[@]}"; do
	cols=("$(fig "$t" lc rss)" "$(fig "$t" redis rss)")
	cols+=("$(ratio "${cols[0]}" "${cols[1]}")" "$(fig "$t" lc load)" "$(fig "$t" redis load)")
	printf "$fmt" "$t" "${cols[@]}"
done
cat <<EOF

MiB: used_memory (INFO memory) ${SETTLE}s after the load. B/k: its growth over
the load per key, the data alone (a fresh server's own used_memory left
out); lc/redis is the ratio of these. LoomCache's used_memory is the
keyspace's count of its data, each allocation at its Go size class
(docs/keyspace.md); RSS is the whole process (MiB), Go's garbage included.
Load: seconds of redis-cli --pipe, one command a key (LoomCache: each
through Raft and its WAL, --fsync $FSYNC).
EOF
