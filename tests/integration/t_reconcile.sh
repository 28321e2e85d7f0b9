# shellcheck shell=bash source-path=SCRIPTDIR
# tq reconcile: publishes the rows that were submitted while the broker was
# down, and releases the task of a worker that died holding it.
. "$(dirname "$0")/lib.sh"
fresh_db
N=20

# ---- submitted without a broker: pending, published by tq reconcile ----
services_touch
"$ROOT/ci/services" down broker >"$T/services-down.log" 2>&1 ||
	fail "ci/services down broker: $(cat "$T/services-down.log")"
make_payloads "$N" "$T/payloads"
"$BIN/tq" submit --from "$T/payloads" tq.echo >"$T/ids" 2>"$T/submit.err" ||
	fail "submit without a broker exited $?: $(cat "$T/submit.err")"
[ "$(wc -l <"$T/ids")" -eq "$N" ] || fail "submit printed $(wc -l <"$T/ids") ids, want $N"
grep -q "$N of $N tasks are durable but not yet published" "$T/submit.err" ||
	fail "submit did not say the tasks wait: $(cat "$T/submit.err")"
[ "$(count_state pending)" -eq "$N" ] || fail "$(count_state pending) of $N rows pending"
services_up
# Past the grace period (TQ_PENDING_GRACE_MS) of every row.
past_grace() { [ "$(sql "SELECT COUNT(*) FROM tasks WHERE state = 'pending' AND due_at < NOW(6)")" -eq "$N" ]; }
wait_for 30 past_grace || fail "rows not past their grace after 30 s"
"$BIN/tq" reconcile >"$T/reconcile.out" 2>"$T/reconcile.err" ||
	fail "tq reconcile exited $?: $(cat "$T/reconcile.err")"
grep -Eq "^expired 0, due $N, published $N, stranded republished 0$" "$T/reconcile.out" ||
	fail "tq reconcile printed: $(cat "$T/reconcile.out"), want published $N"
[ "$(count_state queued)" -eq "$N" ] || fail "$(count_state queued) of $N rows queued after reconcile"
# A second pass has nothing to do.
"$BIN/tq" reconcile >"$T/reconcile2.out" || fail "second tq reconcile exited $?"
grep -Eq '^expired 0, due 0, published 0, stranded republished 0$' "$T/reconcile2.out" ||
	fail "second tq reconcile printed: $(cat "$T/reconcile2.out")"

start_worker w1 --no-reconcile >/dev/null
wait_consuming w1
# shellcheck disable=SC2046
"$BIN/tq" wait --timeout 60 $(cat "$T/ids") || fail "the reconciled tasks did not succeed"
check_echo "$T/ids" "$T/payloads"
check_runs_once "$N"
kill -TERM "${PIDS[0]}"

# ---- a worker killed while it runs a task: its lease expires ----
TQ_LEASE_MS=2000 start_worker w2 --no-reconcile >/dev/null
w2=${PIDS[1]}
wait_consuming w2
id=$("$BIN/tq" submit tq.sleep 3000)
running() { [ "$(task_col "$id" state)" = running ]; }
wait_for 20 running || fail "tq.sleep did not start"
kill -KILL "$w2"
wait "$w2" 2>/dev/null || true
[ "$(task_col "$id" "CONCAT(state, ' ', attempts, ' ', fence)")" = "running 1 1" ] ||
	fail "before the lease expired: $(task_col "$id" "CONCAT(state, ' ', attempts, ' ', fence)")"
expired() { [ "$(task_col "$id" "due_at < NOW(6)")" = 1 ]; }
wait_for 10 expired || fail "the 2 s lease did not expire in 10 s"
"$BIN/tq" reconcile >"$T/reconcile3.out" || fail "tq reconcile exited $?"
grep -Eq '^expired 1, ' "$T/reconcile3.out" ||
	fail "tq reconcile printed: $(cat "$T/reconcile3.out"), want expired 1"
# Released: due again at once, so the same pass may already have published
# it (queued); the attempt counts, the fence moved on.
st=$(task_col "$id" "CONCAT(state, ' ', attempts, ' ', fence)")
case $st in
"scheduled 1 2" | "queued 1 2") ;;
*) fail "after the lease expired: $st, want scheduled or queued, 1 attempt, fence 2" ;;
esac
[ "$(sql "SELECT CONCAT(outcome, ' ', attempt) FROM task_runs WHERE task_id = $(idsql "$id") AND fence = 1")" = "lost 1" ] ||
	fail "the first run is not recorded lost"

start_worker w3 --no-reconcile >/dev/null
"$BIN/tq" wait --timeout 60 "$id" || fail "the released task did not succeed"
[ "$(task_col "$id" "CONCAT(state, ' ', attempts, ' ', result)")" = "succeeded 2 slept 3000 ms" ] ||
	fail "released task: $(task_col "$id" "CONCAT(state, ' ', attempts, ' ', result)")"
[ "$(sql "SELECT GROUP_CONCAT(outcome ORDER BY fence) FROM task_runs WHERE task_id = $(idsql "$id")")" = "lost,succeeded" ] ||
	fail "task_runs: $(sql "SELECT GROUP_CONCAT(outcome ORDER BY fence) FROM task_runs WHERE task_id = $(idsql "$id")"), want lost,succeeded"
