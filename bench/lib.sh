# shellcheck shell=bash
# bench/lib.sh: what the bench scripts share — tool checks, a temp dir and
# cleanup of the processes a script started (only those), free ports,
# readiness, starting a node or a cluster's, stopping a server, INFO
# fields, and redis-benchmark runs parsed from its CSV. Sourced by
# run.sh, cluster.sh, cost.sh, tx.sh, scale.sh, types.sh, partitions.sh,
# pubsub.sh and datatypes.sh; the redis-benchmark helpers read SECS,
# CLIENTS, KEYS and DATA (-d, unset: redis-benchmark's 3 bytes).

for tool in go redis-server redis-cli redis-benchmark; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool not found (apt-get install redis-server redis-tools)" >&2
		exit 1
	}
done

WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/loomcache-bench.XXXXXX")
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# forget PID: drop a process that has ended from the ones cleanup stops,
# so that it never signals a number the system may reuse.
forget() {
	local keep=() p
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# Pinned mode (BENCH_PIN=1): every server this library starts runs on
# core 1 and redis-benchmark on core 0, so a comparison is per core and the
# client never takes a server's core. SRV and CLI are the commands' prefixes
# (empty: free, the scheduler places everything).
SRV=()
CLI=()

# pin_modes: the modes BENCH_PIN asks for, free (0) and/or pinned (1):
# unset both, one after the other; 0 or 1 that one. A machine with one
# core has nothing to pin to: pinned is dropped, and said so.
pin_modes() {
	local want
	case "${BENCH_PIN:-}" in
	"") want="0 1" ;;
	0 | 1) want=$BENCH_PIN ;;
	*)
		echo "bench: BENCH_PIN must be 0 or 1 (unset: both)" >&2
		exit 1
		;;
	esac
	if [[ $want == *1* ]] && { [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null; }; then
		echo "bench: one core (or no taskset): the pinned mode runs unpinned" >&2
		want=0
	fi
	echo "$want"
}

# pin MODE: sets SRV and CLI for a mode of pin_modes; PIN_LABEL names it.
pin() {
	if [ "$1" = 1 ]; then
		SRV=(taskset -c 1)
		CLI=(taskset -c 0)
		PIN_LABEL="pinned: servers on core 1, redis-benchmark on core 0"
	else
		SRV=()
		CLI=()
		PIN_LABEL="free: unpinned, the scheduler places every process"
	fi
}

