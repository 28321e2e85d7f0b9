# shellcheck shell=bash source-path=SCRIPTDIR
# The broker is SIGKILLed while two workers are in the middle of 2000 echo
# tasks, and brought back with ci/services up: every task ends succeeded,
# with its payload as result, and none completes twice. 200 tasks submitted
# while the broker is down wait as pending rows until the workers' own
# reconciler publishes them.
. "$(dirname "$0")/lib.sh"
fresh_db
N=2000 CHUNKS=20 LATE=200
mkdir "$T/ledger"
export TQ_LEDGER_DIR=$T/ledger

# 2000 echo tasks in 20 bulk submits, each followed by two 200 ms sleeps
# so that the run lasts several seconds.
make_payloads "$N" "$T/payloads"
split -n "l/$CHUNKS" -d "$T/payloads" "$T/chunk."
printf '200\n200\n' >"$T/sleeps"
: >"$T/ids"
: >"$T/sleep-ids"
for c in "$T"/chunk.*; do
	"$BIN/tq" submit --from "$c" tq.echo >>"$T/ids" 2>"$T/submit.err" ||
		fail "bulk submit exited $?: $(cat "$T/submit.err")"
	"$BIN/tq" submit --from "$T/sleeps" tq.sleep >>"$T/sleep-ids" ||
		fail "sleep submit"
done
[ "$(wc -l <"$T/ids")" -eq "$N" ] || fail "submit printed $(wc -l <"$T/ids") ids"
[ "$(sql "SELECT COUNT(*) FROM tasks WHERE state = 'queued'")" -eq "$((N + 2 * CHUNKS))" ] ||
	fail "not every submitted task is queued"

start_worker w1 --prefetch 8 --batch 2 >/dev/null
start_worker w2 --prefetch 8 --batch 2 >/dev/null
wait_consuming w1
wait_consuming w2

enough() { [ "$(count_state succeeded)" -gt 100 ]; }
wait_for 60 enough || fail "fewer than 100 tasks succeeded in 60 s"
kill_server broker
at_kill=$(count_state succeeded)
note "broker killed with $at_kill of $((N + 2 * CHUNKS)) tasks succeeded"
[ "$at_kill" -lt "$((N + 2 * CHUNKS))" ] ||
	fail "every task was done before the kill: nothing was interrupted"
sleep 2

# Submitting still works without a broker: the rows wait as pending.
make_payloads "$LATE" "$T/late-payloads"
"$BIN/tq" submit --from "$T/late-payloads" tq.echo >"$T/late-ids" 2>"$T/late.err" ||
	fail "submit while the broker is down exited $?: $(cat "$T/late.err")"
[ "$(wc -l <"$T/late-ids")" -eq "$LATE" ] ||
	fail "submit while the broker is down printed $(wc -l <"$T/late-ids") ids"
grep -q 'not yet published' "$T/late.err" ||
	fail "submit while the broker is down did not say the tasks wait: $(cat "$T/late.err")"
late_pending=$(sql "SELECT COUNT(*) FROM tasks WHERE state = 'pending' AND payload LIKE '$(head -c 13 "$T/late-payloads")%'")
[ "$late_pending" -eq "$LATE" ] ||
	fail "$late_pending of $LATE tasks submitted while the broker is down are pending"

services_up
all=$((N + 2 * CHUNKS + LATE))
if ! wait_progress 180 60 "$all"; then
	note "broker queue tq.$TQ_QUEUE: $(rmqtool rabbitmq-queues quorum_status "tq.$TQ_QUEUE" --formatter=json 2>&1 | grep -F '{' || echo '(no quorum status)')"
	note "broker queue tq.$TQ_QUEUE (name state messages consumers): $(rmqctl list_queues name state messages consumers 2>&1 | grep -F "tq.$TQ_QUEUE" || echo '(not listed)')"
	fail "stalled or timed out: $(sql "SELECT CONCAT(state, '=', COUNT(*)) FROM tasks GROUP BY state" | tr '\n' ' ')"
fi
[ "$(count_state succeeded)" -eq "$all" ] ||
	fail "not all succeeded: $(sql "SELECT CONCAT(state, '=', COUNT(*)) FROM tasks GROUP BY state" | tr '\n' ' ')"

check_echo "$T/ids" "$T/payloads"
check_echo "$T/late-ids" "$T/late-payloads"
cat "$T/ids" "$T/sleep-ids" "$T/late-ids" >"$T/all-ids"
check_ledger_once "$T/all-ids"
check_runs_once "$all"
# The leader published the late rows (no one else could).
grep -Eq 'event=reconciled .*published=[1-9]' "$T/w1.log" "$T/w2.log" ||
	fail "no worker logged publishing the pending rows"
note "re-executions (tasks with more than one run line): $(reexecutions)"
note "duplicates dropped: $(cat "$T/w1.log" "$T/w2.log" | grep -c 'event=duplicate' || true)"
