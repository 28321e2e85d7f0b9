# Helpers for integration tests: sourced by each t_*.sh. Every test gets
# its own database and queue on the real servers that ci/services runs.
# shellcheck shell=bash
set -eu

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
BIN=${TQ_BIN:-$ROOT/bin}
TEST=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/tq-$TEST.XXXXXX")
PIDS=()

eval "$("$ROOT/ci/services" env)"
DB=tq_${TEST//-/_}
export TQ_MYSQL_URL="mysql://tq:tq@127.0.0.1:${TQ_MYSQL_PORT:-23306}/$DB"
export TQ_QUEUE="$TEST.$$"
export TQ_LOG_LEVEL=${TQ_LOG_LEVEL:-info}
# Tests do not wait for production-sized grace periods.
export TQ_PENDING_GRACE_MS=${TQ_PENDING_GRACE_MS:-1000}
export TQ_BACKOFF_BASE_MS=${TQ_BACKOFF_BASE_MS:-100}
export TQ_BACKOFF_CAP_MS=${TQ_BACKOFF_CAP_MS:-1000}

# root_sql ARGS...: the mariadb client as the server's root (through the
# socket), e.g. root_sql -e "CREATE USER ...".
root_sql() {
	mariadb --no-defaults --socket="${TQ_VAR:-$ROOT/var}/mysql/mysqld.sock" -uroot "$@"
}

sql() {
	mariadb --no-defaults -h127.0.0.1 -P"${TQ_MYSQL_PORT:-23306}" -utq -ptq \
		-N -B "$DB" -e "$1"
}

fail() {
	printf 'FAIL %s: %s\n' "$TEST" "$*" >&2
	exit 1
}

note() {
	printf '  %s: %s\n' "$TEST" "$*" >&2
}

# Set by services_touch: this test stops or kills a server, and cleanup
# must bring it back whatever happened.
SERVICES_TOUCHED=0
# tq queues besides TQ_QUEUE that the test uses (deleted by cleanup).
QUEUES=()

cleanup() {
	local rc=$? p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && sleep 0.5
		kill -KILL "$p" 2>/dev/null || true
	done
	# Reap them here, so that bash does not report "Killed" later.
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "$SERVICES_TOUCHED" -ne 0 ]; then
		if ! "$ROOT/ci/services" up >"$T/services-up.log" 2>&1; then
			printf '  %s: ci/services up FAILED in cleanup:\n' "$TEST" >&2
			tail -n 20 "$T/services-up.log" >&2
			rc=1
		fi
	fi
	# The test's broker queues: quorum queues left behind pile up in the
	# broker (and slow its restarts).
	for p in "$TQ_QUEUE" "${QUEUES[@]}"; do
		rmqctl delete_queue "tq.$p" >/dev/null 2>&1 || true
	done
	if [ "$rc" -ne 0 ]; then
		printf '  logs kept in %s\n' "$T" >&2
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			printf '  --- %s (tail)\n' "$f" >&2
			tail -n 15 "$f" >&2
		done
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
# A signal must still run cleanup (which may have a server to restart).
trap 'exit 130' INT
trap 'exit 143' TERM

# A fresh database with the schema.
fresh_db() {
	mariadb --no-defaults -h127.0.0.1 -P"${TQ_MYSQL_PORT:-23306}" -utq -ptq \
		-e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
	"$BIN/tq" migrate >/dev/null
}

# start_worker NAME [ARGS...]: a tq-worker in the background, log in $T.
start_worker() {
	local name=$1
	shift
	"$BIN/tq-worker" "$@" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	echo $!
}

# expect RC NAME COMMAND...: COMMAND (stdin /dev/null) exits RC; its
# output in $T/NAME.out and $T/NAME.err.
expect() {
	local want=$1 name=$2 rc
	shift 2
	set +e
	"$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	rc=$?
	set -e
	[ "$rc" -eq "$want" ] ||
		fail "$name: exited $rc, want $want; stderr: $(head -c 600 "$T/$name.err")"
}

# wait_for SECS COMMAND...: polls until COMMAND succeeds.
wait_for() {
	local secs=$1 end
	shift
	end=$(($(date +%s) + secs))
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

count_state() {
	sql "SELECT COUNT(*) FROM tasks WHERE state = '$1'"
}

# ---- ids, SQL ----

# SQL: a task id column as the canonical text tq prints.
ID_TXT="LOWER(INSERT(INSERT(INSERT(INSERT(HEX(id),21,0,'-'),17,0,'-'),13,0,'-'),9,0,'-'))"

# SQL: the id literal for the text form.
idsql() {
	printf "UNHEX(REPLACE('%s','-',''))" "$1"
}

# task_col ID EXPR: one value of the task's row.
task_col() {
	sql "SELECT $2 FROM tasks WHERE id = $(idsql "$1")"
}

# A fresh random UUID (any version: only its bytes matter to tq).
new_uuid() {
	cat /proc/sys/kernel/random/uuid
}

# ---- workers ----

# wait_log NAME PATTERN [SECS]: waits until $T/NAME.log has a line
# matching the extended regexp PATTERN.
wait_log() {
	wait_for "${3:-30}" grep -Eqs -- "$2" "$T/$1.log"
}

# count_log NAME PATTERN: lines of $T/NAME.log matching PATTERN.
count_log() {
	grep -Ec -- "$2" "$T/$1.log" || true
}

# wait_consuming NAME: the worker has declared its queue and consumes.
# (Two clients declaring a new quorum queue at once can make the broker
# fail the first consume with 541; the worker then reconnects.)
wait_consuming() {
	wait_log "$1" 'event=(consuming|broker_reconnected)' 30 ||
		fail "worker $1 did not start consuming"
}

# alive PID: the process runs (and is not a zombie).
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# ---- bulk tasks ----

# make_payloads N FILE: N distinct one-line payloads.
make_payloads() {
	local tag
	tag=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	seq 1 "$1" | awk -v tag="$tag" '{ printf "p%s-%06d-%s\n", tag, $1, substr("abcdefghijklmnopqrstuvwxyz", 1 + $1 % 26) }' >"$2"
}

# check_echo IDS PAYLOADS: line i of IDS is the id submit printed for line
# i of PAYLOADS; every such task succeeded with result = its payload.
check_echo() {
	local n
	n=$(wc -l <"$1")
	[ "$n" -eq "$(wc -l <"$2")" ] || fail "$1: $n ids for $(wc -l <"$2") payloads"
	paste -d' ' "$1" "$2" | sort >"$T/expect.txt"
	sql "SELECT $ID_TXT, result FROM tasks WHERE state = 'succeeded' AND result = payload" |
		tr '\t' ' ' | sort >"$T/actual.txt"
	comm -23 "$T/expect.txt" "$T/actual.txt" >"$T/missing.txt"
	[ ! -s "$T/missing.txt" ] ||
		fail "$(wc -l <"$T/missing.txt") of $n tasks did not succeed with result = payload, e.g. $(head -n 3 "$T/missing.txt" | tr '\n' ' ')"
}

# ledger_done_succeeded: "COUNT ID" for every id with 'done ... succeeded'
# lines in the ledgers under $T/ledger.
ledger_done_succeeded() {
	cat "$T"/ledger/*.log 2>/dev/null |
		awk '$1 == "done" && $4 == "succeeded" { n[$2]++ } END { for (i in n) print n[i], i }'
}

# check_ledger_once IDS [KILLED_PIDS]: each id has exactly one 'done ...
# succeeded'. With KILLED_PIDS (workers the test SIGKILLed), an id may lack
# its line only when the database shows its one succeeded run was recorded
# by one of those workers: killed between its commit and its ledger write.
check_ledger_once() {
	local bad missing id pid excused=0
	ledger_done_succeeded >"$T/done.txt"
	bad=$(awk '$1 > 1' "$T/done.txt" | wc -l)
	[ "$bad" -eq 0 ] ||
		fail "$bad tasks completed more than once (ledgers), e.g. $(awk '$1 > 1' "$T/done.txt" | head -n 3 | tr '\n' ' ')"
	awk '{ print $2 }' "$T/done.txt" | sort >"$T/done-ids.txt"
	sort "$1" | comm -23 - "$T/done-ids.txt" >"$T/no-done.txt"
	if [ $# -ge 2 ] && [ -s "$T/no-done.txt" ]; then
		: >"$T/no-done-left.txt"
		while read -r id; do
			pid=$(sql "SELECT SUBSTRING_INDEX(SUBSTRING_INDEX(owner, ':', 2), ':', -1) FROM task_runs WHERE task_id = UNHEX(REPLACE('$id','-','')) AND outcome = 'succeeded'")
			if [ -n "$pid" ] && grep -qx "$pid" "$2"; then
				excused=$((excused + 1))
			else
				echo "$id" >>"$T/no-done-left.txt"
			fi
		done <"$T/no-done.txt"
		mv "$T/no-done-left.txt" "$T/no-done.txt"
		[ "$excused" -eq 0 ] ||
			note "$excused tasks recorded succeeded by a worker SIGKILLed before its ledger line"
	fi
	missing=$(wc -l <"$T/no-done.txt")
	[ "$missing" -eq 0 ] ||
		fail "$missing tasks have no 'done succeeded' ledger line, e.g. $(head -n 3 "$T/no-done.txt" | tr '\n' ' ')"
}

# check_runs_once N: every task has exactly one succeeded run, N in all.
check_runs_once() {
	local got multi
	got=$(sql "SELECT COUNT(*) FROM task_runs WHERE outcome = 'succeeded'")
	multi=$(sql "SELECT COUNT(*) FROM (SELECT task_id FROM task_runs WHERE outcome = 'succeeded' GROUP BY task_id HAVING COUNT(*) > 1) x")
	[ "$multi" -eq 0 ] || fail "$multi tasks have more than one succeeded run in task_runs"
	[ "$got" -eq "$1" ] || fail "task_runs has $got succeeded runs, want $1"
}

# reexecutions: tasks with more than one 'run' line in the ledgers.
reexecutions() {
	cat "$T"/ledger/*.log 2>/dev/null |
		awk '$1 == "run" { n[$2]++ } END { k = 0; for (i in n) if (n[i] > 1) k++; print k }'
}

# wait_progress SECS STALL N: waits until N tasks are terminal (succeeded,
# failed or cancelled). Returns 1 after SECS in all, or as soon as no task
# has changed state for STALL seconds.
wait_progress() {
	local end=$(($(date +%s) + $1)) stall=$2 want=$3 last="" seen now
	seen=$(date +%s)
	while :; do
		now=$(sql "SELECT COUNT(*), IFNULL(SUM(state IN ('succeeded','failed','cancelled')), 0), IFNULL(MAX(updated_at), 0) FROM tasks" | tr '\t' ' ')
		[ "$(echo "$now" | awk '{ print $2 }')" -eq "$want" ] && return 0
		if [ "$now" != "$last" ]; then
			last=$now
			seen=$(date +%s)
		fi
		[ "$(date +%s)" -lt "$end" ] || return 1
		[ "$(($(date +%s) - seen))" -lt "$stall" ] || return 1
		sleep 0.2
	done
}

# check_progress ID: the progress that task ID reports while it runs (its
# handler says "30% reading", then "60% shouting") is seen by tq show
# within 4 s; FAIL otherwise.
check_progress() {
	local id=$1 seen="" i
	for i in $(seq 1 40); do
		seen=$("$BIN/tq" show "$id" | sed -n 's/^progress: *//p')
		case "$seen" in 30%*|60%*) break ;; esac
		sleep 0.1
	done
	note "progress seen while running: $seen"
	case "$seen" in 30%\ reading|60%\ shouting) ;; *) fail "progress not visible: '$seen'" ;; esac
}

