# shellcheck shell=bash source-path=SCRIPTDIR disable=SC2016,SC2013
# Leases are renewed by the supervisor: with a 2 s lease, a 6 s task runs
# once, to success, and no lease ever expires.
. "$(dirname "$0")/lib.sh"
export TQ_LEASE_MS=2000
fresh_db
sup_start sup --queue "$TQ_QUEUE" --workers 2 --node lease1
sup_wait_ready sup 2 || fail "2 workers not consuming in 30 s: $(sup_workers sup | tr '\n' ';')"

id=$("$BIN/tq" submit tq.sleep 6000)
# The lease moves forward while the task runs.
wait_for 10 eval '[ "$(task_col "$id" state)" = running ]' || fail "task $id not running"
due1=$(task_col "$id" "UNIX_TIMESTAMP(due_at)")
sleep 3
due2=$(task_col "$id" "UNIX_TIMESTAMP(due_at)")
[ "$(task_col "$id" state)" = running ] || fail "task $id is $(task_col "$id" state) 3 s into a 6 s run"
awk -v a="$due1" -v b="$due2" 'BEGIN { exit !(b > a + 1) }' ||
	fail "lease of $id not renewed: due_at $due1 then $due2"
note "lease renewed: due_at moved $(awk -v a="$due1" -v b="$due2" 'BEGIN { printf "%.2f", b - a }') s in 3 s"

"$BIN/tq" wait --timeout 30 "$id" || fail "task $id did not succeed: $("$BIN/tq" show "$id" | tr '\n' ';')"
runs=$(sql "SELECT outcome FROM task_runs WHERE task_id = $(idsql "$id")" | tr '\n' ' ')
[ "$runs" = "succeeded " ] || fail "task $id runs: '$runs', want exactly one succeeded run"
[ "$(task_col "$id" attempts)" -eq 1 ] || fail "task $id took $(task_col "$id" attempts) attempts, want 1"
! grep -l 'lease_expired' "$T"/*.log || fail "lease_expired in the logs: $(grep -h 'lease_expired' "$T"/*.log | head -n 2)"

sup_stop sup
[ "$SUP_RC" -eq 0 ] || fail "supervisor exited $SUP_RC after SIGTERM, want 0"
