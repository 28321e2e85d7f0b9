# Pause and resume: a paused queue's running task finishes, nothing new is
# claimed by any worker, also by one started while paused; after the
# resume every task runs, once.
. "$(dirname "$0")/lib.sh"
fresh_db
start_worker w1 >/dev/null
start_worker w2 >/dev/null
wait_consuming w1
wait_consuming w2

long=$("$BIN/tq" submit tq.sleep 1500)
wait_for 10 sh -c "[ \"\$($BIN/tq show --json $long | grep -c '\"state\": \"running\"')\" = 1 ]" ||
	fail "the long task did not start"
expect 0 pause "$BIN/tq" pause "$TQ_QUEUE"
grep -q "paused" "$T/pause.out" || fail "tq pause: $(cat "$T/pause.out")"
expect 0 again "$BIN/tq" pause "$TQ_QUEUE"
grep -q "already" "$T/again.out" || fail "pausing twice: $(cat "$T/again.out")"
: >"$T/ids"
for i in 1 2 3 4 5 6; do "$BIN/tq" submit tq.echo "p$i" >>"$T/ids"; done
"$BIN/tq" wait --timeout 10 "$long" || fail "the running task did not finish during the pause"
# Both workers see the pause at their next claim and stop consuming.
wait_log w1 'event=queue_paused' 10 || fail "w1 did not stop consuming"
wait_log w2 'event=queue_paused' 10 || fail "w2 did not stop consuming"
# A worker that starts while the queue is paused does not run it either.
start_worker w3 >/dev/null
wait_consuming w3
wait_log w3 'event=queue_paused' 10 || fail "w3, started during the pause, claimed"
sleep 1
ran=$(sql "SELECT COUNT(*) FROM task_runs r JOIN tasks t ON t.id = r.task_id WHERE t.name = 'tq.echo'")
[ "$ran" = 0 ] || fail "$ran tasks of the paused queue ran"
[ "$(count_state queued)" = 6 ] || fail "paused tasks: $(count_state queued) queued, want 6"
expect 0 stats "$BIN/tq" stats
grep -q "paused" "$T/stats.out" || fail "tq stats does not show the pause: $(cat "$T/stats.out")"
expect 0 list "$BIN/tq" pause
grep -q "$TQ_QUEUE" "$T/list.out" || fail "tq pause (list): $(cat "$T/list.out")"

expect 0 resume "$BIN/tq" resume "$TQ_QUEUE"
"$BIN/tq" wait --timeout 20 $(cat "$T/ids") || fail "after the resume, the tasks did not all succeed"
for w in w1 w2 w3; do
	wait_log "$w" 'event=queue_resumed' 5 || fail "$w did not resume"
done
[ "$(sql "SELECT COUNT(*) FROM task_runs r JOIN tasks t ON t.id = r.task_id WHERE t.name = 'tq.echo'")" = 6 ] ||
	fail "a task ran more than once over the pause"
expect 0 notp "$BIN/tq" resume "$TQ_QUEUE"
grep -q "was not paused" "$T/notp.out" || fail "resuming twice: $(cat "$T/notp.out")"
expect 2 badq "$BIN/tq" pause 'no such/queue'
