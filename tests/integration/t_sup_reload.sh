# shellcheck shell=bash source-path=SCRIPTDIR
# SIGHUP reloads the config file: a pool grows from 1 to 3 workers, then
# shrinks back to 1 while 6 tasks run, and none of them is lost. -n checks
# a file: exit 0 when good, 100 with the line named when not.
. "$(dirname "$0")/lib.sh"
fresh_db
conf() {
	cat >"$T/tq.conf.new" <<EOC
[tq]
log_level = info

[pool p]
queue = $TQ_QUEUE
workers = $1
EOC
	mv "$T/tq.conf.new" "$T/tq.conf"
}

# ---- -n ----
conf 1
out=$("$BIN/tq-supervisor" -n -c "$T/tq.conf" 2>&1) || fail "-n on a good file exited $?: $out"
note "-n good: $out"
conf many
set +e
out=$("$BIN/tq-supervisor" -n -c "$T/tq.conf" 2>&1)
rc=$?
set -e
note "-n bad: exit $rc: $out"
[ "$rc" -eq 100 ] || fail "-n with 'workers = many' exited $rc, want 100: $out"
line=$(grep -n '^workers = many' "$T/tq.conf" | cut -d: -f1)
printf '%s\n' "$out" | grep -q "tq.conf:$line:" || fail "-n message does not name line $line: $out"
printf '%s\n' "$out" | grep -q 'workers' || fail "-n message does not name the key: $out"

# ---- grow ----
conf 1
sup_start sup -c "$T/tq.conf" --node reload1
sup_wait_ready sup 1 || fail "1 worker not consuming: $(sup_workers sup | tr '\n' ';')"
sleep 0.5
[ "$(sup_workers sup | wc -l)" -eq 1 ] || fail "want 1 worker slot: $(sup_workers sup | tr '\n' ';')"
first=$(sup_up_pids sup)

conf 3
kill -HUP "${SUP_PID[sup]}"
sup_wait_ready sup 3 10 || fail "3 workers not consuming 10 s after SIGHUP with workers = 3: $(sup_workers sup | tr '\n' ';')"
sup_up_pids sup | grep -qx "$first" || fail "the first worker $first was replaced by the reload"
[ "$(sup_workers sup | wc -l)" -eq 3 ] || fail "want 3 worker slots: $(sup_workers sup | tr '\n' ';')"
note "grown to 3: $(sup_up_pids sup | tr '\n' ' ')"
three=$(sup_up_pids sup | tr '\n' ' ')

# ---- shrink while tasks run ----
: >"$T/ids"
for _ in 1 2 3 4 5 6; do
	"$BIN/tq" submit --max-attempts 10 tq.sleep 1000 >>"$T/ids"
done
busy() { [ "$(sup_workers sup | awk '$3 == "busy"' | wc -l)" -ge 2 ]; }
wait_for 10 busy || fail "fewer than 2 workers busy: $(sup_workers sup | tr '\n' ';')"
conf 1
kill -HUP "${SUP_PID[sup]}"
shrunk() {
	[ "$(sup_workers sup | wc -l)" -eq 1 ] && [ "$(sup_up_pids sup | wc -l)" -eq 1 ]
}
wait_for 30 shrunk || fail "not back to 1 worker 30 s after SIGHUP with workers = 1: $(sup_workers sup | tr '\n' ';')"
# shellcheck disable=SC2086
[ "$(alive_of $three | wc -l)" -eq 1 ] || fail "want 1 of the 3 workers left, alive: $(alive_of $three | tr '\n' ' ')"
note "shrunk to 1: $(sup_up_pids sup | tr '\n' ' ')"

# shellcheck disable=SC2046
"$BIN/tq" wait --timeout 60 $(cat "$T/ids") 2>"$T/wait.err" ||
	fail "tq wait exited $?: $(head -n 3 "$T/wait.err"); states: $(sql "SELECT CONCAT(state, '=', COUNT(*)) FROM tasks GROUP BY state" | tr '\n' ' ')"
[ "$(count_state succeeded)" -eq 6 ] || fail "$(count_state succeeded) of 6 tasks succeeded"
check_runs_once 6
lost=$(sql "SELECT COUNT(*) FROM task_runs WHERE outcome <> 'succeeded'")
[ "$lost" -eq 0 ] || fail "$lost runs did not succeed: the shrink cut tasks short"
grep -q 'event=reloaded' "$T/sup.log" || fail "no event=reloaded in the log"
[ "$(sup_workers sup | wc -l)" -eq 1 ] || fail "want 1 worker at the end: $(sup_workers sup | tr '\n' ';')"

sup_stop sup
[ "$SUP_RC" -eq 0 ] || fail "supervisor exited $SUP_RC after SIGTERM, want 0"
