# shellcheck shell=bash source-path=SCRIPTDIR disable=SC2016,SC2013
# Hang detection. A worker frozen with SIGSTOP while it runs a task falls
# silent: it is killed and replaced within the hang timeout + 1 s, and its
# task runs again to success. A worker whose handler never returns
# (tq.hang) still heartbeats, so the hang detector leaves it alone.
. "$(dirname "$0")/lib.sh"
fresh_db
HANG_MS=1000
sup_start sup --queue "$TQ_QUEUE" --workers 2 --node hang1 \
	--heartbeat-ms 200 --hang-timeout-ms "$HANG_MS"
sup_wait_ready sup 2 || fail "2 workers not consuming in 30 s: $(sup_workers sup | tr '\n' ';')"

# ---- a frozen worker is killed and replaced ----
id=$("$BIN/tq" submit tq.sleep 3000)
busy_with() { sup_workers sup | awk -v t="$1" '$3 == "busy" && $4 == t { print $2 }' | grep .; }
wait_for 10 busy_with "$id" >/dev/null || fail "no worker shows task $id as busy"
victim=$(busy_with "$id")
before=$(sup_up_pids sup | sort | tr '\n' ' ')

t0=$(ms_now)
kill -STOP "$victim"
new_up() {
	local p
	for p in $(sup_up_pids sup); do
		case " $before " in *" $p "*) ;; *) echo "$p"; return 0 ;; esac
	done
	return 1
}
newpid=
while [ -z "$newpid" ] && [ $(($(ms_now) - t0)) -lt 10000 ]; do
	newpid=$(new_up) || newpid=
	[ -n "$newpid" ] || sleep 0.01
done
took=$(($(ms_now) - t0))
[ -n "$newpid" ] || fail "no new worker 10 s after SIGSTOP of $victim: $(sup_workers sup | tr '\n' ';')"
note "hang: SIGSTOP of $victim -> new worker $newpid up after ${took} ms (hang timeout ${HANG_MS} ms)"
[ "$took" -le $((HANG_MS + 1000)) ] ||
	fail "frozen worker replaced after $took ms, want within $((HANG_MS + 1000)) ms"
wait_for 5 eval "! alive $victim" || fail "frozen worker $victim was not killed"
grep -Eq "event=worker_hung .*pid=$victim " "$T/sup.log" || fail "no worker_hung line for pid $victim"
silent=$(grep -E "event=worker_hung .*pid=$victim " "$T/sup.log" | sed -n 's/.*silent_ms=\([0-9]*\).*/\1/p' | head -n 1)
note "hang: detector saw pid $victim silent for ${silent} ms"
[ "$(sup_pool_field sup hang_kills)" = 1 ] || fail "pool hang_kills is $(sup_pool_field sup hang_kills), want 1"

"$BIN/tq" wait --timeout 30 "$id" || fail "task $id of the frozen worker did not succeed"
runs=$(sql "SELECT outcome FROM task_runs WHERE task_id = $(idsql "$id") ORDER BY fence" | tr '\n' ' ')
[ "$runs" = "lost succeeded " ] || fail "task_runs outcomes of $id: '$runs', want 'lost succeeded'"
sup_wait_up sup 2 10 || fail "2 workers not up after the hang kill"

# ---- a long handler is not a hang: heartbeats flow while it runs ----
# One attempt: when we kill it at the end it ends failed, not re-run.
hid=$("$BIN/tq" submit --max-attempts 1 tq.hang x)
wait_for 10 busy_with "$hid" >/dev/null || fail "no worker shows tq.hang $hid as busy"
hpid=$(busy_with "$hid")
sleep 3
alive "$hpid" || fail "worker $hpid running tq.hang was killed"
[ "$(busy_with "$hid")" = "$hpid" ] ||
	fail "after 3 s tq.hang $hid is not busy in pid $hpid: $(sup_workers sup | tr '\n' ';')"
grep -Eq "event=worker_hung .*pid=$hpid " "$T/sup.log" && fail "hang detector killed $hpid running tq.hang"
[ "$(sup_pool_field sup hang_kills)" = 1 ] || fail "pool hang_kills is $(sup_pool_field sup hang_kills), want still 1"
[ "$(task_col "$hid" state)" = running ] || fail "tq.hang task is $(task_col "$hid" state), want running"
note "tq.hang ran 3 s in pid $hpid without a hang kill"

# Cleanup: the supervisor would wait drain_ms for tq.hang; kill it first.
kill -KILL "$hpid"
wait_for 10 eval '[ "$(task_col "$hid" state)" = failed ]' ||
	fail "tq.hang task with 1 attempt is $(task_col "$hid" state) after its worker was killed, want failed"
sup_stop sup
[ "$SUP_RC" -eq 0 ] || fail "supervisor exited $SUP_RC after SIGTERM, want 0"
