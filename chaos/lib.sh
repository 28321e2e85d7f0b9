# chaos/lib.sh: the workload, the nemesis and the drain, shared by every
# scenario (chaos/scenarios/NAME.sh). A scenario sets knobs, defines
# nemesis(), and calls scenario_main.
# shellcheck shell=bash
set -eu

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
BIN=${TQ_BIN:-$ROOT/bin}
SCEN=${SCEN:-$(basename "$0" .sh)}
OUT=${TQ_CHAOS_OUT:-$ROOT/var/chaos}
RUN=$OUT/$SCEN
rm -rf "$RUN"
mkdir -p "$RUN/ledger" "$RUN/load"
mkdir -p -m 0700 "$RUN/ctl"

# knobs a scenario may change before scenario_main
NODES=${NODES:-1}
WORKERS=${WORKERS:-3}
RATE=${RATE:-200}		# tasks per second submitted
DURATION=${DURATION:-20}	# seconds of load
TASK_MS=${TASK_MS:-5}		# how long each task sleeps
DRAIN_S=${DRAIN_S:-90}		# how long the drain may take
ALLOW_FAILED=${ALLOW_FAILED:-0}
WATCH_ROWS=${WATCH_ROWS:-0}	# 1: record finished rows as they are seen
NODE_CONF=${NODE_CONF:-}	# a config file for the supervisors (and workers)