# flaky_handler FILE: a task program that fails ("flag missing", exit 3)
# until $T/flag exists, then echoes its payload.
flaky_handler() {
	cat >"$1" <<SH
#!/bin/sh
[ -e "$T/flag" ] || { echo "flag missing" >&2; exit 3; }
cat
SH
	chmod +x "$1"
}

# ---- servers ----

VAR=${TQ_VAR:-$ROOT/var}

# rmqtool TOOL ARGS: a RabbitMQ CLI tool (rabbitmqctl, rabbitmq-queues)
# against the private broker of ci/services.
rmqtool() {
	local tool=$1 dist=${TQ_DIST_PORT:-21673} bin=/usr/lib/rabbitmq/bin
	shift
	[ -x "$bin/$tool" ] || bin=$(dirname "$(command -v "$tool" || echo "/usr/sbin/$tool")")
	HOME=$VAR/rabbitmq ERL_EPMD_PORT=${TQ_EPMD_PORT:-21369} \
		RABBITMQ_CTL_DIST_PORT_MIN=$((dist + 1)) \
		RABBITMQ_CTL_DIST_PORT_MAX=$((dist + 11)) \
		timeout 30 "$bin/$tool" -q -n tq@localhost "$@"
}

# rmqctl ARGS: rabbitmqctl against the private broker.
rmqctl() {
	rmqtool rabbitmqctl "$@"
}

