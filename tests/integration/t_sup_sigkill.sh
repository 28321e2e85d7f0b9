# shellcheck shell=bash source-path=SCRIPTDIR disable=SC2016,SC2013
# SIGKILL of the supervisor takes its workers with it (within 2 s). A new
# supervisor with the same --node releases its previous incarnation's tasks
# at start, and they run again to success.
. "$(dirname "$0")/lib.sh"
fresh_db
sup_start sup --queue "$TQ_QUEUE" --workers 2 --node sk1
sup_wait_ready sup 2 || fail "2 workers not consuming in 30 s: $(sup_workers sup | tr '\n' ';')"
workers=$(sup_up_pids sup | tr '\n' ' ')
old=${SUP_PID[sup]}

: >"$T/ids"
for _ in 1 2; do
	"$BIN/tq" submit tq.sleep 5000 >>"$T/ids"
done
running() { [ "$(count_state running)" -eq 2 ]; }
wait_for 10 running || fail "2 tasks not running: $(sql "SELECT CONCAT(state, '=', COUNT(*)) FROM tasks GROUP BY state" | tr '\n' ' ')"

t0=$(ms_now)
gone=
{
	kill -KILL "$old"
	while [ $(($(ms_now) - t0)) -lt 5000 ]; do
		# shellcheck disable=SC2086
		[ -n "$(alive_of $workers)" ] || { gone=$(($(ms_now) - t0)); break; }
		sleep 0.01
	done
	wait "$old" || true
} 2>/dev/null
# shellcheck disable=SC2086
[ -n "$gone" ] || fail "workers $(alive_of $workers | tr '\n' ' ')still run 5 s after SIGKILL of the supervisor"
note "workers gone ${gone} ms after SIGKILL of the supervisor"
[ "$gone" -le 2000 ] || fail "workers gone only after $gone ms, want within 2000 ms"
[ -z "$(test_workers)" ] || fail "tq-worker processes of this test left: $(test_workers | tr '\n' ' ')"
[ "$(count_state running)" -eq 2 ] || fail "tasks not left running by the dead incarnation"

# The same node name, at once (as a process manager would restart it).
t1=$(ms_now)
sup_start sup --queue "$TQ_QUEUE" --workers 2 --node sk1
new=${SUP_PID[sup]}
joined() { grep -q "tq-supervisor\[$new\] .*event=node_joined node=sk1" "$T/sup.log"; }
until joined; do
	if ! alive "$new"; then
		rc=0
		wait "$new" || rc=$?
		fail "the new supervisor (same --node sk1, started right after the SIGKILL) exited $rc instead of joining: $(grep "tq-supervisor\[$new\] .*level=error" "$T/sup.log" | head -n 1)"
	fi
	[ $(($(ms_now) - t1)) -lt 15000 ] || fail "the new supervisor did not join as node sk1 within 15 s"
	sleep 0.05
done
note "new incarnation joined $(($(ms_now) - t1)) ms after start"
# shellcheck disable=SC2046
"$BIN/tq" wait --timeout 30 $(cat "$T/ids") 2>"$T/wait.err" ||
	fail "tasks of the killed incarnation did not succeed: $(cat "$T/wait.err"); $(sql "SELECT CONCAT(state, '=', COUNT(*)) FROM tasks GROUP BY state" | tr '\n' ' ')"
note "tasks succeeded $(($(ms_now) - t1)) ms after the new supervisor started"
for id in $(cat "$T/ids"); do
	runs=$(sql "SELECT outcome FROM task_runs WHERE task_id = $(idsql "$id") ORDER BY fence" | tr '\n' ' ')
	[ "$runs" = "lost succeeded " ] || fail "task $id runs: '$runs', want 'lost succeeded'"
	grep -q "event=task_released task=$id .*reason=\"node sk1 restarted\"" "$T/sup.log" ||
		fail "the new incarnation did not release $id at start (no task_released with reason 'node sk1 restarted')"
done
grep -q 'event=lease_expired' "$T/sup.log" && fail "tasks came back by lease expiry, not by the restart"

sup_stop sup
[ "$SUP_RC" -eq 0 ] || fail "supervisor exited $SUP_RC after SIGTERM, want 0"