# free_port prints a loopback port nothing listens on and that this run
# has not handed out yet, below the kernel's ephemeral range (a port there
# may be the local end of some connection: free to connect to, not to bind).
EPHEMERAL_LO=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
PORT_LO=$((EPHEMERAL_LO > 12000 ? EPHEMERAL_LO - 10000 : 2000))
TAKEN=" "
free_port() {
	local p
	for _ in $(seq 200); do
		p=$((PORT_LO + RANDOM % (EPHEMERAL_LO - PORT_LO)))
		[[ $TAKEN == *" $p "* ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			TAKEN+="$p "
			echo "$p"
			return
		fi
	done
	echo "bench: no free port found" >&2
	return 1
}

# wait_ready PORT NAME: until a write is answered with an integer.
wait_ready() {
	local out
	for _ in $(seq 300); do
		out=$(redis-cli -p "$1" DEL __bench_never_a_key__ 2>/dev/null || true)
		if [[ $out =~ ^[0-9]+$ ]]; then
			return
		fi
		sleep 0.1
	done
	echo "bench: $2 on port $1 never became ready; its log:" >&2
	cat "$WORK/$2.log" >&2 || true
	exit 1
}

LC="${LOOMCACHE_BIN:-}"
if [ -z "$LC" ]; then
	echo "building loomcache..." >&2
	go build -o "$WORK/loomcache" ./cmd/loomcache
	LC="$WORK/loomcache"
fi

declare -A PORT PID RAFT

# cluster_ports NODE...: free RESP and cluster ports for each node (PORT,
# RAFT) and the --cluster list naming them (CLUSTER).
cluster_ports() {
	local n
	for n in "$@"; do
		PORT[$n]=$(free_port)
		RAFT[$n]=$(free_port)
	done
	CLUSTER=$(for n in "$@"; do printf '%s=127.0.0.1:%s,' "$n" "${RAFT[$n]}"; done)
	CLUSTER=${CLUSTER%,}
}

# start_cluster_node ID [ARGS...]: node ID of the cluster cluster_ports
# named (data in $WORK/ID, log appended to $WORK/ID.log), with ARGS as
# further loomcache flags.
start_cluster_node() {
	local n=$1
	shift
	mkdir -p "$WORK/$n"
	"${SRV[@]}" "$LC" --id "$n" --addr "127.0.0.1:${PORT[$n]}" --raft-addr "127.0.0.1:${RAFT[$n]}" \
		--data-dir "$WORK/$n" --cluster "$CLUSTER" "$@" >>"$WORK/$n.log" 2>&1 &
	PIDS+=($!)
	PID[$n]=$!
}

# cluster_leader: prints the id of the node of NODES that says it leads
# (waits for one).
cluster_leader() {
	local n
	for _ in $(seq 300); do
		for n in "${NODES[@]}"; do
			if [ -n "${PID[$n]:-}" ] && redis-cli -p "${PORT[$n]}" INFO raft 2>/dev/null | grep -q '^raft_state:leader'; then
				echo "$n"
				return
			fi
		done
		sleep 0.1
	done
	echo "bench: no leader elected" >&2
	exit 1
}

start_loomcache() { # name fsync: a single node
	local name=$1 port raft
	port=$(free_port)
	raft=$(free_port)
	mkdir -p "$WORK/$name"
	"${SRV[@]}" "$LC" --id n1 --addr "127.0.0.1:$port" --raft-addr "127.0.0.1:$raft" \
		--data-dir "$WORK/$name" --fsync "$2" >"$WORK/$name.log" 2>&1 &
	PIDS+=($!)
	PID[$name]=$!
	PORT[$name]=$port
}

start_redis() { # name extra-args...
	local name=$1 port
	shift
	port=$(free_port)
	mkdir -p "$WORK/$name"
	"${SRV[@]}" redis-server --port "$port" --bind 127.0.0.1 --dir "$WORK/$name" --daemonize no \
		--logfile "$WORK/$name.log" --save '' "$@" &
	PIDS+=($!)
	PID[$name]=$!
	PORT[$name]=$port
}

# stop NAME: SIGTERM, wait (at most 120 s, then SIGKILL), and forget the
# pid so that cleanup never signals a number the system may reuse.
stop() {
	local pid=${PID[$1]}
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "bench: $1 did not stop in 120 s after SIGTERM: killing it" >&2
		kill -9 "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	forget "$pid"
	unset "PID[$1]"
}

# info NAME FIELD: one field of INFO.
info() {
	redis-cli -p "${PORT[$1]}" INFO 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f && !done { print $2; done = 1 }'
}

# bench_args TEST: redis-benchmark's arguments for a -t test name, after
# its options (a command line ends them). An
# lrange_N test is sent as the command line redis-benchmark's own sends
# ("LRANGE mylist 0 N-1"): -t lrange_N would first LPUSH as many requests
# into the list, in the same run, and the server's CPU time would count
# both; the list is filled beforehand instead (prepare).
#
# The data-type tests (datatypes.sh), which redis-benchmark has no -t
# for, are command lines too: xadd appends to one stream (ids from the
# server's clock), xread reads 10 entries of a stream prepare fills,
# pfadd and geoadd add a random element (member) of the key range to one
# key, setbit sets bit 1023 of a random key (redis-benchmark's
# __rand_int__ has leading zeros, which no bit offset may have).
bench_args() {
	case "$1" in
	lrange_[0-9]*) echo "LRANGE mylist 0 $((${1#lrange_} - 1))" ;;
	xadd) echo "XADD bench:xadd * sensor 7 value __rand_int__" ;;
	xread) echo "XREAD COUNT 10 STREAMS bench:xread 0-0" ;;
	pfadd) echo "PFADD bench:hll __rand_int__" ;;
	setbit) echo "SETBIT bits:__rand_int__ 1023 1" ;;
	geoadd) echo "GEOADD bench:geo 13.361389 38.115556 __rand_int__" ;;
	*) echo "-t $1" ;;
	esac
}

# bench PORT TEST PIPELINE N: one redis-benchmark run; prints the CSV row
# "rps,avg,min,p50,p95,p99,max" of the test. A run is cut off after
# 300 + 20 x SECS seconds: redis-benchmark waits forever for a server that
# died under it.
bench() {
	local args limit
	read -ra args <<<"$(bench_args "$2")"
	[ -z "${DATA:-}" ] || args=(-d "$DATA" "${args[@]}")
	limit=$(awk -v s="${SECS:-3}" 'BEGIN { print int(300 + 20 * s) }')
	"${CLI[@]}" timeout "$limit" redis-benchmark -p "$1" -P "$3" -n "$4" -c "$CLIENTS" -r "$KEYS" --csv "${args[@]}" 2>/dev/null |
		awk -F'","' 'NR > 1 { gsub(/"/, "", $NF); print $2","$3","$4","$5","$6","$7","$8; exit }'
}