# queue_depth NAME: messages in the broker queue NAME (full name).
queue_depth() {
	rmqctl list_queues name messages | awk -v q="$1" '$1 == q { print $2; f = 1 } END { if (!f) print 0 }'
}

# services_touch: from now on cleanup runs `ci/services up`.
services_touch() {
	SERVICES_TOUCHED=1
}

# server_pid broker|db: pid of beam.smp / mariadbd from its pid file.
server_pid() {
	local file comm p=""
	case $1 in
	broker) file=$VAR/rabbitmq/rabbitmq.pid comm=beam.smp ;;
	db) file=$VAR/mysql/mysqld.pid comm=mariadbd ;;
	esac
	[ -f "$file" ] && read -r p <"$file"
	case $p in '' | *[!0-9]*) return 1 ;; esac
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$comm" ] || return 1
	echo "$p"
}

# kill_server broker|db: SIGKILL and wait until the process is gone.
kill_server() {
	local pid
	pid=$(server_pid "$1") || fail "no $1 pid to kill"
	services_touch
	kill -KILL "$pid"
	wait_for 30 eval "! alive $pid" || fail "$1 (pid $pid) survived SIGKILL"
}

# services_up: brings every server back (and waits for it).
services_up() {
	"$ROOT/ci/services" up >"$T/services-up.log" 2>&1 ||
		{ cat "$T/services-up.log" >&2; fail "ci/services up failed"; }
}

