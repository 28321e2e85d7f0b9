# tq web against real servers, with curl: the API's counts are the
# database's, a hostile payload comes back as data, every answer carries
# the CSP, a POST without the token or the CSRF value is refused (and a
# server without a token file refuses every POST), a failed task retried
# with the token then succeeds, and the action is logged with who asked.
. "$(dirname "$0")/lib.sh"
fresh_db
trap sup_cleanup EXIT
declare -A SUP_PID
SUPS=()

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# jq-like: json FILE EXPR (python over the parsed document d)
json() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# A handler that fails until its flag file exists.
flaky_handler "$T/flaky.sh"
cat >"$T/tq.conf" <<CONF
[tq]
queue = $TQ_QUEUE

[pool p]
queue = $TQ_QUEUE
workers = 2
hang_timeout_ms = 3000

[task flaky]
exec = $T/flaky.sh
CONF
sup_start web -c "$T/tq.conf" --node web
hostile='<script>alert(1)</script><img src=x onerror=alert(2)>'
ids=""
for i in 1 2 3 4 5; do ids="$ids $("$BIN/tq" submit tq.echo "w$i")"; done
h=$("$BIN/tq" submit tq.echo "$hostile")
f=$("$BIN/tq" submit --max-attempts 1 flaky "data")
l=$("$BIN/tq" submit --delay 3600 tq.echo later)
# shellcheck disable=SC2086
"$BIN/tq" wait --timeout 30 $ids "$h" || fail "tasks did not succeed"
expect 1 wait-flaky "$BIN/tq" wait --timeout 30 "$f"

umask 077
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/token"
umask 022
port=$(free_port)
B=http://127.0.0.1:$port
"$BIN/tq" web --listen "127.0.0.1:$port" --token-file "$T/token" \
	>"$T/web.log" 2>&1 &
PIDS+=($!)
wait_for 10 curl -sf -o /dev/null "$B/api/session" || fail "tq web did not answer"

# A token others can read is refused, and so is a usage error.
cp "$T/token" "$T/token.open"
chmod 644 "$T/token.open"
expect 100 open-token "$BIN/tq" web --listen "127.0.0.1:$(free_port)" \
	--token-file "$T/token.open"
grep -q 'mode 0600' "$T/open-token.err" || fail "open token file: $(cat "$T/open-token.err")"
expect 2 bad-listen "$BIN/tq" web --listen nowhere
expect 0 help "$BIN/tq" web --help
grep -q -- '--token-file' "$T/help.out" || fail "tq web --help says nothing of --token-file"

# Counts: live ones now, finished ones once the supervisor wrote them to
# tq_rollup (every 5 s); each equal to the rows.
counts_equal() {
	curl -sf "$B/api/overview" >"$T/overview.json" || return 1
	local s got want
	for s in pending queued scheduled running succeeded failed cancelled; do
		got=$(json "$T/overview.json" "next((q['counts']['$s'] for q in d['queues'] if q['queue'] == '$TQ_QUEUE'), -1)")
		want=$(sql "SELECT COUNT(*) FROM tasks WHERE queue = '$TQ_QUEUE' AND state = '$s'")
		[ "$got" = "$want" ] || return 1
	done
}
wait_for 15 counts_equal || fail "overview counts differ from the database: $(cat "$T/overview.json")"
[ "$(json "$T/overview.json" "next(q['counts']['succeeded'] for q in d['queues'] if q['queue'] == '$TQ_QUEUE')")" = 6 ] ||
	fail "overview: succeeded is not 6"
[ "$(json "$T/overview.json" "sum(d['finished']['succeeded'])")" -ge 6 ] ||
	fail "overview: the hourly series hold fewer than 6 successes"

# The task list: every task of the queue, newest first, paged by key.
curl -sf "$B/api/tasks?queue=$TQ_QUEUE&limit=3" >"$T/page1.json" || fail "no task list"
[ "$(json "$T/page1.json" "len(d['tasks'])")" = 3 ] || fail "page 1 has not 3 tasks"
[ "$(json "$T/page1.json" "d['tasks'][0]['id']")" = "$l" ] || fail "page 1 does not start with the newest task"
seen=0 cursor=""
while :; do
	curl -sf "$B/api/tasks?queue=$TQ_QUEUE&limit=3&cursor=$cursor" >"$T/page.json" ||
		fail "no task list page at cursor \"$cursor\""
	seen=$((seen + $(json "$T/page.json" "len(d['tasks'])")))
	cursor=$(json "$T/page.json" "d['next'] or ''")
	[ -n "$cursor" ] || break
