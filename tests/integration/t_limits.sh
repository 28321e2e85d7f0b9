# Flow control: a concurrency limit is never exceeded and is reached, per
# key under a prefix limit; a waiter uses no attempt and starts when a slot
# frees; a rate limit spaces the starts; a change or removal takes effect
# at run time; bad limits and keys are refused.
. "$(dirname "$0")/lib.sh"
fresh_db
for w in w1 w2 w3 w4; do
	start_worker "$w" --batch 1 --prefetch 1 >/dev/null
done
for w in w1 w2 w3 w4; do wait_consuming "$w"; done

# most KEY: the most runs of KEY that overlapped, as the database saw them
# (task_runs: from the claim to the recorded outcome).
most() {
	sql "SELECT COALESCE(MAX((SELECT COUNT(*) FROM task_runs r2 JOIN tasks t2
	    ON t2.id = r2.task_id WHERE t2.limit_key = '$1' AND
	    r2.started_at <= r1.started_at AND (r2.finished_at > r1.started_at
	    OR r2.finished_at IS NULL))), 0) FROM task_runs r1 JOIN tasks t1 ON
	    t1.id = r1.task_id WHERE t1.limit_key = '$1'"
}
sql_is() {	# SQL VALUE: the query's answer is VALUE (for wait_for)
	[ "$(sql "$1")" = "$2" ]
}
submit_n() {	# N KEY HANDLER PAYLOAD: ids into $T/ids
	local i
	for i in $(seq "$1"); do
		"$BIN/tq" submit --limit-key "$2" "$3" "$4"
	done >>"$T/ids"
}

# -- concurrency: 4 workers, a limit of 2 --------------------------------
expect 0 set "$BIN/tq" limit set k1 --concurrency 2
: >"$T/ids"
submit_n 10 k1 tq.sleep 300
k1_waits() {
	"$BIN/tq" limit list --json | python3 -c '
import json, sys
sys.exit(0 if [x for x in json.load(sys.stdin) if x["name"] == "k1" and
    x["waiting"] > 0 and x["running"] == 2] else 1)'
}
wait_for 10 k1_waits || fail "tq limit list: k1 never showed 2 running and some waiting"
"$BIN/tq" wait --timeout 30 $(cat "$T/ids") || fail "k1's tasks did not all succeed"
m=$(most k1)
[ "$m" = 2 ] || fail "k1 (concurrency 2): at most $m ran at once, want exactly 2"
[ "$(sql "SELECT MAX(attempts) FROM tasks WHERE limit_key = 'k1'")" = 1 ] ||
	fail "a task that waited for a slot used an attempt"
[ "$(sql "SELECT COUNT(*) FROM task_runs r JOIN tasks t ON t.id = r.task_id WHERE t.limit_key = 'k1'")" = 10 ] ||
	fail "k1: a task ran more than once"
note "k1: 10 tasks, at most $m at once"

# -- a prefix limit: each key has its own ---------------------------------
expect 0 setp "$BIN/tq" limit set 'cust:*' --concurrency 1
: >"$T/ids"
submit_n 4 cust:1 tq.sleep 250
submit_n 4 cust:2 tq.sleep 250
"$BIN/tq" wait --timeout 30 $(cat "$T/ids") || fail "cust:*'s tasks did not all succeed"
[ "$(most cust:1)" = 1 ] && [ "$(most cust:2)" = 1 ] ||
	fail "cust:* (1 per key): cust:1 $(most cust:1), cust:2 $(most cust:2) at once"
