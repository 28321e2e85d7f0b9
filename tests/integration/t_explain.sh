# No statement that runs on a timer reads history: with 60,000 finished
# rows and 200 live ones, each (store_timed[], run under ANALYZE by
# bin/explain) is an index range or a key lookup that reads at most 5,000
# rows, never a full scan of tasks or task_runs. The check itself must be
# able to fail: the former metrics and stats queries, which grouped the
# whole table, a count of one finished state, and the former update of a
# lone task's run (a one-pair row IN list, which MariaDB scans) are caught.
. "$(dirname "$0")/lib.sh"
fresh_db
# 60,000 finished tasks with a run each, over three queues, and 200 live
# ones: as tq leaves them, in bulk.
sql "INSERT INTO tasks (id, queue, name, state, payload, result, attempts,
	max_attempts, backoff_base_ms, backoff_cap_ms, fence, created_at,
	started_at, finished_at)
	SELECT UNHEX(LPAD(HEX(seq), 32, '0')), ELT(1 + seq % 3, 'default', 'b', 'c'),
	'tq.echo', ELT(1 + seq % 20, 'failed', 'cancelled', 'succeeded',
	'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded',
	'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded',
	'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded',
	'succeeded', 'succeeded'), 'p', 'p', 1, 3, 1000, 1000, 1,
	NOW(6) - INTERVAL 2 DAY, NOW(6) - INTERVAL 2 DAY,
	NOW(6) - INTERVAL 2 DAY + INTERVAL seq MICROSECOND
	FROM seq_1_to_60000"
sql "INSERT INTO task_runs (task_id, fence, attempt, owner, outcome,
	started_at, finished_at) SELECT id, 1, 1, 'n:1:x', state, started_at,
	finished_at FROM tasks"
sql "INSERT INTO tasks (id, queue, name, state, payload, attempts,
	max_attempts, backoff_base_ms, backoff_cap_ms, fence, owner, due_at)
	SELECT UNHEX(LPAD(HEX(1000000 + seq), 32, '0')), 'default', 'tq.echo',
	ELT(1 + seq % 4, 'pending', 'queued', 'scheduled', 'running'), 'p', 1,
	3, 1000, 1000, 1, IF(seq % 4 = 3, 'n:1:x', NULL), NOW(6)
	FROM seq_1_to_200"
# 1,000 finished children of finished parents (--after), and their rows.
sql "INSERT INTO task_deps (child, parent) SELECT
	UNHEX(LPAD(HEX(seq), 32, '0')), UNHEX(LPAD(HEX(seq + 30000), 32, '0'))
	FROM seq_1_to_1000"
sql "UPDATE tasks SET has_children = 1 WHERE id IN (SELECT parent FROM task_deps)"
# Every task under the limit key the checks ask for ('default'), the
# finished ones too: the limit statements must read live rows only.
sql "UPDATE tasks SET limit_key = 'default', limit_wait = IF(state = 'scheduled', 1, 0)"
sql "ANALYZE TABLE tasks, task_runs, task_deps" >/dev/null
"$BIN/explain" >"$T/plans" 2>&1 || {
	cat "$T/plans" >&2
	fail "a timed statement reads history"
}
grep -q '^explain: [0-9]* statements, 0 read history$' "$T/plans" ||
	fail "no verdict: $(tail -n 3 "$T/plans")"
# The check can fail: what /metrics and tq stats ran before.
for q in "SELECT queue, name, state, COUNT(*) FROM tasks GROUP BY queue, name, state ORDER BY queue, name, state" \
	"SELECT queue, state, COUNT(*) FROM tasks GROUP BY queue, state ORDER BY queue" \
	"SELECT queue, COUNT(*) FROM tasks WHERE state = 'succeeded' GROUP BY queue" \
	"UPDATE task_runs SET outcome = 'succeeded' WHERE (task_id, fence) IN ((?,?))" \
	"SELECT COUNT(*) FROM tasks WHERE limit_key = 'default' AND limit_wait = 1"; do
	set +e
	"$BIN/explain" "$q" bi >"$T/old" 2>&1
	rc=$?
	set -e
	[ "$rc" -eq 1 ] && grep -q '^FULL SCAN' "$T/old" ||
		fail "the former query was not caught (exit $rc): $(cat "$T/old")"
done
note "$(tail -n 1 "$T/plans")"
