# The dashboard in a real browser (tests/web/dashboard.mjs: Playwright
# driving Debian's chromium) against tq web on real servers with real
# tasks: the overview shows the database's counts, a hostile payload is
# text, a running task's progress moves, a failed task retried from the
# page succeeds, and so does a scheduled task run now from the page;
# screenshots of each view under var/web-shots/, checked non-blank.
# Skipped, saying so, only when node or chromium is missing.
. "$(dirname "$0")/lib.sh"
CHROMIUM=${TQ_CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null 2>&1 || [ ! -x "$CHROMIUM" ]; then
	note "SKIP: needs node and $CHROMIUM (ci/install-deps installs both)"
	exit 0
fi
[ -f "$ROOT/tests/web/node_modules/playwright-core/package.json" ] ||
	fail "tests/web/node_modules lacks playwright-core: run ci/install-deps (npm ci in tests/web)"
fresh_db
trap sup_cleanup EXIT
declare -A SUP_PID
SUPS=()

flaky_handler "$T/flaky.sh"
cat >"$T/tq.conf" <<CONF
[tq]
queue = $TQ_QUEUE

[pool p]
queue = $TQ_QUEUE
workers = 2

[pool progress]
queue = $TQ_QUEUE.p
workers = 1

[task flaky]
exec = $T/flaky.sh
CONF
QUEUES+=("$TQ_QUEUE.p")
sup_start web -c "$T/tq.conf" --node browser
hostile='<script>alert(1)</script><img src=x onerror=alert(2)>'
ids=""
for i in 1 2 3 4; do ids="$ids $("$BIN/tq" submit tq.echo "b$i")"; done
h=$("$BIN/tq" submit tq.echo "$hostile")
f=$("$BIN/tq" submit --max-attempts 1 flaky "data")
later=$("$BIN/tq" submit --delay 3600 tq.echo later)
# A parent and its child (--after), in the progress queue: the counts of
# the main queue stay as they are.
parent=$("$BIN/tq" submit -q "$TQ_QUEUE.p" --delay 3600 tq.echo parent)
child=$("$BIN/tq" submit -q "$TQ_QUEUE.p" --after "$parent" tq.echo child)
"$BIN/tq" cron add "web-$$" '0 3 * * *' tq.echo nightly >/dev/null
# shellcheck disable=SC2086
"$BIN/tq" wait --timeout 30 $ids "$h" || fail "tasks did not succeed"
expect 1 wait-flaky "$BIN/tq" wait --timeout 30 "$f"
# The counts the page must show, once the rollup has them (every 5 s).
rollup_done() {
	[ "$(sql "SELECT IFNULL(SUM(n), 0) FROM tq_rollup WHERE queue = '$TQ_QUEUE' AND outcome = 'succeeded'")" -ge 5 ]
}
wait_for 15 rollup_done || fail "the supervisor wrote no rollup"
expect_json=$(sql "SELECT CONCAT('{', GROUP_CONCAT(CONCAT('\"', s, '\": ', n)), '}') FROM
	(SELECT st.s, (SELECT COUNT(*) FROM tasks WHERE queue = '$TQ_QUEUE' AND state = st.s) n
	FROM (SELECT 'pending' s UNION ALL SELECT 'queued' UNION ALL SELECT 'scheduled' UNION ALL
	SELECT 'running' UNION ALL SELECT 'succeeded' UNION ALL SELECT 'failed' UNION ALL
	SELECT 'cancelled') st) x")
# A running task, whose progress the page must see move (in a queue of
# its own, so that the counts above hold while it runs).
p=$("$BIN/tq" submit -q "$TQ_QUEUE.p" tq.progress 30000)

umask 077
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/token"
umask 022
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN/tq" web --listen "127.0.0.1:$port" --token-file "$T/token" >"$T/web.log" 2>&1 &
PIDS+=($!)
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/api/session" || fail "tq web did not answer"
shots=${TQ_VAR:-$ROOT/var}/web-shots
rm -rf "$shots"
mkdir -p "$shots"
set +e
TQ_WEB_URL="http://127.0.0.1:$port" TQ_WEB_TOKEN=$(cat "$T/token") \
TQ_WEB_SHOTS=$shots TQ_WEB_QUEUE=$TQ_QUEUE TQ_WEB_EXPECT=$expect_json \
TQ_WEB_HOSTILE=$h TQ_WEB_HOSTILE_PAYLOAD=$hostile TQ_WEB_FAILED=$f \
TQ_WEB_PROGRESS=$p TQ_WEB_FLAG=$T/flag TQ_WEB_SCHEDULED=$later \
TQ_WEB_PARENT=$parent TQ_WEB_CHILD=$child TQ_CHROMIUM=$CHROMIUM \
	timeout 180 node "$ROOT/tests/web/dashboard.mjs" >"$T/browser.log" 2>&1
rc=$?
set -e
sed 's/^/    /' "$T/browser.log" >&2
[ "$rc" -eq 0 ] || fail "the browser test failed (exit $rc)"
[ "$("$BIN/tq" show --json "$f" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = succeeded ] ||
	fail "the task retried from the page is not succeeded in the database"
grep -q "event=web_action action=retry task=$f remote=127.0.0.1" "$T/web.log" ||
	fail "the page's retry is not logged"
grep -q "event=web_action action=retry task=$later remote=127.0.0.1:[0-9]* result=run_now" "$T/web.log" ||
	fail "the page's run now is not logged"
note "screenshots in $shots: $(cd "$shots" && echo *.png)"
