# Served handlers (serve = yes): one long-lived child per worker process
# runs many tasks; its progress shows; a handler error fails the attempt
# and is retried; a crash mid-task re-runs the task on a fresh child; a
# timeout kills the child and the next task gets a new one; stdout and
# stderr noise is logged, never a result; max_tasks_per_child and
# max_rss_mb recycle; protocol garbage fails with a clear error; bad
# settings are refused; the children die with their worker. Nothing lost.
. "$(dirname "$0")/lib.sh"
fresh_db
[ -x "$BIN/served" ] || fail "$BIN/served is not built (make bin/served)"
export TQ_SERVED_BAD_READY=1	# passed to [task badready] only (env =)
cat >"$T/tq.conf" <<CONF
[tq]
queue = $TQ_QUEUE

[task s]
exec = $BIN/served
serve = yes
kill_grace_ms = 500

[task recycle]
exec = $BIN/served
serve = yes
max_tasks_per_child = 3

[task fat]
exec = $BIN/served
serve = yes
max_rss_mb = 40

[task badready]
exec = $BIN/served
serve = yes
env = TQ_SERVED_BAD_READY
CONF
start_worker w -c "$T/tq.conf" --batch 1 >"$T/w.pid"
wpid=$(cat "$T/w.pid")
wait_consuming w

result() { "$BIN/tq" result "$1"; }
run() {	# run NAME PAYLOAD [SUBMIT ARGS...]: the id of a finished task
	local name=$1 payload=$2 id
	shift 2
	id=$("$BIN/tq" submit "$@" "$name" "$payload")
	"$BIN/tq" wait --timeout 30 "$id" >/dev/null 2>&1 || true
	echo "$id"
}
state() { task_col "$1" state; }
err() { task_col "$1" error; }

# Many tasks, one child: every "pid" task returns the same pid, a child
# of the worker.
seq 1 60 | sed 's/.*/pid/' >"$T/pids.in"
"$BIN/tq" submit --from "$T/pids.in" s >"$T/pids.ids"
"$BIN/tq" wait --timeout 60 $(cat "$T/pids.ids") >/dev/null || fail "pid tasks did not all succeed"
for id in $(cat "$T/pids.ids"); do result "$id"; echo; done | sort | uniq -c >"$T/pids.count"
note "60 tasks, results by child pid: $(tr -s ' ' <"$T/pids.count" | tr '\n' ';')"
[ "$(wc -l <"$T/pids.count")" -eq 1 ] || fail "60 tasks ran in more than one child: $(cat "$T/pids.count")"
child=$(awk '{ print $2 }' "$T/pids.count")
[ "$(awk '{ print $4 }' "/proc/$child/stat")" = "$wpid" ] ||
	fail "served child $child is not a child of worker $wpid"

# Its environment: cleaned, with the protocol's variables.
e=$(run s env)
envs=$(result "$e" | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$envs" = "LANG PATH TQ_QUEUE TQ_SERVE TQ_SERVE_IN TQ_SERVE_OUT TQ_TASK_NAME " ] ||
	fail "environment of a served child: $envs"

# Echo, and progress as tq show sees it.
[ "$(result "$(run s 'hello, served')")" = "hello, served" ] || fail "echo"
id=$("$BIN/tq" submit s progress)
check_progress "$id"
"$BIN/tq" wait --timeout 20 "$id" >/dev/null || fail "progress task"
[ "$(result "$id")" = done ] || fail "progress task result: $(result "$id")"

# A handler error fails the attempt; it is retried; the child stays.
f=$(run s "fail cannot resize" -m 2)
[ "$(state "$f")" = failed ] && [ "$(task_col "$f" attempts)" = 2 ] ||
	fail "handler error: state $(state "$f"), attempts $(task_col "$f" attempts)"
[ "$(err "$f")" = "cannot resize" ] || fail "handler error text: $(err "$f")"
[ "$(result "$(run s pid)")" = "$child" ] || fail "a handler error ended the child"

# Noise on stdout and stderr is logged, never the result.
n=$(run s noise)
[ "$(result "$n")" = clean ] || fail "noise became the result: $(result "$n")"
wait_log w 'event=served_output .*line="noise on stdout"' 5 || fail "stdout noise not logged"
wait_log w 'event=served_output .*fd=2 line="noise on stderr"' 5 || fail "stderr noise not logged"
[ "$(result "$(run s pid)")" = "$child" ] || fail "noise ended the child"

# A crash mid-task: that attempt fails, the task runs again on a fresh
# child and succeeds.
c=$(run s crash1 -m 3)
[ "$(state "$c")" = succeeded ] && [ "$(task_col "$c" attempts)" = 2 ] ||
	fail "crash1: state $(state "$c"), attempts $(task_col "$c" attempts), error $(err "$c")"
fresh=$(result "$c")
[ "$fresh" != "$child" ] || fail "crash1 succeeded on the child that crashed"
alive "$child" && fail "crashed child $child still runs"
first=$(sql "SELECT error FROM task_runs WHERE task_id = $(idsql "$c") AND attempt = 1")
note "crash mid-task, attempt 1: $first"
case $first in "served handler killed by signal 6"*) ;; *) fail "crash attempt error: $first" ;; esac
x=$(run s exit1 -m 2)
[ "$(state "$x")" = succeeded ] || fail "exit1: $(state "$x")"
first=$(sql "SELECT error FROM task_runs WHERE task_id = $(idsql "$x") AND attempt = 1")
case $first in "served handler exited with status 3"*) ;; *) fail "exit attempt error: $first" ;; esac
child=$(result "$x")