# unsupported PORT TEST: the server's reply if it answers the test's
# command with "unknown command" (a command not implemented yet), else
# nothing. The probe key is deleted after.
unsupported() {
	local cmd=${2%%_*} out
	out=$(redis-cli -p "$1" "${cmd^^}" __bench_probe__ 2>&1 || true)
	redis-cli -p "$1" DEL __bench_probe__ >/dev/null 2>&1 || true
	if [[ $out == *"unknown command"* ]]; then
		echo "$out"
	fi
}

# fill_list PORT COUNT: RPUSH redis-benchmark's 3-byte value onto mylist
# until it holds COUNT elements, a thousand a command.
fill_list() {
	local have
	have=$(redis-cli -p "$1" LLEN mylist)
	[[ $have =~ ^[0-9]+$ ]] && [ "$have" -lt "$2" ] || return 0
	awk -v n=$(($2 - have)) 'BEGIN {
		while (n > 0) {
			k = n < 1000 ? n : 1000
			printf "*%d\r\n$5\r\nRPUSH\r\n$6\r\nmylist\r\n", k + 2
			for (i = 0; i < k; i++) printf "$3\r\nxxx\r\n"
			n -= k
		}
	}' | redis-cli -p "$1" --pipe >/dev/null
}

# fill_stream PORT: bench:xread holds 100 entries of two fields.
fill_stream() {
	[ "$(redis-cli -p "$1" XLEN bench:xread 2>/dev/null)" = 100 ] && return 0
	for i in $(seq 100); do
		printf 'XADD bench:xread %d-0 sensor %d value v%07d\n' "$i" $((i % 7)) "$i"
	done | redis-cli -p "$1" >/dev/null
}

# prepare PORT TEST N: what a test needs before N requests. LPOP and RPOP
# find the list holding N elements (an empty one would time nil replies);
# LRANGE_N finds it as long as redis-benchmark's own fill would make it;
# XREAD finds its stream.
prepare() {
	case "$2" in
	lpop | rpop | lrange_[0-9]*) fill_list "$1" "$3" ;;
	xread) fill_stream "$1" ;;
	esac
}

# cpu_ticks PID: the process's user+system CPU time in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

# gone NAME: a server died during a measurement; its log's tail.
gone() {
	echo "bench: $1 (pid ${PID[$1]}) is gone; the end of its log:" >&2
	tail -5 "$WORK/$1.log" >&2 || true
	exit 1
}

# measure_start NAME and measure_end NAME N: hooks around the measured run
# (not the probe) of N requests, run in measure's shell (so that what the
# first starts the second can wait for); what measure_end puts in
# MEASURE_EXTRA is appended to the row. A script redefines them (cost.sh
# counts fsyncs); here they do nothing.
measure_start() { :; }
measure_end() { :; }

# measure NAME TEST PIPELINE: a short probe sizes the run to about SECS
# seconds (at least 5000 requests, at most 5 million). Prints the CSV row
# plus the server's CPU time per request in microseconds (and what
# measure_end adds), or "unsupported,REPLY" if the server does not know the
# test's command.
measure() {
	local port=${PORT[$1]} probe rps n c0 row err
	err=$(unsupported "$port" "$2")
	if [ -n "$err" ]; then
		echo "unsupported,$err"
		return 0
	fi
	prepare "$port" "$2" $((2000 * $3))
	probe=$(bench "$port" "$2" "$3" $((2000 * $3)))
	rps=${probe%%,*}
	n=$(awk -v r="${rps:-0}" -v s="$SECS" 'BEGIN { n = int(r * s); if (n < 5000) n = 5000; if (n > 5000000) n = 5000000; print n }')
	prepare "$port" "$2" "$n"
	measure_start "$1"
	c0=$(cpu_ticks "${PID[$1]}") || gone "$1"
	row=$(bench "$port" "$2" "$3" "$n")
	row="$row,$(awk -v t=$(($(cpu_ticks "${PID[$1]}") - c0)) -v k="$TCK" -v n="$n" 'BEGIN { printf "%.2f", t * 1e6 / k / n }')"
	MEASURE_EXTRA=
	measure_end "$1" "$n"
	kill -0 "${PID[$1]}" 2>/dev/null || gone "$1"
	[ "${row%%,*}" != "" ] || return 0
	echo "$row${MEASURE_EXTRA:+,$MEASURE_EXTRA}"
}

# field ROW I: the I-th (1-based) comma-separated figure.
field() { cut -d, -f"$2" <<<"$1"; }

# ratio A B: A/B, or "-" when either is missing (n/a, unsupported, 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

# judge VALUE OP LIMIT: "met" or "not met" for VALUE OP LIMIT (OP ">=",
# "<" or "<="), "-" when VALUE is no figure.
judge() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v !~ /^[0-9.]+$/) { print "-"; exit }
		if (op == ">=") ok = v + 0 >= l + 0
		else if (op == "<=") ok = v + 0 <= l + 0
		else ok = v + 0 < l + 0
		print ok ? "met" : "not met"
	}'
}