done
[ "$seen" = "$(sql "SELECT COUNT(*) FROM tasks WHERE queue = '$TQ_QUEUE'")" ] ||
	fail "the pages held $seen tasks"
curl -sf "$B/api/tasks?state=succeeded&queue=$TQ_QUEUE" >"$T/ok.json"
[ "$(json "$T/ok.json" "len(d['tasks'])")" = 6 ] || fail "succeeded list: $(cat "$T/ok.json")"
curl -sf "$B/api/tasks?state=succeeded&name=tq.echo" >"$T/okname.json"
[ "$(json "$T/okname.json" "len(d['tasks'])")" = 6 ] || fail "succeeded by name: $(cat "$T/okname.json")"
curl -sf "$B/api/tasks?state=failed" >"$T/failed.json"
[ "$(json "$T/failed.json" "d['tasks'][0]['id']")" = "$f" ] || fail "the failed list lacks $f"
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/api/tasks?cursor=junk")
[ "$code" = 400 ] || fail "a bad cursor gave $code"

# The hostile payload: JSON data, not markup; served as JSON, not sniffed.
curl -sf -D "$T/task.h" "$B/api/tasks/$h" >"$T/task.json" || fail "no task detail"
[ "$(json "$T/task.json" "d['payload']")" = "$hostile" ] || fail "payload changed: $(cat "$T/task.json")"
[ "$(json "$T/task.json" "d['result']")" = "$hostile" ] || fail "result changed"
grep -q '<\\/script>' "$T/task.json" || fail "the JSON does not escape </script>"
grep -qi '^content-type: application/json' "$T/task.h" || fail "task detail is not JSON"
grep -qi '^x-content-type-options: nosniff' "$T/task.h" || fail "no nosniff"
[ "$(json "$T/task.json" "len(d['runs'])")" = 1 ] || fail "the runs of $h"
curl -sf "$B/api/tasks/$h/payload" >"$T/raw" || fail "no payload download"
[ "$(cat "$T/raw")" = "$hostile" ] || fail "the download is not the payload"

# Every answer carries the CSP, with no inline script.
for u in / /app.js /api/overview "/api/tasks/$h"; do
	curl -s -D "$T/h" -o /dev/null "$B$u"
	grep -qi "^content-security-policy: default-src 'none'; script-src 'self';" "$T/h" ||
		fail "no CSP on $u: $(cat "$T/h")"
	! grep -qi 'unsafe-inline' "$T/h" || fail "CSP on $u allows inline"
done
curl -s "$B/" | grep -q '<script src="/app.js"' || fail "the page loads no app.js"
! curl -s "$B/" | grep -q '<script>' || fail "the page holds an inline script"
# A foreign Host (DNS rebinding) gets nothing.
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "$B/api/overview")
[ "$code" = 421 ] || fail "a foreign Host gave $code"

# POSTs: refused without the token, without CSRF, cross-origin.
tok=$(cat "$T/token")
post() { curl -s -o "$T/post.json" -w '%{http_code}' -X POST "$@"; }
[ "$(post "$B/api/tasks/$f/retry")" = 401 ] || fail "a POST without token was not refused"
[ "$(post -H "Authorization: Bearer wrong-token-0123456789" "$B/api/tasks/$f/retry")" = 401 ] ||
	fail "a wrong token was not refused"
[ "$(post -H "Authorization: Bearer $tok" "$B/api/tasks/$f/retry")" = 403 ] ||
	fail "a POST without CSRF was not refused"
curl -sf -c "$T/cookies" "$B/api/session" >"$T/session.json"
csrf=$(json "$T/session.json" "d['csrf']")
[ "$(json "$T/session.json" "d['write']")" = True ] || fail "session: write is not on"
[ "$(post -H "Authorization: Bearer $tok" -H "X-TQ-CSRF: $csrf" "$B/api/tasks/$f/retry")" = 403 ] ||
	fail "a POST without the CSRF cookie was not refused"
