# Dependencies: a child runs only after its parents succeeded; when a
# parent fails, the child (and its own children) end cancelled, with the
# reason, and never run.
. "$(dirname "$0")/lib.sh"
fresh_db
start_worker w1 >/dev/null
start_worker w2 >/dev/null
idhex() { echo "UNHEX(REPLACE('$1','-',''))"; }
col() { sql "SELECT $2 FROM tasks WHERE id = $(idhex "$1")"; }

p1=$("$BIN/tq" submit tq.sleep 1000)
p2=$("$BIN/tq" submit tq.sleep 300)
c=$("$BIN/tq" submit --after "$p1,$p2" tq.echo child)
[ "$(col "$c" state)" = scheduled ] || fail "a child with running parents is not waiting"
"$BIN/tq" wait --timeout 20 "$c" || fail "the child did not succeed"
after=$(sql "SELECT (SELECT started_at FROM tasks WHERE id = $(idhex "$c")) >= (SELECT finished_at FROM tasks WHERE id = $(idhex "$p1"))")
[ "$after" = 1 ] || fail "the child started before its slower parent finished"

f=$("$BIN/tq" submit --max-attempts 1 tq.fail "parent fails")
k=$("$BIN/tq" submit --after "$f" tq.echo "never runs")
g=$("$BIN/tq" submit --after "$k" tq.echo "nor this")
set +e
"$BIN/tq" wait --timeout 20 "$k" "$g"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "wait on cancelled children exited $rc"
[ "$(col "$k" state)" = cancelled ] || fail "child of a failed parent: $(col "$k" state)"
col "$k" error | grep -q "parent $f failed" || fail "child's reason: $(col "$k" error)"
[ "$(col "$g" state)" = cancelled ] || fail "grandchild: $(col "$g" state)"
[ "$(sql "SELECT COUNT(*) FROM task_runs WHERE task_id IN ($(idhex "$k"), $(idhex "$g"))")" = 0 ] ||
	fail "a cancelled child ran"
# after a finished parent: at once (succeeded) or cancelled (failed)
s=$("$BIN/tq" submit --after "$p1" tq.echo "parent done")
"$BIN/tq" wait --timeout 10 "$s" || fail "child of a succeeded parent"
l=$("$BIN/tq" submit --after "$f" tq.echo late)
[ "$(col "$l" state)" = cancelled ] || fail "child of an already failed parent"
set +e
"$BIN/tq" submit --after 01a21b0d-63fc-704b-87b4-7e2def591ee0 tq.echo x 2>"$T/nope.err"
rc=$?
set -e
[ "$rc" -eq 100 ] && grep -q 'no such task' "$T/nope.err" || fail "unknown parent: exit $rc"