# ======================================================================
# Supervisor helpers (t_sup_*.sh). A separate block: nothing above uses
# it, and tests that start no supervisor behave exactly as before.
# ======================================================================

SUPS=()			# names given to sup_start, in order
declare -A SUP_PID=()	# name -> pid of its latest tq-supervisor
SUP_RC=0		# exit status seen by the last sup_stop

# ms_now: wall clock in milliseconds.
ms_now() {
	echo $(($(date +%s%N) / 1000000))
}

# sup_ctl NAME: the control socket of supervisor NAME (its directory is
# $T/ctl-NAME, mode 0700).
sup_ctl() {
	echo "$T/ctl-$1/sock"
}

# sup_start NAME ARGS...: a tq-supervisor in the background with
# --control $(sup_ctl NAME) ARGS; output appended to $T/NAME.log. Sets
# SUP_PID[NAME]. The same NAME again restarts with the same control socket.
sup_start() {
	local name=$1
	shift
	[ -d "$T/ctl-$name" ] || mkdir -m 700 "$T/ctl-$name"
	"$BIN/tq-supervisor" --control "$(sup_ctl "$name")" "$@" \
		>>"$T/$name.log" 2>&1 &
	SUP_PID[$name]=$!
	PIDS+=($!)
	SUPS+=("$name")
}

# sup_json NAME: `tq workers --json` of supervisor NAME.
sup_json() {
	"$BIN/tq" workers --json --control "$(sup_ctl "$1")"
}

