# shellcheck shell=bash source-path=SCRIPTDIR
# MariaDB is SIGKILLed while two workers are in the middle of 2000 echo
# tasks, and brought back with ci/services up: every task ends succeeded,
# with its payload as result, and none completes twice. While it is down,
# tq submit fails with 111 and one line.
. "$(dirname "$0")/lib.sh"
fresh_db
N=2000 CHUNKS=20
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
all=$((N + 2 * CHUNKS))
[ "$(wc -l <"$T/ids")" -eq "$N" ] || fail "submit printed $(wc -l <"$T/ids") ids"
[ "$(count_state queued)" -eq "$all" ] || fail "not every submitted task is queued"

start_worker w1 --prefetch 8 --batch 2 >/dev/null
start_worker w2 --prefetch 8 --batch 2 >/dev/null
wait_consuming w1
wait_consuming w2

enough() { [ "$(count_state succeeded)" -gt 100 ]; }
wait_for 60 enough || fail "fewer than 100 tasks succeeded in 60 s"
kill_server db
note "db killed"

# Without the database nothing can be submitted: 111, one line, no id.
set +e
"$BIN/tq" submit tq.echo during-outage >"$T/outage.out" 2>"$T/outage.err"
rc=$?
set -e
[ "$rc" -eq 111 ] || fail "submit without the database exited $rc, want 111: $(cat "$T/outage.err")"
[ "$(wc -l <"$T/outage.err")" -eq 1 ] ||
	fail "submit without the database: want one line on stderr, got: $(cat "$T/outage.err")"
grep -q '^tq: ' "$T/outage.err" || fail "submit error does not start with 'tq: ': $(cat "$T/outage.err")"
[ ! -s "$T/outage.out" ] || fail "submit without the database printed an id: $(cat "$T/outage.out")"
sleep 2
for p in "${PIDS[@]}"; do
	alive "$p" || fail "worker $p died while the database was down"
done

services_up
at_restart=$(count_state succeeded)
note "db back with $at_restart of $all tasks succeeded"
[ "$at_restart" -lt "$all" ] || fail "every task was done before the kill: nothing was interrupted"
[ "$(sql "SELECT COUNT(*) FROM tasks WHERE payload = 'during-outage'")" -eq 0 ] ||
	fail "the submit that failed left a row"

wait_progress 180 60 "$all" ||
	fail "$(count_state succeeded) of $all succeeded: $(sql "SELECT CONCAT(state, '=', COUNT(*)) FROM tasks GROUP BY state" | tr '\n' ' ')"
[ "$(count_state succeeded)" -eq "$all" ] ||
	fail "not all succeeded: $(sql "SELECT CONCAT(state, '=', COUNT(*)) FROM tasks GROUP BY state" | tr '\n' ' ')"

check_echo "$T/ids" "$T/payloads"
cat "$T/ids" "$T/sleep-ids" >"$T/all-ids"
check_ledger_once "$T/all-ids"
check_runs_once "$all"
grep -q 'event=db_lost\|event=db_connect_failed' "$T/w1.log" "$T/w2.log" ||
	fail "no worker noticed the database going away"
note "re-executions (tasks with more than one run line): $(reexecutions)"
note "duplicates dropped: $(cat "$T/w1.log" "$T/w2.log" | grep -c 'event=duplicate' || true)"