both=$(sql "SELECT COUNT(*) FROM task_runs a JOIN tasks ta ON ta.id = a.task_id
    JOIN task_runs b JOIN tasks tb ON tb.id = b.task_id WHERE
    ta.limit_key = 'cust:1' AND tb.limit_key = 'cust:2' AND
    a.started_at < b.finished_at AND b.started_at < a.finished_at")
[ "$both" -gt 0 ] || fail "cust:1 and cust:2 never ran side by side: the prefix limit is shared"
# A key's own limit wins over its prefix's.
expect 0 setx "$BIN/tq" limit set cust:vip --concurrency 3
: >"$T/ids"
submit_n 6 cust:vip tq.sleep 300
"$BIN/tq" wait --timeout 30 $(cat "$T/ids") || fail "cust:vip's tasks"
[ "$(most cust:vip)" = 3 ] || fail "cust:vip (its own limit 3): $(most cust:vip) at once"

# -- a key without a limit runs freely ------------------------------------
: >"$T/ids"
submit_n 4 free tq.sleep 300
"$BIN/tq" wait --timeout 30 $(cat "$T/ids") || fail "free's tasks"
[ "$(most free)" -ge 3 ] || fail "a key without a limit ran only $(most free) at once"

# -- removing a limit lets its waiters out at once -----------------------
expect 0 set1 "$BIN/tq" limit set slow --concurrency 1
: >"$T/ids"
submit_n 3 slow tq.sleep 3000
wait_for 10 sql_is "SELECT COUNT(*) FROM tasks WHERE limit_key = 'slow' AND state = 'scheduled' AND limit_wait = 1" 2 ||
	fail "slow: two tasks should wait for the slot"
expect 0 rm "$BIN/tq" limit remove slow
wait_for 5 sql_is "SELECT COUNT(*) FROM tasks WHERE limit_key = 'slow' AND state = 'scheduled'" 0 ||
	fail "tq limit remove: the waiters were not let out"
"$BIN/tq" wait --timeout 30 $(cat "$T/ids") || fail "slow's tasks"
# (A worker busy with the first may hold one of them in its prefetch.)
[ "$(most slow)" -ge 2 ] || fail "after tq limit remove, slow's tasks still ran one at a time"
expect 1 rm2 "$BIN/tq" limit remove slow
grep -q "not found" "$T/rm2.err" || fail "removing a missing limit: $(cat "$T/rm2.err")"

# -- rate: 5/s, burst 1 ---------------------------------------------------
expect 0 setr "$BIN/tq" limit set r1 --rate 5/s
: >"$T/ids"
submit_n 15 r1 tq.echo rated
"$BIN/tq" wait --timeout 30 $(cat "$T/ids") || fail "r1's tasks"
span=$(sql "SELECT TIMESTAMPDIFF(MICROSECOND, MIN(r.started_at), MAX(r.started_at)) FROM task_runs r JOIN tasks t ON t.id = r.task_id WHERE t.limit_key = 'r1'")
# 15 starts at 5/s: the last no earlier than 14 intervals of 200 ms after
# the first (GCRA with burst 1 never starts a task before its slot).
[ "$span" -ge 2800000 ] || fail "r1 (5/s): 15 starts within $span us, want >= 2.8 s"
[ "$(sql "SELECT MAX(attempts) FROM tasks WHERE limit_key = 'r1'")" = 1 ] ||
	fail "a task that waited for its rate slot used an attempt"
note "r1: 15 starts at 5/s spread over $span us"

# -- JSON -------------------------------------------------------------------
expect 0 list "$BIN/tq" limit list --json
python3 -c '
import json, sys
l = {x["name"]: x for x in json.load(open(sys.argv[1]))}
assert l["k1"]["concurrency"] == 2 and l["k1"]["rate"] is None, l["k1"]
assert l["r1"]["rate"]["n"] == 5 and l["r1"]["rate"]["per_s"] == 1.0, l["r1"]
assert "cust:*" in l and "slow" not in l, sorted(l)
' "$T/list.out" || fail "tq limit list --json: $(cat "$T/list.out")"

# -- bad input --------------------------------------------------------------
expect 2 badkey "$BIN/tq" submit --limit-key 'no spaces' tq.echo x
expect 2 badname "$BIN/tq" limit set 'a*' --concurrency 1
expect 2 badrate "$BIN/tq" limit set x --rate 5
grep -q "N/DURATION" "$T/badrate.err" || fail "bad rate: $(cat "$T/badrate.err")"
expect 2 badrate0 "$BIN/tq" limit set x --rate 5/0s
expect 2 none "$BIN/tq" limit set x
expect 2 conc0 "$BIN/tq" limit set x --concurrency 0
cat >"$T/bad.conf" <<'EOF'
[limit empty]
burst = 2
EOF
expect 100 badconf "$BIN/tq" -c "$T/bad.conf" limit list
grep -q "limit empty: needs concurrency" "$T/badconf.err" ||
	fail "a [limit] without settings: $(cat "$T/badconf.err")"
cat >"$T/bad2.conf" <<'EOF'
[limit x]
rate = fast
EOF
expect 100 badconf2 "$BIN/tq" -c "$T/bad2.conf" limit list

# -- [limit NAME] in the config: a supervisor writes it when it starts ---
cat >"$T/tq.conf" <<EOC
[tq]
log_level = info

[limit cfg:*]
concurrency = 2
rate = 100/60s
burst = 5

[pool p]
queue = $TQ_QUEUE
workers = 1
EOC
sup_start cfg -c "$T/tq.conf" --node cfg
wait_log cfg 'event=limit_registered name=cfg:\*' 20 || fail "the supervisor did not register [limit cfg:*]"
expect 0 list2 "$BIN/tq" limit list --json
python3 -c '
import json, sys
l = {x["name"]: x for x in json.load(open(sys.argv[1]))}
c = l["cfg:*"]
assert c["concurrency"] == 2 and c["rate"] == {"n": 100, "per_s": 60.0, "burst": 5}, c
' "$T/list2.out" || fail "[limit cfg:*] as listed: $(cat "$T/list2.out")"