# sup_workers NAME: one line "SLOT PID STATE TASK" per worker slot of
# supervisor NAME (TASK is - when none); fails when the socket does not
# answer.
sup_workers() {
	local out
	out=$(sup_json "$1" 2>/dev/null) || return 1
	printf '%s\n' "$out" | awk '
		/^  "workers": \[/ { inw = 1; next }
		inw && /^  \]/ { inw = 0; next }
		inw && /^    \{/ { slot = pid = st = task = "-"; next }
		inw && /^    \}/ { print slot, pid, st, task; next }
		inw {
			line = $0
			sub(/^ +/, "", line)
			sub(/,$/, "", line)
			k = line
			sub(/^"/, "", k)
			sub(/".*/, "", k)
			v = line
			sub(/^"[^"]*": */, "", v)
			gsub(/"/, "", v)
			if (k == "slot") slot = v
			else if (k == "pid") pid = v
			else if (k == "state") st = v
			else if (k == "task") task = (v == "null" ? "-" : v)
		}'
}

# sup_up_pids NAME: pids of the workers that are up (idle or busy).
sup_up_pids() {
	sup_workers "$1" | awk '$3 == "idle" || $3 == "busy" { print $2 }'
}

# sup_wait_up NAME N [SECS]: N workers of NAME are idle or busy.
sup_wait_up() {
	local name=$1 n=$2
	_sup_n_up() { [ "$(sup_up_pids "$name" | wc -l)" -eq "$n" ]; }
	wait_for "${3:-30}" _sup_n_up
}

# sup_wait_ready NAME N [SECS]: N workers of NAME are up and each has
# logged that it consumes (a worker whose first consume failed reconnects).
sup_wait_ready() {
	local name=$1 n=$2
	_sup_n_ready() {
		local p k=0
		for p in $(sup_up_pids "$name"); do
			grep -Eq "tq-worker\[$p\] .*event=(consuming|broker_reconnected)" \
				"$T/$name.log" && k=$((k + 1))
		done
		[ "$k" -eq "$n" ]
	}
	wait_for "${3:-30}" _sup_n_ready
}

# sup_pool_field NAME KEY: KEY of the first pool in `tq workers --json`.
sup_pool_field() {
	sup_json "$1" | awk -v k="\"$2\":" '
		/^  "pools": \[/ { inp = 1; next }
		inp && /^  \]/ { exit }
		inp && $1 == k { v = $2; sub(/,$/, "", v); gsub(/"/, "", v); print v; exit }'
}

# sup_leader_holder: the holder of the reconciler lease ("node/instance"),
# when the lease is current.
sup_leader_holder() {
	sql "SELECT holder FROM tq_leader WHERE name = 'reconciler' AND expires_at > NOW(6)"
}

# test_workers: pids of live tq-worker processes of this test (their
# environment has this test's TQ_MYSQL_URL), whoever started them.
test_workers() {
	local d c p
	for d in /proc/[0-9]*; do
		c=
		{ read -r c <"$d/comm"; } 2>/dev/null || continue
		[ "$c" = tq-worker ] || continue
		p=${d#/proc/}
		alive "$p" || continue
		{ tr '\0' '\n' <"$d/environ"; } 2>/dev/null |
			grep -qxF "TQ_MYSQL_URL=$TQ_MYSQL_URL" && echo "$p"
	done
	return 0
}

# alive_of PID...: those of the PIDs that still run.
alive_of() {
	local p
	for p in "$@"; do
		alive "$p" && echo "$p"
	done
	return 0
}

# sup_children PID: pids of the tq-worker children of process PID.
sup_children() {
	pgrep -P "$1" -x tq-worker || true
}

# sup_stop NAME [SECS]: SIGTERM supervisor NAME and wait (SECS, default
# 40) for it to exit; SUP_RC is its exit status. Fails when it does not
# exit, when one of its workers is left 3 s after, or, once no supervisor
# of this test runs, when any tq-worker of this test is left.
sup_stop() {
	local name=$1 secs=${2:-40} pid=${SUP_PID[$1]} kids left n others=0
	kids=$(sup_children "$pid" | tr '\n' ' ')
	kill -TERM "$pid" 2>/dev/null || true
	if ! wait_for "$secs" eval "! alive $pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		fail "supervisor $name (pid $pid) still runs $secs s after SIGTERM"
	fi
	SUP_RC=0
	wait "$pid" 2>/dev/null || SUP_RC=$?
	# shellcheck disable=SC2086
	if ! wait_for 3 eval '[ -z "$(alive_of '"$kids"')" ]'; then
		# shellcheck disable=SC2086
		left=$(alive_of $kids | tr '\n' ' ')
		fail "workers of supervisor $name left after it exited: $left"
	fi
	for n in "${!SUP_PID[@]}"; do
		alive "${SUP_PID[$n]}" && others=$((others + 1))
	done
	[ "$others" -eq 0 ] || return 0
	_sup_no_workers() { [ -z "$(test_workers)" ]; }
	if ! wait_for 3 _sup_no_workers; then
		left=$(test_workers | tr '\n' ' ')
		fail "tq-worker processes of this test left after its last supervisor exited: $left"
	fi
}

# Cleanup for tests that started supervisors: TERM them (KILL after 3 s),
# then KILL any tq-worker of this test that is left; then the usual
# cleanup (which keeps the exit status).
sup_cleanup() {
	local rc=$? n pid i
	set +e
	if [ "${#SUPS[@]}" -gt 0 ]; then
		# (stderr off: no "Killed" job notices from bash)
		{
			for n in "${!SUP_PID[@]}"; do
				kill -TERM "${SUP_PID[$n]}"
			done
			for n in "${!SUP_PID[@]}"; do
				pid=${SUP_PID[$n]}
				for i in $(seq 30); do
					alive "$pid" || break
					sleep 0.1
				done
				kill -KILL "$pid"
				wait "$pid"
			done
			for i in $(seq 30); do
				pid=$(test_workers)
				[ -n "$pid" ] || break
				# shellcheck disable=SC2086
				kill -KILL $pid
				sleep 0.1
			done
		} 2>/dev/null
		[ -z "$(test_workers)" ] ||
			printf '  %s: tq-worker processes survived cleanup: %s\n' \
				"$TEST" "$(test_workers | tr '\n' ' ')" >&2
	fi
	(exit "$rc")
	cleanup
}
trap sup_cleanup EXIT
