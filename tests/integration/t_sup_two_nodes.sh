# shellcheck shell=bash source-path=SCRIPTDIR disable=SC2016,SC2013
# Two supervisors (nodes a and b) share a queue. The leader is SIGKILLed
# while 40 tasks run: the other node becomes leader, releases the dead
# node's tasks once its row is older than node_timeout_ms, and every task
# ends succeeded.
. "$(dirname "$0")/lib.sh"
export TQ_NODE_TIMEOUT_MS=2000
fresh_db
N=40
sup_start a --queue "$TQ_QUEUE" --workers 2 --node a
sup_wait_ready a 2 || fail "node a: 2 workers not consuming: $(sup_workers a | tr '\n' ';')"
sup_start b --queue "$TQ_QUEUE" --workers 2 --node b
sup_wait_ready b 2 || fail "node b: 2 workers not consuming: $(sup_workers b | tr '\n' ';')"

holder=$(sup_leader_holder)
case $holder in
a/*) leader=a other=b ;;
b/*) leader=b other=a ;;
*) fail "no current reconciler lease holder in tq_leader: '$holder'" ;;
esac
sup_json "$leader" | grep -q '"leader": true' || fail "tq_leader names $holder, but node $leader's tq workers does not say leader"
sup_json "$other" | grep -q '"leader": false' || fail "node $other also says it leads"
note "leader: $holder"
dead_workers=$(sup_up_pids "$leader" | tr '\n' ' ')

yes 1000 | head -n "$N" >"$T/payloads"
"$BIN/tq" submit --max-attempts 10 --from "$T/payloads" tq.sleep >"$T/ids" 2>"$T/submit.err" ||
	fail "bulk submit exited $?: $(cat "$T/submit.err")"
# Both nodes hold tasks when the leader dies.
both() {
	[ "$(sql "SELECT COUNT(*) FROM tasks WHERE state = 'running' AND owner LIKE '$leader:%'")" -gt 0 ] &&
		[ "$(sql "SELECT COUNT(*) FROM tasks WHERE state = 'running' AND owner LIKE '$other:%'")" -gt 0 ]
}
wait_for 20 both || fail "the two nodes do not both run tasks: $(sql "SELECT owner FROM tasks WHERE state = 'running'" | tr '\n' ' ')"
sleep 1.5
held=$(sql "SELECT COUNT(*) FROM tasks WHERE state = 'running' AND owner LIKE '$leader:%'")
done_before=$(count_state succeeded)
[ "$held" -gt 0 ] || fail "leader $leader runs no task when it is killed"

t0=$(ms_now)
{
	kill -KILL "${SUP_PID[$leader]}"
	wait "${SUP_PID[$leader]}" || true
} 2>/dev/null
note "SIGKILL of leader $leader with $held tasks running on it, $done_before of $N succeeded"
# shellcheck disable=SC2086
wait_for 3 eval '[ -z "$(alive_of '"$dead_workers"')" ]' ||
	fail "workers of the killed node still run: $(alive_of $dead_workers | tr '\n' ' ')"

# The other node takes the lease.
took_lead=
while [ $(($(ms_now) - t0)) -lt 30000 ]; do
	case $(sup_leader_holder) in "$other"/*) took_lead=$(($(ms_now) - t0)); break ;; esac
	sleep 0.05
done
[ -n "$took_lead" ] || fail "node $other did not take the reconciler lease within 30 s: holder '$(sql "SELECT CONCAT(holder, ' ', expires_at) FROM tq_leader")'"
wait_log "$other" "event=leader role=reconciler node=$other" 5 || fail "node $other logged no event=leader"
sup_json "$other" | grep -q '"leader": true' || fail "node $other took the lease, but tq workers does not say leader"
# The dead node's tasks come back.
released=
while [ $(($(ms_now) - t0)) -lt 30000 ]; do
	[ "$(sql "SELECT COUNT(*) FROM tasks WHERE state = 'running' AND owner LIKE '$leader:%'")" -eq 0 ] &&
		{ released=$(($(ms_now) - t0)); break; }
	sleep 0.05
done
[ -n "$released" ] || fail "node $leader's tasks still running 30 s after its death"
grep -q "event=node_dead node=$leader action=release" "$T/$other.log" || fail "node $other logged no node_dead for $leader"
note "recovery after SIGKILL of the leader: $other leads after ${took_lead} ms; $leader's tasks released after ${released} ms"

# shellcheck disable=SC2046
"$BIN/tq" wait --timeout 90 $(cat "$T/ids") 2>"$T/wait.err" ||
	fail "tq wait exited $?: $(head -n 3 "$T/wait.err"); states: $(sql "SELECT CONCAT(state, '=', COUNT(*)) FROM tasks GROUP BY state" | tr '\n' ' ')"
note "all $N tasks succeeded $(($(ms_now) - t0)) ms after the kill"
[ "$(count_state succeeded)" -eq "$N" ] || fail "$(count_state succeeded) of $N succeeded"
check_runs_once "$N"
[ -z "$(sql "SELECT name FROM tq_nodes WHERE name = '$leader'")" ] || fail "the dead node's row is still in tq_nodes"

sup_stop "$other"
[ "$SUP_RC" -eq 0 ] || fail "supervisor $other exited $SUP_RC after SIGTERM, want 0"
