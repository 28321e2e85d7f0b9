# /metrics is Prometheus text: finished tasks counted by the workers that
# finished them (and written to tq_rollup, where tq stats reads them), live
# tasks by the leader.
. "$(dirname "$0")/lib.sh"
fresh_db
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -m 700 "$T/ctl"
TQ_METRICS_LISTEN=127.0.0.1:$port "$BIN/tq-supervisor" --node met \
	--queue "$TQ_QUEUE" --workers 2 --control "$T/ctl/s.sock" >"$T/sup.log" 2>&1 &
PIDS+=($!)
ids=""
for i in 1 2 3 4 5; do ids="$ids $("$BIN/tq" submit tq.echo "m$i")"; done
f=$("$BIN/tq" submit --max-attempts 1 tq.fail nope)
# shellcheck disable=SC2086
"$BIN/tq" wait --timeout 20 $ids || fail "tasks did not succeed"
set +e
"$BIN/tq" wait --timeout 20 "$f"
set -e
sleep 6	# counts go to tq_rollup, and live counts are taken, every 5 s
curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics" || fail "no /metrics"
# Finished tasks: counted by the workers that finished them.
grep -q "^tq_tasks_finished_total{node=\"met\",queue=\"$TQ_QUEUE\",name=\"tq.echo\",outcome=\"succeeded\"} 5$" "$T/metrics" ||
	fail "tq_tasks_finished_total succeeded is not 5: $(grep tq_tasks_finished "$T/metrics")"
grep -q "^tq_tasks_finished_total{node=\"met\",queue=\"$TQ_QUEUE\",name=\"tq.fail\",outcome=\"failed\"} 1$" "$T/metrics" ||
	fail "tq_tasks_finished_total failed is not 1"
grep -q "^tq_task_wait_seconds_count{node=\"met\",queue=\"$TQ_QUEUE\",name=\"tq.echo\"} 5$" "$T/metrics" ||
	fail "no queue wait histogram of 5 first attempts"
# Live tasks: from the leader (this node), a gauge per queue and state.
grep -q '^# TYPE tq_tasks gauge$' "$T/metrics" || fail "no tq_tasks family"
l=$("$BIN/tq" submit --delay 3600 tq.echo later)
# Flow control, from the leader too: a paused queue, a limit.
"$BIN/tq" pause "other.$TQ_QUEUE" >/dev/null
"$BIN/tq" limit set met:lim --concurrency 4 >/dev/null
sleep 6
curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics" || fail "no /metrics"
grep -q "^tq_tasks{queue=\"$TQ_QUEUE\",state=\"scheduled\"} 1$" "$T/metrics" ||
	fail "tq_tasks scheduled is not 1: $(grep '^tq_tasks{' "$T/metrics")"
grep -q "^tq_queue_paused{queue=\"other.$TQ_QUEUE\"} 1$" "$T/metrics" ||
	fail "no tq_queue_paused for the paused queue: $(grep tq_queue_paused "$T/metrics")"
grep -q '^tq_limit_tasks{limit="met:lim",state="waiting"} 0$' "$T/metrics" &&
	grep -q '^tq_limit_concurrency{limit="met:lim"} 4$' "$T/metrics" ||
	fail "no tq_limit_* for met:lim: $(grep tq_limit "$T/metrics")"
"$BIN/tq" resume "other.$TQ_QUEUE" >/dev/null
"$BIN/tq" cancel "$l" >/dev/null
stats_ok=$("$BIN/tq" stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$TQ_QUEUE']['succeeded'])")
[ "$stats_ok" = 5 ] || fail "tq stats says $stats_ok succeeded"
"$BIN/tq" stats | grep -q 'finished ones as they finished' || fail "tq stats does not say how it counted"
grep -q '^tq_tasks_run_total{node="met",pool=".*",outcome="ok"} 5$' "$T/metrics" || fail "runs ok"
grep -q '^tq_task_duration_seconds_count{node="met",' "$T/metrics" || fail "no duration histogram"
grep -q '^tq_worker_heartbeat_age_seconds{node="met"' "$T/metrics" || fail "no heartbeat ages"
# every non-comment line is NAME{LABELS} VALUE or NAME VALUE
bad=$(grep -v '^#' "$T/metrics" | grep -Evc '^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$' || true)
[ "$bad" = 0 ] || fail "$bad malformed lines"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")" = 404 ] || fail "404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "http://127.0.0.1:$port/metrics")" = 405 ] || fail "POST is not 405"
curl -sI "http://127.0.0.1:$port/metrics" >"$T/head" || fail "no HEAD /metrics"
grep -Eq "^HTTP/1\.[01] 200" "$T/head" || fail "HEAD: $(head -n1 "$T/head")"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/head" || fail "HEAD: no Prometheus text type"
curl -sf "http://127.0.0.1:$port/metrics?x=1" | grep -q '^tq_leader{node="met"} 1$' || fail "a query string is refused"
# A peer that connects and says nothing holds up neither scrapes nor the
# supervisor's loop (the HTTP daemon runs on it).
exec 3<>"/dev/tcp/127.0.0.1/$port"
t0=$EPOCHREALTIME
curl -sf -m 2 "http://127.0.0.1:$port/metrics" | grep -q '^tq_leader' || fail "no scrape beside an idle connection"
awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 1) }' || fail "a scrape waited on an idle connection"
"$BIN/tq" wait --timeout 10 "$("$BIN/tq" submit tq.echo beside)" >/dev/null || fail "no task ran beside an idle connection"
exec 3>&-
