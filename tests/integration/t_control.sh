# Task control: delays, time limits, cancellation, unique keys,
# priorities, retries with backoff, results, retry and purge of the
# dead-letter set.
. "$(dirname "$0")/lib.sh"
fresh_db
export TQ_BACKOFF_BASE_MS=1000 TQ_BACKOFF_CAP_MS=60000
start_worker w1 >/dev/null
start_worker w2 >/dev/null
idhex() { echo "UNHEX(REPLACE('$1','-',''))"; }
col() { sql "SELECT $2 FROM tasks WHERE id = $(idhex "$1")"; }

# A 3 s delay starts no earlier than 3 s and no later than 4 s after submit.
d=$("$BIN/tq" submit --delay 3 tq.echo later)
[ "$(col "$d" state)" = scheduled ] || fail "a delayed task is not scheduled"
"$BIN/tq" wait --timeout 10 "$d" || fail "the delayed task did not succeed"
ms=$(col "$d" "TIMESTAMPDIFF(MICROSECOND, created_at, started_at) DIV 1000")
note "3 s delay: started ${ms} ms after submit"
[ "$ms" -ge 3000 ] && [ "$ms" -le 4000 ] || fail "3 s delay started after $ms ms"

# A time limit: tq.sleep 60000 with --timeout 2 fails "timed out" in 2-4 s.
t=$("$BIN/tq" submit --timeout 2 --max-attempts 1 tq.sleep 60000)
start=$(date +%s%N)
set +e
"$BIN/tq" wait --timeout 10 "$t"
rc=$?
set -e
el=$(( ($(date +%s%N) - start) / 1000000 ))
note "--timeout 2: ended after $el ms: $(col "$t" "CONCAT(state, ': ', error)")"
[ "$rc" -eq 1 ] || fail "timed-out task: wait exited $rc"
[ "$(col "$t" state)" = failed ] || fail "timed-out task not failed"
col "$t" error | grep -q 'timed out' || fail "error is not 'timed out'"
[ "$el" -ge 1900 ] && [ "$el" -le 4000 ] || fail "timed out after $el ms, want 2-4 s"

# Cancelling a running task: cancelled within 1 s, never retried.
c=$("$BIN/tq" submit --max-attempts 5 tq.sleep 60000)
running() { [ "$(col "$c" state)" = running ]; }
wait_for 10 running || fail "the task to cancel never ran"
start=$(date +%s%N)
"$BIN/tq" cancel "$c" | grep -q 'asked to stop' || fail "cancel did not ask to stop"
cancelled() { [ "$(col "$c" state)" = cancelled ]; }
wait_for 5 cancelled || fail "running task not cancelled: $(col "$c" state)"
el=$(( ($(date +%s%N) - start) / 1000000 ))
note "cancel of a running task: cancelled after $el ms"
[ "$el" -le 1000 ] || fail "cancel took $el ms"
sleep 2
[ "$(col "$c" "CONCAT(state, ' ', attempts)")" = "cancelled 1" ] ||
	fail "cancelled task changed: $(col "$c" "CONCAT(state, ' ', attempts)")"
[ "$(sql "SELECT COUNT(*) FROM task_runs WHERE task_id = $(idhex "$c")")" = 1 ] ||
	fail "a cancelled task ran again"
# cancelling a queued one is immediate; a finished one stays finished
q=$("$BIN/tq" submit --delay 60 tq.echo x)
"$BIN/tq" cancel "$q" | grep -q cancelled || fail "cancel of a scheduled task"
[ "$(col "$q" state)" = cancelled ] || fail "scheduled task not cancelled"
set +e
"$BIN/tq" cancel "$d" >/dev/null
rc=$?
set -e
[ "$rc" -eq 1 ] && [ "$(col "$d" state)" = succeeded ] || fail "cancel of a finished task"

# Unique keys: while the first is not finished, the same key gives its id.
k1=$("$BIN/tq" submit --delay 30 --key nightly tq.echo a)
k2=$("$BIN/tq" submit --key nightly tq.echo b)
[ "$k1" = "$k2" ] || fail "same key gave two ids: $k1 $k2"
[ "$(sql "SELECT COUNT(*) FROM tasks WHERE unique_key = 'nightly'")" = 1 ] ||
	fail "same key made two rows"
"$BIN/tq" cancel "$k1" >/dev/null
k3=$("$BIN/tq" submit --key nightly tq.echo c)
[ "$k3" != "$k1" ] || fail "a finished task still holds its key"
"$BIN/tq" wait --timeout 10 "$k3" || fail "keyed task"

# Retries back off: exponential with full jitter, base 1 s.
f=$("$BIN/tq" submit --max-attempts 4 --backoff 1 tq.fail again)
set +e
"$BIN/tq" wait --timeout 40 "$f"
set -e
[ "$(col "$f" "CONCAT(state, ' ', attempts)")" = "failed 4" ] ||
	fail "tq.fail: $(col "$f" "CONCAT(state, ' ', attempts)"), want failed 4"
gaps=$(sql "SELECT TIMESTAMPDIFF(MICROSECOND, LAG(finished_at) OVER (ORDER BY attempt), started_at) DIV 1000 FROM task_runs WHERE task_id = $(idhex "$f") ORDER BY attempt" | tail -n +2 | tr '\n' ' ')
note "backoff gaps between attempts (ms): $gaps (bounds 1000, 2000, 4000 + 500 slack)"
i=0
for g in $gaps; do
	bound=$(( (1000 << i) + 500 ))
	[ "$g" -le "$bound" ] || fail "gap $i is $g ms, over $bound"
	i=$((i + 1))
done
[ "$i" -eq 3 ] || fail "want 3 gaps, got $i"
[ "$(printf '%s\n' $gaps | sort -u | wc -l)" -gt 1 ] || fail "gaps not jittered: $gaps"

# The dead-letter set: listed, retried, results.
"$BIN/tq" failed | grep -q "$f" || fail "tq failed does not list $f"
"$BIN/tq" retry "$f" | grep -q '1 tasks retried' || fail "tq retry"
[ "$(col "$f" attempts)" -le 1 ] || fail "retry did not reset attempts"
set +e
"$BIN/tq" wait --timeout 40 "$f"
set -e
[ "$(sql "SELECT COUNT(*) FROM task_runs WHERE task_id = $(idhex "$f")")" = 8 ] ||
	fail "retried task did not run its 4 attempts again"
r=$("$BIN/tq" submit tq.echo "raw result")
"$BIN/tq" wait --timeout 10 "$r"
[ "$("$BIN/tq" result "$r")" = "raw result" ] || fail "tq result"
set +e
"$BIN/tq" result "$f" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "tq result of a failed task exited $rc"

# Purge never touches a task that is not finished.
p=$("$BIN/tq" submit --delay 60 tq.echo keep)
before=$(sql "SELECT COUNT(*) FROM tasks WHERE state = 'succeeded'")
"$BIN/tq" purge --state succeeded --older-than 0s | grep -q "$before tasks purged" ||
	fail "purge did not delete the $before succeeded tasks"
[ "$(col "$p" state)" = scheduled ] || fail "purge touched a scheduled task"
[ "$(sql "SELECT COUNT(*) FROM tasks WHERE state = 'succeeded'")" = 0 ] || fail "purge left succeeded tasks"
set +e
"$BIN/tq" purge --state queued --older-than 0s 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "purge of queued tasks exited $rc, want 2"
