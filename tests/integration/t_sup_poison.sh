# shellcheck shell=bash source-path=SCRIPTDIR
# A poison task (tq.crash aborts its worker) with 3 attempts ends failed
# after exactly 3 runs, while 50 echo tasks beside it succeed, and the pool
# is not marked failing.
. "$(dirname "$0")/lib.sh"
fresh_db
sup_start sup --queue "$TQ_QUEUE" --workers 2 --node poison1
sup_wait_ready sup 2 || fail "2 workers not consuming in 30 s: $(sup_workers sup | tr '\n' ';')"

crash=$("$BIN/tq" submit --max-attempts 3 tq.crash x)
make_payloads 50 "$T/payloads"
"$BIN/tq" submit --from "$T/payloads" tq.echo >"$T/ids" 2>"$T/submit.err" ||
	fail "bulk submit exited $?: $(cat "$T/submit.err")"

set +e
"$BIN/tq" wait --timeout 60 "$crash" 2>"$T/wait.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "tq wait on the crash task exited $rc, want 1 (failed): $(cat "$T/wait.err"); $("$BIN/tq" show "$crash" | tr '\n' ';')"
got=$(task_col "$crash" "CONCAT(state, ' ', attempts, '/', max_attempts)")
[ "$got" = "failed 3/3" ] || fail "crash task is '$got', want 'failed 3/3'"
runs=$(sql "SELECT COUNT(*) FROM task_runs WHERE task_id = $(idsql "$crash")")
outcomes=$(sql "SELECT outcome FROM task_runs WHERE task_id = $(idsql "$crash") ORDER BY fence" | tr '\n' ' ')
[ "$runs" -eq 3 ] || fail "crash task has $runs task_runs rows ($outcomes), want 3"
[ "$outcomes" = "lost lost lost " ] || fail "crash task runs: '$outcomes', want 'lost lost lost'"
note "crash task: $got, runs: $outcomes"

# shellcheck disable=SC2046
"$BIN/tq" wait --timeout 60 $(cat "$T/ids") 2>"$T/wait.err" ||
	fail "echo tasks: tq wait exited $?: $(head -n 3 "$T/wait.err")"
check_echo "$T/ids" "$T/payloads"

[ "$(sup_pool_field sup failing)" = false ] || fail "pool is failing: $(sup_json sup | tr -d '\n ')"
grep -q 'event=pool_failing' "$T/sup.log" && fail "supervisor log has pool_failing"
sup_wait_up sup 2 10 || fail "2 workers not up after the crashes: $(sup_workers sup | tr '\n' ';')"
note "pool restarts: $(sup_pool_field sup restarts), failing: $(sup_pool_field sup failing)"

sup_stop sup
[ "$SUP_RC" -eq 0 ] || fail "supervisor exited $SUP_RC after SIGTERM, want 0"
