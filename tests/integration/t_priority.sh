# Priorities: with one busy worker taking one task at a time, a task of
# priority 9 submitted after five of priority 0 runs before most of them.
. "$(dirname "$0")/lib.sh"
fresh_db
start_worker w1 --prefetch 1 --batch 1 >/dev/null
wait_consuming w1 2>/dev/null || sleep 1
b=$("$BIN/tq" submit tq.sleep 1500)
sleep 0.3
lows=""
for i in 1 2 3 4 5; do lows="$lows $("$BIN/tq" submit tq.echo "low $i")"; done
hi=$("$BIN/tq" submit --priority 9 tq.echo high)
# shellcheck disable=SC2086
"$BIN/tq" wait --timeout 30 "$b" $lows "$hi" || fail "tasks did not succeed"
order=$(sql "SELECT payload FROM tasks WHERE name = 'tq.echo' ORDER BY started_at" | tr '\n' ',')
note "start order: $order"
pos=$(sql "SELECT COUNT(*) FROM tasks WHERE name = 'tq.echo' AND started_at < (SELECT started_at FROM tasks WHERE payload = 'high')")
[ "$pos" -le 1 ] || fail "the priority 9 task started after $pos others: $order"