eval "$("$ROOT/ci/services" env)"
DIRECT_AMQP=$TQ_AMQP_URL
DB=tq_chaos_${SCEN//-/_}
DIRECT_MYSQL="mysql://tq:tq@127.0.0.1:${TQ_MYSQL_PORT:-23306}/$DB"
# A queue of its own per run: nothing left from an earlier run interferes.
export TQ_QUEUE=chaos.$SCEN.$$
export TQ_LEDGER_DIR=$RUN/ledger
export TQ_LOG_LEVEL=${TQ_LOG_LEVEL:-info}
export TQ_PENDING_GRACE_MS=${TQ_PENDING_GRACE_MS:-1000}
export TQ_NODE_TIMEOUT_MS=${TQ_NODE_TIMEOUT_MS:-3000}
export TQ_LEASE_MS=${TQ_LEASE_MS:-6000}
export TQ_MAX_ATTEMPTS=${TQ_MAX_ATTEMPTS:-25}
export TQ_BACKOFF_BASE_MS=${TQ_BACKOFF_BASE_MS:-100}
export TQ_BACKOFF_CAP_MS=${TQ_BACKOFF_CAP_MS:-1000}
export TQ_AMQP_HEARTBEAT=${TQ_AMQP_HEARTBEAT:-4}
export TQ_TIMEOUT_MS=${TQ_TIMEOUT_MS:-5000}

PROXY_PIDS=()
NODE_PID=()
LOAD_PID=
WATCH_PID=
NEMESIS_PID=

ms() { date +%s%3N; }
say() { printf '[%s %s] %s\n' "$(date +%T)" "$SCEN" "$*" >&2; }

sqlq() {
	mariadb --no-defaults -h127.0.0.1 -P"${TQ_MYSQL_PORT:-23306}" -utq -ptq \
		-N -B "$DB" -e "$1"
}

# ---- proxies: every client of the broker and the database goes through
# one, so that links can be cut, slowed and reset ----

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

proxy_start() {	# NAME UPSTREAM_PORT: sets PROXY_PORT, the listening port
	local name=$1 up=$2 port
	# (Not called in $(...): the pid must reach PROXY_PIDS, for cleanup.)
	port=$(free_port)
	"$BIN/tq-proxy" --name "$name" --listen "127.0.0.1:$port" \
		--upstream "127.0.0.1:$up" --control "$RUN/ctl/$name.sock" \
		>>"$RUN/proxy-$name.log" 2>&1 &
	PROXY_PIDS+=($!)
	for _ in $(seq 1 50); do
		[ -S "$RUN/ctl/$name.sock" ] && break
		sleep 0.05
	done
	PROXY_PORT=$port
}

proxy() {	# NAME COMMAND...: one control command, answer on stdout
	python3 - "$RUN/ctl/$1.sock" "${*:2}" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall((sys.argv[2] + "\n").encode())
print(s.makefile().readline().strip())
PY
}

# ---- faults are recorded with their times for the report ----

fault_start() { echo "$(ms) start $1" >>"$RUN/faults.log"; say "fault: $1"; }
fault_end() { echo "$(ms) end $1" >>"$RUN/faults.log"; say "fault over: $1"; }

# ---- nodes ----

node_start() {	# N
	local n=$1 conf=()
	[ -n "$NODE_CONF" ] && conf=(-c "$NODE_CONF")
	"$BIN/tq-supervisor" "${conf[@]}" --node "chaos-$n" --queue "$TQ_QUEUE" \
		--workers "$WORKERS" --control "$RUN/ctl/node-$n.sock" \
		--heartbeat-ms 200 --hang-timeout-ms 2000 \
		>>"$RUN/node-$n.log" 2>&1 &
	NODE_PID[$n]=$!
	# Every supervisor ever started, also by the nemesis (a subshell,
	# whose NODE_PID the main shell does not see), for the shutdown.
	echo "${NODE_PID[$n]}" >>"$RUN/nodes.pids"
}

node_pids_all() {	# every supervisor of the run still running
	local p
	for p in "${NODE_PID[@]}" $(cat "$RUN/nodes.pids" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = tq-supervisor ] && echo "$p"
	done | sort -u
}

node_kill() {	# N [SIG]
	kill "-${2:-KILL}" "${NODE_PID[$1]}" 2>/dev/null || true
}

workers_of() {	# N: pids of node N's workers
	pgrep -P "${NODE_PID[$1]}" -f tq-worker 2>/dev/null || true
}

node_kill_all() {	# N: kill -9 node N's supervisor and its workers
	local p
	# The workers by pid, found before the supervisor dies (a name
	# pattern would also match other runs' nodes of the same name).
	p=$(workers_of "$1")
	node_kill "$1" KILL
	# shellcheck disable=SC2086
	[ -n "$p" ] && kill -KILL $p 2>/dev/null
	return 0
}

all_workers() {
	local n
	for n in "${!NODE_PID[@]}"; do workers_of "$n"; done
}

random_worker() {
	all_workers | shuf -n 1
}

leader_node() {	# prints N of the node that leads
	local h
	h=$(sqlq "SELECT holder FROM tq_leader WHERE name='reconciler' AND expires_at > NOW(6)")
	h=${h%%/*}
	echo "${h#chaos-}"
}

# ---- the workload: a rate-limited generator that keeps its own ledger ----

load_run() {
	local per=$((RATE / 10)) seq=0 end batch ids pause=0.1
	# Below 10/s: one task per 1/RATE s.
	if [ "$per" -lt 1 ]; then
		per=1
		pause=$(awk -v r="$RATE" 'BEGIN{printf "%.3f", 1/r}')
	fi
	end=$(($(date +%s) + DURATION))
	while [ "$(date +%s)" -lt "$end" ]; do
		batch=$RUN/load/batch
		: >"$batch"
		for _ in $(seq 1 "$per"); do
			seq=$((seq + 1))
			echo "$TASK_MS r$$-$seq" >>"$batch"
		done
		sed 's/^/attempt /' "$batch" >>"$RUN/submit.ledger"
		if ids=$("$BIN/tq" submit --from "$batch" tq.chaos 2>>"$RUN/load/errors.log"); then
			paste -d' ' <(printf '%s\n' "$ids") "$batch" | sed 's/^/ack /' \
				>>"$RUN/submit.ledger"
		else
			echo "$(ms) submit failed" >>"$RUN/load/errors.log"
		fi
		sleep "$pause"
	done
}

# ---- finished rows as they are seen, for runs in which retention deletes
# them: what the checker falls back on when a worker's ledger could not
# say that its outcome was recorded (killed while its commit was on the
# wire). Straight to the database, not through the proxy; a read that
# fails adds nothing, and only whole answers are kept. ----

row_watch() {
	local tmp=$RUN/rows-seen.part
	while :; do
		if sqlq "SELECT LOWER(HEX(id)), state, name, attempts, HEX(payload),
		    IFNULL(HEX(result),'NULL'), fence FROM tasks
		    WHERE state IN ('succeeded','failed','cancelled')
		    AND queue = '$TQ_QUEUE' AND name = 'tq.chaos'" \
		    >"$tmp" 2>/dev/null; then
			cat "$tmp" >>"$RUN/rows-seen.tsv"
		fi
		sleep 0.2
	done
}

# ---- the run ----

cleanup() {
	local p
	[ -n "$NEMESIS_PID" ] && kill "$NEMESIS_PID" 2>/dev/null
	[ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null
	[ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null
	for p in $(node_pids_all); do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in $(node_pids_all); do kill -KILL "$p" 2>/dev/null || true; done
	for p in $(cat "$RUN/standalone.pids" 2>/dev/null); do
		kill -CONT "$p" 2>/dev/null || true
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "${PROXY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	declare -F scenario_cleanup >/dev/null && scenario_cleanup
	# servers a scenario stopped come back for whoever runs next
	"$ROOT/ci/services" up >/dev/null 2>&1 || true
}

# What the drain waits for, "UNFINISHED GONE": chaos rows short of the
# end, plus acknowledged tasks with no row (retention deletes finished
# ones) whose end no worker ledger records; GONE counts the latter. The
# database away: "1 0", not finished.
unfinished() {
	sqlq "SELECT LOWER(HEX(id)), state FROM tasks WHERE name = 'tq.chaos'" \
		>"$RUN/drain.tsv" 2>/dev/null || { echo "1 0"; return; }
	python3 "$ROOT/chaos/checker" --unfinished "$RUN" "$RUN/drain.tsv" 2>/dev/null ||
		echo "1 0"
}

scenario_main() {
	local t0 left gone gone_since end
	trap cleanup EXIT
	"$ROOT/ci/services" up >/dev/null
	mariadb --no-defaults -h127.0.0.1 -P"${TQ_MYSQL_PORT:-23306}" -utq -ptq \
		-e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
	TQ_MYSQL_URL=$DIRECT_MYSQL "$BIN/tq" migrate >/dev/null
	proxy_start db "${TQ_MYSQL_PORT:-23306}"
	DB_PROXY=$PROXY_PORT
	if [ -n "${BROKER_URLS:-}" ]; then
		# A broker cluster: clients fail over between its nodes.
		export TQ_AMQP_URL=$BROKER_URLS
	else
		proxy_start broker "${TQ_AMQP_PORT:-21672}"
		AMQP_PROXY=$PROXY_PORT
		export TQ_AMQP_URL="amqp://guest:guest@127.0.0.1:$AMQP_PROXY/%2f"
	fi
	export TQ_MYSQL_URL="mysql://tq:tq@127.0.0.1:$DB_PROXY/$DB"
	for n in $(seq 1 "$NODES"); do node_start "$n"; done
	sleep 1
	if [ "$WATCH_ROWS" = 1 ]; then
		row_watch &
		WATCH_PID=$!
	fi
	say "load: $RATE/s for ${DURATION}s, $NODES node(s) x $WORKERS workers"
	t0=$(ms)
	load_run &
	LOAD_PID=$!
	nemesis >>"$RUN/nemesis.log" 2>&1 &
	NEMESIS_PID=$!
	wait "$LOAD_PID" || true
	LOAD_PID=
	wait "$NEMESIS_PID" || true
	NEMESIS_PID=
	proxy broker clear >/dev/null 2>&1 || true
	proxy db clear >/dev/null 2>&1 || true
	say "drain (up to ${DRAIN_S}s)"
	end=$(($(date +%s) + DRAIN_S))
	gone_since=
	while :; do
		read -r left gone <<<"$(unfinished)"
		[ "$left" = 0 ] && break
		# Only tasks with no row and no recorded end are left: waiting
		# cannot bring a row back, so a few seconds (for a ledger line
		# on its way) and the checker judges them.
		if [ "$left" = "$gone" ]; then
			gone_since=${gone_since:-$(date +%s)}
			if [ $(($(date +%s) - gone_since)) -ge 5 ]; then
				say "drain: $gone acknowledged task(s) with no row and no recorded end"
				break
			fi
		else
			gone_since=
		fi
		[ "$(date +%s)" -lt "$end" ] || { say "drain timed out: $left unfinished ($gone with no row and no recorded end)"; break; }
		sleep 0.5
	done
	say "drained in $(( ($(ms) - t0) / 1000 ))s from start"
	local nodes
	nodes=$(node_pids_all)
	for p in $nodes $(cat "$RUN/standalone.pids" 2>/dev/null); do
		kill -CONT "$p" 2>/dev/null || true
		kill -TERM "$p" 2>/dev/null || true
	done
	# (A supervisor the nemesis restarted is not this shell's child.)
	for p in $nodes; do
		wait "$p" 2>/dev/null || true
		for _ in $(seq 1 300); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
	done
	for p in $(cat "$RUN/standalone.pids" 2>/dev/null); do
		for _ in $(seq 1 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ -n "$WATCH_PID" ]; then
		kill "$WATCH_PID" 2>/dev/null || true
		wait "$WATCH_PID" 2>/dev/null || true
		WATCH_PID=
	fi
	sqlq "SELECT LOWER(HEX(id)), state, name, attempts, HEX(payload), IFNULL(HEX(result),'NULL') FROM tasks" \
		>"$RUN/rows.tsv"
	local extra=() rc=0 why=""
	[ "$ALLOW_FAILED" = 1 ] && extra+=(--allow-failed)
	python3 "$ROOT/chaos/checker" "$RUN" --name "$SCEN" --json "$RUN/result.json" "${extra[@]}" || rc=$?
	# A scenario's own assertions (no false hang kills, the poison task
	# quarantined...) add to the checker's verdict.
	if declare -F extra_check >/dev/null; then
		if ! why=$(extra_check); then
			say "extra check failed: $why"
			result_fail "$why"
			rc=1
		fi
	fi
	if [ -n "${EXPECT_FAIL:-}" ]; then
		# A deliberately broken worker: the checker must catch it, for
		# the named reason.
		if [ "$rc" -ne 0 ] && grep -q "\"why\": \".*$EXPECT_FAIL" "$RUN/result.json"; then
			say "the checker caught the broken worker ($EXPECT_FAIL), as it must"
			result_expected
			return 0
		fi
		say "the checker did NOT catch the broken worker ($EXPECT_FAIL)"
		result_fail "broken worker not caught: expected $EXPECT_FAIL"
		return 1
	fi
	return "$rc"
}

result_fail() {	# REASON: marks result.json failed
	python3 - "$RUN/result.json" "$1" <<'PY'
import json, sys
p, why = sys.argv[1], sys.argv[2]
r = json.load(open(p))
r["ok"] = False
r["why"] = (r.get("why") + ", " if r.get("why") else "") + why
json.dump(r, open(p, "w"), indent=2)
PY
}

result_expected() {	# the failure was the point: record it as caught
	python3 - "$RUN/result.json" "$EXPECT_FAIL" <<'PY'
import json, sys
p, what = sys.argv[1], sys.argv[2]
r = json.load(open(p))
r["expected_failure"] = what
r["caught"] = True
r["why"] = "checker caught: " + r.get("why", "")
r["ok"] = True
json.dump(r, open(p, "w"), indent=2)
PY
}

# standalone workers (no supervisor), for stale-holder scenarios
standalone_start() {	# NAME [ENV=VAL...]
	local name=$1
	shift
	env "$@" "$BIN/tq-worker" --no-reconcile >>"$RUN/$name.log" 2>&1 &
	# nemesis() runs in a subshell: the pid goes through a file.
	echo $! >>"$RUN/standalone.pids"
	echo $!
}

kill_pidfile() {	# FILE: kill -9 and wait until the process is gone
	local p
	p=$(cat "$1" 2>/dev/null || true)
	[ -n "$p" ] || return 0
	kill -KILL "$p" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.05
	done
}

kill_broker() { kill_pidfile "$ROOT/var/rabbitmq/rabbitmq.pid"; }
kill_db() { kill_pidfile "$ROOT/var/mysql/mysqld.pid"; }

node_logs_count() {	# PATTERN: matches across node logs
	cat "$RUN"/node-*.log 2>/dev/null | grep -c -- "$1" || true
}
