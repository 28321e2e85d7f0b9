# [queue NAME] defaults apply to that queue's tasks (flags still win), and
# [cron NAME] schedules of the supervisor's file are registered and run.
. "$(dirname "$0")/lib.sh"
fresh_db
cat >"$T/tq.conf" <<CONF
[tq]
queue = $TQ_QUEUE
max_attempts = 3

[queue $TQ_QUEUE]
max_attempts = 7
timeout_s = 30
priority = 4
backoff_base_ms = 50

[pool p]
queue = $TQ_QUEUE
workers = 1

[cron beat]
spec = */2 * * * * *    ; every two seconds
task = tq.echo
payload = beat
CONF
col() { sql "SELECT $2 FROM tasks WHERE id = UNHEX(REPLACE('$1','-',''))"; }
a=$("$BIN/tq" -c "$T/tq.conf" submit --delay 60 tq.echo a)
[ "$(col "$a" "CONCAT(max_attempts, ' ', timeout_ms, ' ', priority, ' ', backoff_base_ms)")" = "7 30000 4 50" ] ||
	fail "queue defaults not applied: $(col "$a" "CONCAT(max_attempts, ' ', timeout_ms, ' ', priority, ' ', backoff_base_ms)")"
b=$("$BIN/tq" -c "$T/tq.conf" submit --delay 60 -m 2 -p 1 --timeout 5 tq.echo b)
[ "$(col "$b" "CONCAT(max_attempts, ' ', timeout_ms, ' ', priority)")" = "2 5000 1" ] ||
	fail "flags did not win over queue defaults"
other=$("$BIN/tq" -c "$T/tq.conf" submit -q "other.$$" --delay 60 tq.echo c)
[ "$(col "$other" max_attempts)" = 3 ] || fail "another queue got this queue's defaults"
"$BIN/tq" cancel "$a" "$b" "$other" >/dev/null
"$BIN/tq-supervisor" -n -c "$T/tq.conf" >/dev/null || fail "-n refuses the file"
mkdir -m 700 "$T/ctl"
"$BIN/tq-supervisor" -c "$T/tq.conf" --node cfg --control "$T/ctl/s.sock" >"$T/sup.log" 2>&1 &
PIDS+=($!)
sleep 5.5
n=$(sql "SELECT COUNT(*) FROM tasks WHERE name = 'tq.echo' AND payload = 'beat'")
[ "$n" -ge 2 ] && [ "$n" -le 4 ] || fail "[cron beat] enqueued $n tasks in 5.5 s"
"$BIN/tq" cron list | grep -q '^beat ' || fail "tq cron list does not show the config's schedule"
printf '[cron bad]\nspec = 61 * * * *\ntask = tq.echo\n' >"$T/bad.conf"
set +e
"$BIN/tq-supervisor" -n -c "$T/bad.conf" --queue q --workers 1 2>"$T/bad.err"
rc=$?
set -e
[ "$rc" -eq 100 ] && grep -q 'cron bad' "$T/bad.err" || fail "bad cron spec: exit $rc: $(cat "$T/bad.err")"