[ "$(post -b "$T/cookies" -H "Authorization: Bearer $tok" -H "X-TQ-CSRF: $csrf" \
	-H "Origin: http://evil.example" "$B/api/tasks/$f/retry")" = 403 ] ||
	fail "a cross-origin POST was not refused"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$B/api/tasks/$f")" = 405 ] ||
	fail "DELETE was not refused"
[ "$(sql "SELECT state FROM tasks WHERE id = UNHEX(REPLACE('$f', '-', ''))")" = failed ] ||
	fail "a refused POST changed the task"

# The retry, with the token: the task runs again and succeeds.
touch "$T/flag"
[ "$(post -b "$T/cookies" -H "Authorization: Bearer $tok" -H "X-TQ-CSRF: $csrf" \
	-H "Origin: $B" "$B/api/tasks/$f/retry")" = 200 ] || fail "retry: $(cat "$T/post.json")"
"$BIN/tq" wait --timeout 30 "$f" || fail "the retried task did not succeed"
[ "$(post -b "$T/cookies" -H "Authorization: Bearer $tok" -H "X-TQ-CSRF: $csrf" \
	"$B/api/tasks/$f/retry")" = 409 ] || fail "a retry of a succeeded task: $(cat "$T/post.json")"
# Pause and resume a queue, as tq pause does, and its mark on the overview.
authp() { post -b "$T/cookies" -H "Authorization: Bearer $tok" -H "X-TQ-CSRF: $csrf" "$@"; }
[ "$(post "$B/api/queues/wq.$$/pause")" = 401 ] || fail "a pause without token was not refused"
[ "$(authp "$B/api/queues/wq.$$/pause")" = 200 ] || fail "pause: $(cat "$T/post.json")"
[ "$(json "$T/post.json" "d['changed']")" = True ] || fail "pause did not pause: $(cat "$T/post.json")"
"$BIN/tq" pause | grep -q "^wq.$$ .*tq web" || fail "tq pause does not list the queue paused by tq web: $("$BIN/tq" pause)"
curl -sf "$B/api/overview" >"$T/ov.json"
[ "$(json "$T/ov.json" "[p['queue'] for p in d['paused']] == ['wq.$$']")" = True ] ||
	fail "overview: paused is $(json "$T/ov.json" "d['paused']")"
[ "$(json "$T/ov.json" "sorted(d['recent'])")" = "['h1', 'latency', 'm5', 'sample_s']" ] ||
	fail "overview: recent is $(json "$T/ov.json" "d['recent']")"
[ "$(authp "$B/api/queues/wq.$$/resume")" = 200 ] || fail "resume: $(cat "$T/post.json")"
[ "$("$BIN/tq" pause)" = "" ] || fail "still paused after the resume from the page"
[ "$(authp "$B/api/queues/bad%20name/pause")" = 400 ] || fail "a bad queue name: $(cat "$T/post.json")"
[ "$(authp "$B/api/queues/wq.$$/stop")" = 404 ] || fail "an unknown queue action: $(cat "$T/post.json")"
# Cancel of the scheduled one.
[ "$(post -b "$T/cookies" -H "Authorization: Bearer $tok" -H "X-TQ-CSRF: $csrf" \
	"$B/api/tasks/$l/cancel")" = 200 ] || fail "cancel: $(cat "$T/post.json")"
