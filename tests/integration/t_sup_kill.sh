# shellcheck shell=bash source-path=SCRIPTDIR
# A supervised worker is SIGKILLed while it runs a task: a new worker is
# up within 1 s, the task is given back at once and ends succeeded, and
# task_runs shows the lost run, then the succeeded one.
. "$(dirname "$0")/lib.sh"
fresh_db
sup_start sup --queue "$TQ_QUEUE" --workers 2 --node kill1
sup_wait_ready sup 2 || fail "2 workers not consuming in 30 s: $(sup_workers sup | tr '\n' ';')"

id=$("$BIN/tq" submit tq.sleep 3000)
busy_with() { sup_workers sup | awk -v t="$id" '$3 == "busy" && $4 == t { print $2 }' | grep .; }
wait_for 10 busy_with >/dev/null || fail "no worker shows task $id as busy: $(sup_workers sup | tr '\n' ';')"
victim=$(busy_with)
owner=$("$BIN/tq" show "$id" | awk '$1 == "owner:" { print $2 }')
case $owner in
kill1:"$victim":*) ;;
*) fail "tq workers says pid $victim runs $id, tq show says owner '$owner'" ;;
esac
before=$(sup_up_pids sup | sort | tr '\n' ' ')
note "workers before: $before; task $id runs in pid $victim"

t0=$(ms_now)
kill -KILL "$victim"
# A new pid, up (idle or busy), while the other one stays.
new_up() {
	local p
	for p in $(sup_up_pids sup); do
		case " $before " in *" $p "*) ;; *) echo "$p"; return 0 ;; esac
	done
	return 1
}
newpid=
while [ -z "$newpid" ] && [ $(($(ms_now) - t0)) -lt 5000 ]; do
	newpid=$(new_up) || newpid=
	[ -n "$newpid" ] || sleep 0.01
done
took=$(($(ms_now) - t0))
[ -n "$newpid" ] || fail "no new worker up 5 s after SIGKILL of $victim: $(sup_workers sup | tr '\n' ';')"
note "restart after SIGKILL: new worker $newpid up after ${took} ms"
[ "$took" -le 1000 ] || fail "new worker up after $took ms, want within 1000 ms"
alive "$victim" && fail "killed worker $victim still runs"
[ "$(sup_up_pids sup | wc -l)" -eq 2 ] || fail "want 2 workers up: $(sup_workers sup | tr '\n' ';')"

"$BIN/tq" wait --timeout 30 "$id" || fail "task $id did not succeed after its worker was killed: $("$BIN/tq" show "$id" | tr '\n' ';')"
runs=$(sql "SELECT outcome FROM task_runs WHERE task_id = $(idsql "$id") ORDER BY fence" | tr '\n' ' ')
[ "$runs" = "lost succeeded " ] || fail "task_runs outcomes: '$runs', want 'lost succeeded'"
[ "$(task_col "$id" attempts)" -eq 2 ] || fail "attempts $(task_col "$id" attempts), want 2"
grep -q "event=task_released task=$id .*charged=1" "$T/sup.log" ||
	fail "supervisor log has no charged task_released for $id"

sup_stop sup
[ "$SUP_RC" -eq 0 ] || fail "supervisor exited $SUP_RC after SIGTERM, want 0"
