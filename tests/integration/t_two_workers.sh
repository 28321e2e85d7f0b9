# shellcheck shell=bash source-path=SCRIPTDIR
# Two standalone workers share 1000 echo tasks submitted in bulk: each
# task runs to success exactly once, with its own payload as result.
. "$(dirname "$0")/lib.sh"
fresh_db
N=1000
mkdir "$T/ledger"
export TQ_LEDGER_DIR=$T/ledger
start_worker w1 >/dev/null
wait_consuming w1
start_worker w2 >/dev/null
wait_consuming w2

make_payloads "$N" "$T/payloads"
"$BIN/tq" submit --from "$T/payloads" tq.echo >"$T/ids" 2>"$T/submit.err" ||
	fail "bulk submit exited $?: $(cat "$T/submit.err")"
[ "$(wc -l <"$T/ids")" -eq "$N" ] || fail "submit printed $(wc -l <"$T/ids") ids, want $N"
[ "$(sort -u "$T/ids" | wc -l)" -eq "$N" ] || fail "submit printed duplicate ids"

# shellcheck disable=SC2046
"$BIN/tq" wait --timeout 120 $(cat "$T/ids") 2>"$T/wait.err" ||
	fail "tq wait exited $?: $(head -n 3 "$T/wait.err")"

[ "$(count_state succeeded)" -eq "$N" ] ||
	fail "$(count_state succeeded) of $N rows succeeded"
[ "$(sql "SELECT COUNT(*) FROM tasks")" -eq "$N" ] || fail "extra rows in tasks"
[ "$(sql "SELECT COUNT(*) FROM tasks WHERE result = payload AND attempts = 1")" -eq "$N" ] ||
	fail "not every task has result = payload after one attempt"
check_echo "$T/ids" "$T/payloads"
check_ledger_once "$T/ids"
check_runs_once "$N"

# Both workers took part (each ledger has a 'done' line).
nledgers=$(find "$T/ledger" -name '*.log' | wc -l)
[ "$nledgers" -eq 2 ] || fail "want 2 ledgers, found $nledgers"
for f in "$T"/ledger/*.log; do
	d=$(grep -c '^done ' "$f" || true)
	[ "$d" -ge 1 ] || fail "ledger $(basename "$f") has no done line: one worker did all the work"
	note "$(basename "$f"): $d done"
done
