# Retention: the leader deletes finished tasks past their window, with
# their runs, dependency rows and cron tick rows; a [queue] section's
# window wins over the global one, 0 keeps forever, a parent that a child
# still waits for is kept, and what is not finished is never touched.
# tq wait on a deleted task says it may have been deleted, and tq purge
# takes the same path.
. "$(dirname "$0")/lib.sh"
fresh_db
Q=$TQ_QUEUE
cat >"$T/tq.conf" <<EOC
[tq]
keep_succeeded = 2s
keep_failed = 0
keep_cancelled = 2s
[queue $Q.keep]
keep_succeeded = 1d
EOC
chmod 600 "$T/tq.conf"
# Rows as tq leaves them, finished an hour ago: old enough for 2s, not for
# the 1d of $Q.keep.
old() {	# HEXID QUEUE STATE [HAS_CHILDREN]
	sql "INSERT INTO tasks (id, queue, name, state, payload, result,
		attempts, max_attempts, backoff_base_ms, backoff_cap_ms, fence,
		has_children, created_at, started_at, finished_at)
		VALUES (UNHEX('$1'), '$2', 'tq.echo', '$3', 'p', 'p', 1, 3, 100,
		100, 1, ${4:-0}, NOW(6) - INTERVAL 2 HOUR,
		NOW(6) - INTERVAL 2 HOUR, NOW(6) - INTERVAL 1 HOUR);
		INSERT INTO task_runs (task_id, fence, attempt, owner, outcome,
		started_at, finished_at) VALUES (UNHEX('$1'), 1, 1, 'n:1:x',
		'$3', NOW(6) - INTERVAL 2 HOUR, NOW(6) - INTERVAL 1 HOUR)"
}
hx() { printf '0190000000007%03d8000%012d' "$1" "$1"; }
for i in $(seq 1 40); do old "$(hx "$i")" "$Q" succeeded; done
for i in $(seq 41 45); do old "$(hx "$i")" "$Q" cancelled; done
for i in $(seq 46 50); do old "$(hx "$i")" "$Q" failed; done
for i in $(seq 51 55); do old "$(hx "$i")" "$Q.keep" succeeded; done
# A cron tick row of a finished task goes with it.
sql "INSERT INTO tq_cron_ticks (name, tick, task_id) VALUES
	('t', NOW() - INTERVAL 1 HOUR, UNHEX('$(hx 1)'))"
# A finished parent that a live child waits for is kept (tq never leaves
# one, but retention must not trust that); a finished parent of a finished
# child goes, with the dependency row.
old "$(hx 60)" "$Q" succeeded 1
old "$(hx 61)" "$Q" succeeded 1
old "$(hx 62)" "$Q" succeeded
sql "INSERT INTO tasks (id, queue, name, state, payload, attempts,
	max_attempts, backoff_base_ms, backoff_cap_ms, waiting)
	VALUES (UNHEX('$(hx 63)'), '$Q', 'tq.echo', 'scheduled', 'p', 0, 3,
	100, 100, 1);
	INSERT INTO task_deps (child, parent) VALUES (UNHEX('$(hx 63)'),
	UNHEX('$(hx 60)')), (UNHEX('$(hx 62)'), UNHEX('$(hx 61)'))"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TQ_METRICS_LISTEN=127.0.0.1:$port sup_start ret -c "$T/tq.conf" --node ret --queue "$Q" --workers 1
# And tasks that finish while it runs: gone 2 s after they finished.
ids=""
for i in 1 2 3; do ids="$ids $("$BIN/tq" -c "$T/tq.conf" submit tq.echo "r$i")"; done
# shellcheck disable=SC2086
"$BIN/tq" -c "$T/tq.conf" wait --timeout 20 $ids || fail "tasks did not succeed"
gone() {
	[ "$(sql "SELECT COUNT(*) FROM tasks WHERE queue = '$Q' AND state IN ('succeeded', 'cancelled')")" = 1 ]
}
wait_for 30 gone || fail "retention left $(sql "SELECT COUNT(*) FROM tasks WHERE queue = '$Q' AND state IN ('succeeded','cancelled')") succeeded/cancelled rows, want 1 (the parent waited for)"
[ "$(task_col "$(hx 60)" state)" = succeeded ] || fail "a parent that a child waits for was deleted"
[ "$(task_col "$(hx 63)" state)" = scheduled ] || fail "the waiting child was touched"
[ "$(count_state failed)" = 5 ] || fail "keep_failed = 0 did not keep the failed tasks"
[ "$(sql "SELECT COUNT(*) FROM tasks WHERE queue = '$Q.keep'")" = 5 ] ||
	fail "[queue $Q.keep] keep_succeeded = 1d did not keep its tasks"
[ "$(sql "SELECT COUNT(*) FROM task_runs r LEFT JOIN tasks t ON t.id = r.task_id WHERE t.id IS NULL")" = 0 ] ||
	fail "runs of deleted tasks are left"
[ "$(sql "SELECT COUNT(*) FROM tq_cron_ticks")" = 0 ] || fail "the cron tick row of a deleted task is left"
[ "$(sql "SELECT COUNT(*) FROM task_deps")" = 1 ] || fail "dependency rows: $(sql "SELECT COUNT(*) FROM task_deps"), want 1"
# tq wait on a deleted task: not found, and why it may be.
set +e
"$BIN/tq" -c "$T/tq.conf" wait --timeout 5 "$(sql "SELECT $ID_TXT FROM tasks LIMIT 0")" 2>/dev/null
old_id=$(printf '%s' "$(hx 1)" | sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/')
"$BIN/tq" -c "$T/tq.conf" wait --timeout 5 "$old_id" 2>"$T/wait.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "tq wait on a deleted task exited $rc, want 1"
grep -q 'may have finished and been deleted by retention' "$T/wait.err" ||
	fail "tq wait does not say the task may have been deleted: $(cat "$T/wait.err")"
# tq stats still counts what finished (tq_rollup), and says how.
sleep 6
"$BIN/tq" -c "$T/tq.conf" stats --json >"$T/stats.json"
python3 -c "import json,sys; d=json.load(open('$T/stats.json')); sys.exit(0 if d['$Q']['succeeded'] >= 3 else 1)" ||
	fail "tq stats lost the finished tasks: $(cat "$T/stats.json")"
# The leader's count of what it deleted: 40 + 3 succeeded, the parent of
# a finished child, 5 cancelled.
curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics" || fail "no /metrics"
grep -q '^tq_retention_deleted_total{node="ret",state="succeeded"} 45$' "$T/metrics" &&
	grep -q '^tq_retention_deleted_total{node="ret",state="cancelled"} 5$' "$T/metrics" ||
	fail "tq_retention_deleted_total: $(grep '^tq_retention' "$T/metrics")"
# tq purge: the same path, per queue.
[ "$("$BIN/tq" -c "$T/tq.conf" purge -q "$Q.keep" --state succeeded --older-than 30m)" = "5 tasks purged" ] ||
	fail "purge -q did not delete the 5 tasks of $Q.keep"
[ "$("$BIN/tq" -c "$T/tq.conf" purge --state failed --older-than 2h)" = "0 tasks purged" ] ||
	fail "purge deleted failed tasks younger than 2h"
grep -q 'level=error' "$T/ret.log" && fail "errors: $(grep level=error "$T/ret.log" | head -3)"
true