[ "$("$BIN/tq" show --json "$l" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = cancelled ] ||
	fail "the cancelled task is not cancelled"
grep -q "event=web_action action=retry task=$f remote=127.0.0.1:[0-9]* result=scheduled" "$T/web.log" ||
	fail "the retry is not logged with who asked"
grep -q "event=web_action action=cancel task=$l remote=127.0.0.1" "$T/web.log" ||
	fail "the cancel is not logged"
! grep -q "$tok" "$T/web.log" || fail "the token is in the log"

# Without a token file, every POST is refused, whatever it carries.
port2=$(free_port)
"$BIN/tq" web --listen "127.0.0.1:$port2" >"$T/web-ro.log" 2>&1 &
PIDS+=($!)
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port2/api/session" || fail "read-only tq web did not answer"
curl -sf -c "$T/cookies2" "http://127.0.0.1:$port2/api/session" >"$T/session2.json"
[ "$(post -b "$T/cookies2" -H "Authorization: Bearer $tok" \
	-H "X-TQ-CSRF: $(json "$T/session2.json" "d['csrf']")" \
	"http://127.0.0.1:$port2/api/tasks/$f/cancel")" = 403 ] || fail "a read-only server took a POST"

# Scheduled: delayed tasks and a retry waiting for its backoff, with their
# due time and last error; run now (one, then all of the queue) and cancel
# all, as tq retry and tq cancel do it. A child waiting for its parent is
# left alone by both.
s1=$("$BIN/tq" submit --delay 3600 tq.echo s1)
s2=$("$BIN/tq" submit --delay 3600 tq.echo s2)
s3=$("$BIN/tq" submit --delay 3600 tq.echo s3)
kid=$("$BIN/tq" submit --after "$s3" tq.echo kid)
bo=$("$BIN/tq" submit --max-attempts 5 --backoff 3600 tq.fail again)
sched_has_error() {
	curl -sf "$B/api/tasks?state=scheduled&queue=$TQ_QUEUE" >"$T/sched.json" &&
		[ "$(json "$T/sched.json" "any(t['id'] == '$bo' and t['attempts'] == 1 and t['error'] for t in d['tasks'])")" = True ]
}
wait_for 15 sched_has_error || fail "the scheduled list lacks the retry of $bo with its error: $(cat "$T/sched.json")"
[ "$(json "$T/sched.json" "sorted(t['id'] for t in d['tasks']) == sorted(['$s1', '$s2', '$s3', '$kid', '$bo'])")" = True ] ||
	fail "the scheduled list: $(cat "$T/sched.json")"
[ "$(json "$T/sched.json" "all(t['due_at'] for t in d['tasks'] if t['id'] != '$kid') and next(t for t in d['tasks'] if t['id'] == '$kid')['waiting'] == 1")" = True ] ||
	fail "the scheduled list's due times and waiting: $(cat "$T/sched.json")"
[ "$(post -b "$T/cookies" -H "Authorization: Bearer $tok" -H "X-TQ-CSRF: $csrf" \
	"$B/api/tasks/$kid/retry")" = 409 ] || fail "run now of a waiting child: $(cat "$T/post.json")"
[ "$(post -b "$T/cookies" -H "Authorization: Bearer $tok" -H "X-TQ-CSRF: $csrf" \
	"$B/api/tasks/$s1/retry")" = 200 ] || fail "run now: $(cat "$T/post.json")"
"$BIN/tq" wait --timeout 10 "$s1" >/dev/null || fail "the task run now did not succeed"
grep -q "event=web_action action=retry task=$s1 remote=127.0.0.1:[0-9]* result=run_now" "$T/web.log" ||
	fail "the run now is not logged"
[ "$(post -b "$T/cookies" -H "Authorization: Bearer $tok" -H "X-TQ-CSRF: $csrf" \
	"$B/api/run-scheduled?queue=$TQ_QUEUE")" = 200 ] || fail "run all now: $(cat "$T/post.json")"
[ "$(json "$T/post.json" "d['run_now']")" = 3 ] || fail "run all now ran not 3 (s2, s3, the retry): $(cat "$T/post.json")"
"$BIN/tq" wait --timeout 10 "$s2" "$s3" "$kid" >/dev/null || fail "the tasks run now (and the child after) did not succeed"
wait_for 10 sched_has_error || true
[ "$(json "$T/sched.json" "[t['attempts'] for t in d['tasks'] if t['id'] == '$bo']")" = "[2]" ] ||
	fail "the retry run now did not run again: $(cat "$T/sched.json")"
[ "$(post -b "$T/cookies" -H "Authorization: Bearer $tok" -H "X-TQ-CSRF: $csrf" \
	"$B/api/cancel-scheduled?queue=$TQ_QUEUE")" = 200 ] || fail "cancel all: $(cat "$T/post.json")"
[ "$(json "$T/post.json" "d['cancelled']")" = 1 ] || fail "cancel all cancelled not 1: $(cat "$T/post.json")"
[ "$(sql "SELECT state FROM tasks WHERE id = UNHEX(REPLACE('$bo', '-', ''))")" = cancelled ] ||
	fail "the scheduled retry is not cancelled"
grep -q "event=web_action action=cancel_scheduled queue=$TQ_QUEUE remote=127.0.0.1:[0-9]* cancelled=1" "$T/web.log" ||
	fail "the cancel of all scheduled is not logged"
# A task's --after parents and children, with their names and states.
curl -sf "$B/api/tasks/$kid" >"$T/kid.json" || fail "no task detail of $kid"
[ "$(json "$T/kid.json" "[(p['id'], p['name'], p['state']) for p in d['parents']] == [('$s3', 'tq.echo', 'succeeded')] and d['children'] == []")" = True ] ||
	fail "the parents of $kid: $(cat "$T/kid.json")"
curl -sf "$B/api/tasks/$s3" >"$T/s3.json" || fail "no task detail of $s3"
[ "$(json "$T/s3.json" "[c['id'] for c in d['children']] == ['$kid'] and d['parents'] == []")" = True ] ||
	fail "the children of $s3: $(cat "$T/s3.json")"
# tq retry runs a scheduled task now, as the page does.
s4=$("$BIN/tq" submit --delay 3600 tq.echo s4)
"$BIN/tq" retry "$s4" | grep -q '1 tasks retried' || fail "tq retry of a scheduled task"
"$BIN/tq" wait --timeout 10 "$s4" >/dev/null || fail "tq retry did not run the scheduled task now"

# Nodes and workers: each worker's pid, RSS, restarts and hang kills, as
# its supervisor wrote them into its node row (tq web reads no supervisor).
# node_is EXPR: EXPR (python, over the node "web" as n) holds on /api/nodes.
node_is() {
	curl -sf "$B/api/nodes" >"$T/nodes.json" || return 1
	[ "$(json "$T/nodes.json" "(lambda n: $1)(next(n for n in d['nodes'] if n['name'] == 'web'))")" = True ]
}
pids_now() { pgrep -P "${SUP_PID[web]}" -x tq-worker | sort -n | tr '\n' ' '; }
pids_of='" ".join(str(w["pid"]) for w in sorted(n["workers"], key=lambda w: w["pid"])) + " "'
wpids=$(pids_now)
[ "$(echo "$wpids" | wc -w)" = 2 ] || fail "the supervisor has not 2 workers: $wpids"
wait_for 10 node_is "$pids_of == '$wpids'" || fail "/api/nodes does not name the workers $wpids: $(cat "$T/nodes.json")"
node_is "'|' not in n['info'] and n['pools'][0]['name'] == 'p' and n['workers_left_out'] == 0" ||
	fail "/api/nodes: the node's instance or pools: $(cat "$T/nodes.json")"
for wp in $wpids; do
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$wp/status")
	node_is "any(w['pid'] == $wp and w['rss_kb'] > $rss // 2 and w['rss_kb'] < $rss * 2 and w['state'] in ('idle', 'busy') and w['restarts'] == 0 and w['hang_kills'] == 0 for w in n['workers'])" ||
		fail "worker $wp (VmRSS $rss kB) on /api/nodes: $(cat "$T/nodes.json")"
done
# A worker killed: its slot counts a restart. One frozen: a hang kill.
victim=${wpids%% *}
kill -KILL "$victim"
wait_for 15 node_is "sum(w['restarts'] for w in n['workers']) == 1 and n['pools'][0]['restarts'] == 1 and $victim not in [w['pid'] for w in n['workers']]" ||
	fail "/api/nodes shows no restart after worker $victim was killed: $(cat "$T/nodes.json")"
frozen=$(echo "$wpids" | awk '{ print $2 }')
kill -STOP "$frozen"
wait_for 20 node_is "sum(w['hang_kills'] for w in n['workers']) == 1 and n['pools'][0]['hang_kills'] == 1" ||
	fail "/api/nodes shows no hang kill after worker $frozen was frozen: $(cat "$T/nodes.json")"
kill -CONT "$frozen" 2>/dev/null || true
note "counts, pages, escaping, CSP, token, CSRF, retry and the workers' figures checked on port $port"