# A timeout kills the child (CANCEL, SIGTERM to its group); the next task
# gets a new one.
h=$(run s hang -m 1 --timeout 1)
[ "$(state "$h")" = failed ] || fail "hang: $(state "$h")"
case $(err "$h") in "timed out after 1000 ms"*) ;; *) fail "timeout error: $(err "$h")" ;; esac
wait_for 5 eval "! alive $child" || fail "timed-out child $child still runs"
after=$(result "$(run s pid)")
[ -n "$after" ] && [ "$after" != "$child" ] || fail "no fresh child after the timeout ($after)"
child=$after

# Protocol garbage: a clear error, the child killed, a fresh one next.
g=$(run s garbage -m 1)
note "garbage on fd 4: $(err "$g")"
case $(err "$g") in "served handler protocol error: frame length 1819043176 is out of range"*) ;;
*) fail "garbage error: $(err "$g")" ;; esac
w2=$(run s wrongid -m 1)
case $(err "$w2") in "served handler protocol error: frame 'O' for task 00000000-"*) ;;
*) fail "wrong id error: $(err "$w2")" ;; esac
b=$(run s "big 2000000" -m 1)
[ "$(err "$b")" = "result of 2000000 bytes exceeds max_output (1048576)" ] || fail "big result: $(err "$b")"
[ "$(result "$(run s 'after garbage')")" = "after garbage" ] || fail "no child after garbage"
r=$(run badready pid -m 1)
note "bad READY: $(err "$r")"
[ "$(err "$r")" = "served handler did not start: protocol error: protocol version 9 is not 1" ] ||
	fail "bad READY: $(err "$r")"

# Recycling: 3 tasks a child; above 40 MB of RSS, the next task gets a
# new child.
seq 1 7 | sed 's/.*/pid/' >"$T/rec.in"
"$BIN/tq" submit --from "$T/rec.in" recycle >"$T/rec.ids"
"$BIN/tq" wait --timeout 60 $(cat "$T/rec.ids") >/dev/null || fail "recycle tasks"
for id in $(cat "$T/rec.ids"); do result "$id"; echo; done | sort | uniq -c | awk '{ print $1 }' | sort -n | tr '\n' ' ' >"$T/rec.count"
note "max_tasks_per_child = 3, tasks per child over 7 tasks: $(cat "$T/rec.count")"
[ "$(cat "$T/rec.count")" = "1 3 3 " ] || fail "recycling: tasks per child $(cat "$T/rec.count")"
f1=$(result "$(run fat 'rss 64')")
f2=$(result "$(run fat pid)")
[ "$f1" != "$f2" ] || fail "a child over max_rss_mb was kept ($f1)"
wait_log w 'reason="recycled at [0-9]+ MB of rss \(max_rss_mb 40\)"' 5 || fail "rss recycling not logged"

# Nothing lost: every task ended, as each case says.
[ "$(sql "SELECT COUNT(*) FROM tasks WHERE state NOT IN ('succeeded','failed')")" = 0 ] ||
	fail "tasks not finished: $(sql "SELECT state, COUNT(*) FROM tasks GROUP BY state")"
[ "$(count_state succeeded)" -eq $((60 + 10 + 7 + 2)) ] ||
	fail "succeeded $(count_state succeeded), want $((60 + 10 + 7 + 2))"

# The worker's children die with it: SIGTERM closes fd 3 and reaps them;
# SIGKILL takes them along (PR_SET_PDEATHSIG).
kids=$(pgrep -P "$wpid" | tr '\n' ' ')
[ -n "$kids" ] || fail "no served children under worker $wpid"
kill -TERM "$wpid"
wait_for 10 eval "! alive $wpid" || fail "worker did not stop"
for k in $kids; do alive "$k" && fail "served child $k outlived its worker's exit"; done
grep -q 'reason="worker exit" status="exit status 0"' "$T/w.log" || fail "children not closed at exit"
start_worker w2 -c "$T/tq.conf" >"$T/w.pid"
wpid=$(cat "$T/w.pid")
wait_consuming w2
k=$(result "$(run s pid)")
kill -KILL "$wpid"
{ wait "$wpid"; } 2>/dev/null || true
wait_for 5 eval "! alive $k" || fail "served child $k outlived a SIGKILLed worker"

# Bad settings are refused, naming what is wrong.
bad() {	# KEY VALUE WANT
	printf '[task x]\nexec = %s\nserve = yes\n%s = %s\n' "$BIN/served" "$1" "$2" >"$T/bad.conf"
	expect 100 "bad-$1" "$BIN/tq-worker" -c "$T/bad.conf"
	grep -q -- "$3" "$T/bad-$1.err" || fail "bad $1: $(cat "$T/bad-$1.err")"
}
bad serve maybe 'serve: "maybe" is not yes or no'
bad max_tasks_per_child -1 'max_tasks_per_child: "-1" is too small'
bad max_rss_mb lots 'max_rss_mb: "lots" is invalid'
bad serve_start_timeout_s 0 'serve_start_timeout_s: "0" is too small'
printf '[task x]\nexec = %s\nmax_tasks_per_child = 5\n' "$BIN/served" >"$T/noserve.conf"
expect 100 noserve "$BIN/tq-worker" -c "$T/noserve.conf"
grep -q 'max_tasks_per_child and max_rss_mb need serve = yes' "$T/noserve.err" ||
	fail "recycling keys without serve = yes: $(cat "$T/noserve.err")"
