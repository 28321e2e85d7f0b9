# One task of each built-in kind, end to end, with a standalone worker.
. "$(dirname "$0")/lib.sh"
fresh_db
start_worker w1 >/dev/null

id=$("$BIN/tq" submit tq.echo "hello world")
"$BIN/tq" wait --timeout 20 "$id" || fail "echo did not succeed"
[ "$(sql "SELECT result FROM tasks WHERE id = UNHEX(REPLACE('$id','-',''))")" = "hello world" ] ||
	fail "echo result differs"
"$BIN/tq" show --json "$id" | grep -q '"state": "succeeded"' || fail "show --json"

id=$(printf 'from stdin' | "$BIN/tq" submit tq.echo -)
"$BIN/tq" wait --timeout 20 "$id" || fail "stdin payload"
"$BIN/tq" show "$id" | grep -q '^result: *from stdin$' || fail "stdin result"

id=$("$BIN/tq" submit --max-attempts 3 tq.fail "on purpose")
set +e
"$BIN/tq" wait --timeout 30 "$id"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "wait on a failed task exited $rc, want 1"
[ "$(sql "SELECT CONCAT(state,' ',attempts,' ',error) FROM tasks WHERE id = UNHEX(REPLACE('$id','-',''))")" = "failed 3 on purpose" ] ||
	fail "tq.fail: want failed after 3 attempts with its error"
[ "$(sql "SELECT COUNT(*) FROM task_runs WHERE task_id = UNHEX(REPLACE('$id','-','')) AND outcome = 'failed'")" = 3 ] ||
	fail "tq.fail: want 3 failed runs"

id=$("$BIN/tq" submit no.such.task x)
set +e
"$BIN/tq" wait --timeout 20 "$id"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "unknown task: wait exited $rc"
"$BIN/tq" show "$id" | grep -q 'unknown task name' || fail "unknown task error"

id=$("$BIN/tq" submit tq.progress 300)
"$BIN/tq" wait --timeout 20 "$id" || fail "progress"

set +e
"$BIN/tq" wait --timeout 0.5 "$("$BIN/tq" submit tq.sleep 5000)"
rc=$?
set -e
[ "$rc" -eq 124 ] || fail "wait timeout exited $rc, want 124"
