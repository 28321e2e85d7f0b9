# shellcheck shell=bash source-path=SCRIPTDIR disable=SC2016,SC2013
# SIGTERM drains: with 4 tasks in flight the supervisor lets them finish
# (one run each, no re-run), exits 0, and leaves no worker behind.
. "$(dirname "$0")/lib.sh"
fresh_db
sup_start sup --queue "$TQ_QUEUE" --workers 4 --node term1
sup_wait_ready sup 4 || fail "4 workers not consuming in 30 s: $(sup_workers sup | tr '\n' ';')"
workers=$(sup_up_pids sup | tr '\n' ' ')

: >"$T/ids"
for _ in 1 2 3 4; do
	"$BIN/tq" submit tq.sleep 1500 >>"$T/ids"
done
running() { [ "$(count_state running)" -eq 4 ]; }
wait_for 10 running || fail "4 tasks not running: $(sql "SELECT CONCAT(state, '=', COUNT(*)) FROM tasks GROUP BY state" | tr '\n' ' ')"
note "4 tasks running in: $(sql "SELECT owner FROM tasks WHERE state = 'running'" | tr '\n' ' ')"

t0=$(ms_now)
sup_stop sup 30
note "supervisor exited $SUP_RC $(($(ms_now) - t0)) ms after SIGTERM"
[ "$SUP_RC" -eq 0 ] || fail "supervisor exited $SUP_RC after SIGTERM, want 0"
# shellcheck disable=SC2086
left=$(alive_of $workers | tr '\n' ' ')
[ -z "$left" ] || fail "workers of the pool still run after the supervisor exited: $left"

for id in $(cat "$T/ids"); do
	st=$(task_col "$id" "CONCAT(state, ' ', attempts)")
	[ "$st" = "succeeded 1" ] || fail "task $id is '$st' after the drain, want 'succeeded 1'"
	runs=$(sql "SELECT outcome FROM task_runs WHERE task_id = $(idsql "$id")" | tr '\n' ' ')
	[ "$runs" = "succeeded " ] || fail "task $id runs: '$runs', want one succeeded run"
done
grep -q 'event=task_released' "$T/sup.log" && fail "the drain released tasks: $(grep 'event=task_released' "$T/sup.log" | head -n 2)"
grep -q 'event=stopped' "$T/sup.log" || fail "no event=stopped in the supervisor log"
[ -z "$(sql "SELECT name FROM tq_nodes WHERE name = 'term1'")" ] || fail "node row term1 left after a clean stop"
