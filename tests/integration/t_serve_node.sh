# The Node.js served-handler library (clients/node/): its own protocol
# test (no worker), then example.js as a served handler of a real worker:
# one process for many tasks, results, progress, an error retried, a crash
# re-run on a fresh process.
. "$(dirname "$0")/lib.sh"
if ! NODE=$(command -v node); then
	note "skipped: node is not installed (ci/install-deps installs nodejs)"
	exit 0
fi
note "$("$NODE" --version): $("$NODE" "$ROOT/clients/node/test.js" 2>&1)" ||
	fail "clients/node/test.js"
"$NODE" "$ROOT/clients/node/test.js" >/dev/null 2>&1 || fail "clients/node/test.js failed"
fresh_db
cat >"$T/tq.conf" <<CONF
[tq]
queue = $TQ_QUEUE

[task upper]
exec = $NODE $ROOT/clients/node/example.js
serve = yes
CONF
start_worker w -c "$T/tq.conf" >/dev/null
wait_consuming w
make_payloads 40 "$T/in"
"$BIN/tq" submit --from "$T/in" upper >"$T/ids"
"$BIN/tq" wait --timeout 60 $(cat "$T/ids") >/dev/null || fail "upper tasks did not all succeed"
paste -d' ' "$T/ids" "$T/in" | while read -r id p; do
	[ "$("$BIN/tq" result "$id")" = "$(printf '%s' "$p" | tr a-z A-Z)" ] || fail "result of $p: $("$BIN/tq" result "$id")"
done
seq 1 20 | sed 's/.*/pid/' >"$T/pids.in"
"$BIN/tq" submit --from "$T/pids.in" upper >"$T/pids"
"$BIN/tq" wait --timeout 60 $(cat "$T/pids") >/dev/null || fail "pid tasks"
n=$(for id in $(cat "$T/pids"); do "$BIN/tq" result "$id"; echo; done | sort -u | wc -l)
[ "$n" -eq 1 ] || fail "20 tasks ran in $n node processes"
pid=$("$BIN/tq" result "$(head -n 1 "$T/pids")")
note "20 tasks in a row through node process $pid"
grep -q 'event=served_output name=upper .* line="upper-casing' "$T/w.log" || fail "console.log not logged"

id=$("$BIN/tq" submit upper slow)
check_progress "$id"
"$BIN/tq" wait --timeout 20 "$id" >/dev/null || fail "slow task"

f=$("$BIN/tq" submit -m 2 upper "fail no disk")
"$BIN/tq" wait --timeout 20 "$f" >/dev/null 2>&1 || true
[ "$(task_col "$f" "CONCAT(state, ' ', attempts, ' ', error)")" = "failed 2 no disk" ] ||
	fail "handler error: $(task_col "$f" "CONCAT(state, ' ', attempts, ' ', error)")"
x=$("$BIN/tq" submit -m 2 upper exit1)
"$BIN/tq" wait --timeout 20 "$x" >/dev/null || fail "exit1 not re-run to success"
[ "$("$BIN/tq" result "$x")" = EXIT1 ] || fail "exit1 result: $("$BIN/tq" result "$x")"
case $(sql "SELECT error FROM task_runs WHERE task_id = $(idsql "$x") AND attempt = 1") in
"served handler exited with status 3: example: exiting on attempt 1") ;;
*) fail "exit1 attempt 1: $(sql "SELECT error FROM task_runs WHERE task_id = $(idsql "$x") AND attempt = 1")" ;;
esac
last=$("$BIN/tq" submit upper pid)
"$BIN/tq" wait --timeout 20 "$last" >/dev/null || fail "pid after crash"
after=$("$BIN/tq" result "$last")
[ "$after" != "$pid" ] || fail "the crashed node process was reused"
