# shellcheck shell=bash source-path=SCRIPTDIR
# A task's message delivered again is dropped: after the task succeeded,
# and while it runs (on the same worker, and on another one).
. "$(dirname "$0")/lib.sh"
fresh_db
start_worker w1 >/dev/null
wait_consuming w1

runs() {
	sql "SELECT COUNT(*) FROM task_runs WHERE task_id = $(idsql "$1")"
}

# ---- a succeeded task's message, published again ----
id=$("$BIN/tq" submit tq.echo original)
"$BIN/tq" wait --timeout 20 "$id" || fail "echo did not succeed"
"$BIN/rawpub" "$TQ_QUEUE" task "$id" tq.echo changed || fail "rawpub exited $?"
wait_log w1 "event=duplicate task=$id state=succeeded" 20 ||
	fail "no event=duplicate for the succeeded task"
[ "$(task_col "$id" "CONCAT(state, ' ', attempts, ' ', result)")" = "succeeded 1 original" ] ||
	fail "after the duplicate: $(task_col "$id" "CONCAT(state, ' ', attempts, ' ', result)"), want succeeded 1 original"
[ "$(runs "$id")" -eq 1 ] || fail "succeeded task: $(runs "$id") task_runs rows, want 1"

# ---- a running task's message, published again ----
# To the same worker: it holds the copy until its batch is done, then
# drops it. To a second worker consuming another queue: the row is
# running under the first worker's claim.
QUEUES+=("$TQ_QUEUE.other")
start_worker w2 --queue "$TQ_QUEUE.other" >/dev/null
wait_consuming w2
id=$("$BIN/tq" submit tq.sleep 3000)
running() { [ "$(task_col "$id" state)" = running ]; }
wait_for 20 running || fail "tq.sleep did not start"
"$BIN/rawpub" "$TQ_QUEUE" task "$id" tq.sleep 3000 || fail "rawpub exited $?"
"$BIN/rawpub" "$TQ_QUEUE.other" task "$id" tq.sleep 3000 || fail "rawpub exited $?"
wait_log w2 "event=duplicate task=$id state=running" 20 ||
	fail "the other worker did not drop the duplicate of a running task"
[ "$(task_col "$id" state)" = running ] || fail "the task ended before the duplicate reached the other worker: no overlap"
"$BIN/tq" wait --timeout 30 "$id" || fail "tq.sleep did not succeed"
wait_log w1 "event=duplicate task=$id state=" 20 ||
	fail "w1 did not drop the duplicate it got while running the task"
[ "$(task_col "$id" "CONCAT(state, ' ', attempts, ' ', fence)")" = "succeeded 1 1" ] ||
	fail "running task: $(task_col "$id" "CONCAT(state, ' ', attempts, ' ', fence)"), want succeeded 1 1"
[ "$(runs "$id")" -eq 1 ] || fail "running task: $(runs "$id") task_runs rows, want 1"
sleep 1
[ "$(task_col "$id" "CONCAT(state, ' ', attempts)")" = "succeeded 1" ] ||
	fail "the duplicate ran the task again"
[ "$(grep -c "event=duplicate task=$id" "$T/w1.log" "$T/w2.log" | awk -F: '{ s += $2 } END { print s }')" -eq 2 ] ||
	fail "want exactly 2 duplicate drops for the running task"
for p in "${PIDS[@]}"; do
	alive "$p" || fail "worker $p died"
done
