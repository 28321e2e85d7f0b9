# A */2 s schedule enqueues one task per tick; with the leading supervisor
# SIGKILLed mid-run and the other taking over, no tick is enqueued twice.
. "$(dirname "$0")/lib.sh"
fresh_db
export TQ_LEADER_TTL_MS=2000 TQ_NODE_TIMEOUT_MS=2000
"$BIN/tq" cron add every2 '*/2 * * * * *' tq.echo tick >/dev/null
mkdir -m 700 "$T/ctl"
"$BIN/tq-supervisor" --node cron-a --queue "$TQ_QUEUE" --workers 1 \
	--control "$T/ctl/a.sock" >"$T/a.log" 2>&1 &
PIDS+=($!)
A=$!
sleep 0.5
"$BIN/tq-supervisor" --node cron-b --queue "$TQ_QUEUE" --workers 1 \
	--control "$T/ctl/b.sock" >"$T/b.log" 2>&1 &
PIDS+=($!)
B=$!
sleep 5
leader=$(sql "SELECT SUBSTRING_INDEX(holder, '/', 1) FROM tq_leader WHERE name = 'reconciler'")
case "$leader" in
cron-a) kill -KILL "$A"; other=b ;;
cron-b) kill -KILL "$B"; other=a ;;
*) fail "no leader: $leader" ;;
esac
note "killed leader $leader"
sleep 8
grep -q 'event=leader ' "$T/$other.log" || fail "cron-$other never led"
"$BIN/tq" cron remove every2 >/dev/null
ticks=$(sql "SELECT COUNT(*) FROM tq_cron_ticks WHERE name = 'every2'")
tasks=$(sql "SELECT COUNT(*) FROM tasks WHERE name = 'tq.echo' AND payload = 'tick'")
dups=$(sql "SELECT COUNT(*) FROM (SELECT tick FROM tq_cron_ticks GROUP BY name, tick HAVING COUNT(*) > 1) d")
odd=$(sql "SELECT COUNT(*) FROM tq_cron_ticks WHERE SECOND(tick) % 2 = 1")
note "ticks enqueued: $ticks, tasks: $tasks, in ~13 s with a leader kill"
[ "$dups" = 0 ] || fail "$dups ticks enqueued twice"
[ "$ticks" = "$tasks" ] || fail "$ticks ticks but $tasks tasks"
[ "$odd" = 0 ] || fail "ticks off the */2 schedule"
[ "$ticks" -ge 4 ] && [ "$ticks" -le 8 ] || fail "$ticks ticks in ~13 s"
# every tick's task ran (none lost through the failover)
ids=$(sql "SELECT LOWER(INSERT(INSERT(INSERT(INSERT(HEX(task_id),9,0,'-'),14,0,'-'),19,0,'-'),24,0,'-')) FROM tq_cron_ticks")
# shellcheck disable=SC2086
"$BIN/tq" wait --timeout 30 $ids || fail "a tick's task did not succeed"
