# shellcheck shell=bash source-path=SCRIPTDIR
# A supervisor that is pid 1 (as in a container without an init): its
# workers must not take it for gone (they check for a reparenting to pid
# 1), so they stay up, are not restarted, and run tasks.
. "$(dirname "$0")/lib.sh"
command -v unshare >/dev/null 2>&1 || fail "unshare (util-linux) is missing"
unshare --pid --fork --mount-proc true 2>/dev/null || {
	note "skipped: no pid namespaces here"
	exit 0
}
fresh_db
mkdir -m 700 "$T/ctl-sup"
unshare --pid --fork --mount-proc --kill-child=SIGTERM \
	"$BIN/tq-supervisor" --control "$(sup_ctl sup)" --queue "$TQ_QUEUE" \
	--workers 2 --node pid1 >>"$T/sup.log" 2>&1 &
PIDS+=($!)
wait_log sup 'tq-supervisor\[1\] .*event=started' 10 ||
	fail "the supervisor did not start as pid 1: $(head -n 5 "$T/sup.log")"
sup_wait_ready sup 2 || fail "2 workers not consuming in 30 s: $(grep -E 'worker_exit|gone' "$T/sup.log" | head -n 3)"
sleep 2
restarts=$(sup_pool_field sup restarts)
[ "$restarts" = 0 ] || fail "workers restarted $restarts times: $(grep -E 'worker_exit|gone' "$T/sup.log" | head -n 3)"
! grep -q 'supervisor already gone' "$T/sup.log" || fail "a worker took its pid-1 supervisor for gone"
id=$("$BIN/tq" submit tq.echo pid1)
"$BIN/tq" wait --timeout 20 "$id" >/dev/null || fail "task $id did not succeed under a pid-1 supervisor"
[ "$(task_col "$id" state)" = succeeded ] || fail "task $id is $(task_col "$id" state)"
note "supervisor as pid 1: 2 workers up, 0 restarts, task succeeded"
