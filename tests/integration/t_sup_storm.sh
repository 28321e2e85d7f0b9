# shellcheck shell=bash source-path=SCRIPTDIR
# A kill storm: 4 supervised workers run 500 short tasks (50 ms) while a random busy
# worker is SIGKILLed 20 times. Every task ends succeeded, none is lost and
# none completes twice (ledgers and task_runs agree).
. "$(dirname "$0")/lib.sh"
fresh_db
N=500 KILLS=20
mkdir "$T/ledger"
export TQ_LEDGER_DIR=$T/ledger
sup_start sup --queue "$TQ_QUEUE" --workers 4 --node storm1
sup_wait_ready sup 4 || fail "4 workers not consuming in 30 s: $(sup_workers sup | tr '\n' ';')"

# The tasks come in waves (100, then 20 before each kill) so that the
# storm overlaps the run: 500 x 50 ms on 4 workers alone is only ~6 s. A
# wave lasts ~250 ms, longer than a look at the workers takes even on a
# slow (sanitized) build, or the waves would run out before the kills.
yes 50 | head -n 100 >"$T/payloads.first"
yes 50 | head -n 20 >"$T/payloads.wave"
: >"$T/ids"
submit_wave() {
	"$BIN/tq" submit --max-attempts 10 --from "$1" tq.sleep >>"$T/ids" 2>"$T/submit.err" ||
		fail "bulk submit exited $?: $(cat "$T/submit.err")"
}
submit_wave "$T/payloads.first"

kills=0 misses=0 waves=0
t0=$(ms_now)
while [ "$kills" -lt "$KILLS" ]; do
	if [ "$waves" -le "$kills" ] && [ "$waves" -lt 20 ]; then
		submit_wave "$T/payloads.wave"
		waves=$((waves + 1))
	fi
	busy=$(sup_workers sup | awk '$3 == "busy" { print $2 }') || busy=
	if [ -z "$busy" ]; then
		if [ "$(sql "SELECT COUNT(*) FROM tasks WHERE state <> 'succeeded'")" -eq 0 ]; then
			[ "$waves" -lt 20 ] ||
				fail "every task succeeded after only $kills of $KILLS kills: the storm did not overlap the run"
			submit_wave "$T/payloads.wave"
			waves=$((waves + 1))
			continue
		fi
		misses=$((misses + 1))
		[ "$misses" -lt 500 ] || fail "no busy worker to kill for a long while ($kills kills done)"
		sleep 0.02
		continue
	fi
	victim=$(printf '%s\n' "$busy" | shuf -n 1)
	kill -KILL "$victim" 2>/dev/null || continue
	echo "$victim" >>"$T/killed.pids"
	kills=$((kills + 1))
	sleep "0.$((200 + RANDOM % 201))"
done
[ "$(wc -l <"$T/ids")" -eq "$N" ] || fail "submit printed $(wc -l <"$T/ids") ids, want $N"
left=$(sql "SELECT COUNT(*) FROM tasks WHERE state <> 'succeeded'")
note "$kills SIGKILLs of busy workers in $(($(ms_now) - t0)) ms; $left of $N tasks not yet succeeded after the last one"

# shellcheck disable=SC2046
"$BIN/tq" wait --timeout 120 $(cat "$T/ids") 2>"$T/wait.err" ||
	fail "tq wait exited $?: $(head -n 3 "$T/wait.err"); states: $(sql "SELECT CONCAT(state, '=', COUNT(*)) FROM tasks GROUP BY state" | tr '\n' ' ')"

sql "SELECT $ID_TXT FROM tasks WHERE state = 'succeeded'" | sort >"$T/succeeded.txt"
sort "$T/ids" | comm -23 - "$T/succeeded.txt" >"$T/lost.txt"
[ ! -s "$T/lost.txt" ] || fail "$(wc -l <"$T/lost.txt") tasks not succeeded, e.g. $(head -n 3 "$T/lost.txt" | tr '\n' ' ')"
[ "$(sql "SELECT COUNT(*) FROM tasks")" -eq "$N" ] || fail "extra rows in tasks"
check_ledger_once "$T/ids" "$T/killed.pids"
check_runs_once "$N"

restarts=$(sup_pool_field sup restarts)
lost=$(sql "SELECT COUNT(*) FROM task_runs WHERE outcome = 'lost'")
rerun=$(sql "SELECT COUNT(*) FROM (SELECT task_id FROM task_runs GROUP BY task_id HAVING COUNT(*) > 1) x")
note "re-executions: $rerun tasks claimed more than once ($lost lost runs in task_runs); $(reexecutions) tasks with more than one ledger 'run' line; pool restarts: $restarts"
[ "$restarts" -ge "$KILLS" ] || fail "pool counts $restarts restarts after $KILLS kills"
[ "$(sup_pool_field sup failing)" = false ] || fail "pool is failing after $KILLS kills"

sup_stop sup
[ "$SUP_RC" -eq 0 ] || fail "supervisor exited $SUP_RC after SIGTERM, want 0"
