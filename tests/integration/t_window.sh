# What tq stats says the retention windows hold, counted without reading
# them: once the leader has closed the hours in tq_window, tq stats gives
# the same counts as summing tq_rollup's hours over each queue's window
# (computed here in SQL, independently), and keeps doing so when a window
# grows (hours come back), shrinks, or is forever; each tq_window row is
# the sum of tq_rollup over its hours.
. "$(dirname "$0")/lib.sh"
fresh_db
Q=$TQ_QUEUE
# 40 days of hours, two names, every outcome: n = 1 per row, so a count
# is hours in the window times two.
sql "INSERT INTO tq_rollup (hour, queue, name, outcome, n, run_us)
	SELECT DATE_FORMAT(NOW() - INTERVAL h.seq HOUR, '%Y-%m-%d %H:00:00'),
	 q.q, nm.nm, o.o, 1, 10
	FROM seq_0_to_959 h,
	 (SELECT '$Q' AS q UNION ALL SELECT '$Q.k') q,
	 (SELECT 'a' AS nm UNION ALL SELECT 'b') nm,
	 (SELECT 'succeeded' AS o UNION ALL SELECT 'failed' UNION ALL
	  SELECT 'cancelled' UNION ALL SELECT 'retried') o"

conf() {	# KEEP_SUCCEEDED KEEP_FAILED KEEP_CANCELLED KEEP_OF_Q.k
	cat >"$T/tq.conf" <<EOC
[tq]
keep_succeeded = $1
keep_failed = $2
keep_cancelled = $3
[queue $Q.k]
keep_succeeded = $4
EOC
	chmod 600 "$T/tq.conf"
}
secs() {	# DURATION as the config has it (d, h, or 0)
	case $1 in
	0) echo 0 ;;
	*d) echo $((${1%d} * 86400)) ;;
	*h) echo $((${1%h} * 3600)) ;;
	esac
}
# want QUEUE OUTCOME KEEP: the count straight from tq_rollup: an hour
# counts when any of it is inside the window.
want() {
	local k
	k=$(secs "$3")
	sql "SELECT IFNULL(SUM(n), 0) FROM tq_rollup WHERE queue = '$1' AND
		outcome = '$2' AND ($k = 0 OR
		UNIX_TIMESTAMP(hour) + 3600 > UNIX_TIMESTAMP() - $k)"
}
# counts KS KF KC KQ: "queue outcome count" lines, from tq stats, and
# from tq_rollup; equal, or FAIL. Taken again if an hour's edge passed
# between the two.
check() {
	local try got exp
	for try in 1 2; do
		exp=$(for q in "$Q" "$Q.k"; do
			ks=$1
			[ "$q" = "$Q.k" ] && ks=$4
			printf '%s succeeded %s\n' "$q" "$(want "$q" succeeded "$ks")"
			printf '%s failed %s\n' "$q" "$(want "$q" failed "$2")"
			printf '%s cancelled %s\n' "$q" "$(want "$q" cancelled "$3")"
		done)
		"$BIN/tq" -c "$T/tq.conf" stats --json >"$T/stats.json" ||
			fail "tq stats failed"
		got=$(python3 -c "
import json
d = json.load(open('$T/stats.json'))
for q in ('$Q', '$Q.k'):
    for o in ('succeeded', 'failed', 'cancelled'):
        print(q, o, d.get(q, {}).get(o, 0))")
		[ "$got" = "$exp" ] && return 0
	done
	fail "tq stats ($5):
$got
from tq_rollup:
$exp"
}
closed() { sql "SELECT IFNULL(UNIX_TIMESTAMP(closed) DIV 1, 0) FROM tq_window_closed"; }
# edge KEEP: where the leader puts a window's old edge: the last hour
# wholly outside it, never past the last hour closed, or the epoch.
edge() {
	sql "SELECT IF($(secs "$1") = 0, 0, GREATEST(0, LEAST(
		FLOOR((UNIX_TIMESTAMP() - $(secs "$1")) / 3600) * 3600 - 3600,
		IFNULL(UNIX_TIMESTAMP(closed), 0))))
		FROM tq_window_closed"
}
expired() { sql "SELECT UNIX_TIMESTAMP(expired) DIV 1 FROM tq_window WHERE queue = '$1' AND outcome = '$2'"; }
# leader KS KF KC KQ: a supervisor under that config until the window
# edges are where that config puts them, then stopped.
leader() {
	local i
	conf "$@"
	sup_start win -c "$T/tq.conf" --node win --queue "$Q" --workers 1
	for i in $(seq 1 100); do
		[ "$(closed)" -gt 0 ] &&
			[ "$(expired "$Q" succeeded)" = "$(edge "$1")" ] &&
			[ "$(expired "$Q" failed)" = "$(edge "$2")" ] &&
			[ "$(expired "$Q.k" succeeded)" = "$(edge "$4")" ] &&
			break
		sleep 0.2
	done
	[ "$i" -lt 100 ] || fail "the leader did not move the window edges ($*): $(sql "SELECT * FROM tq_window" | tr '\n' ';')"
	kill -TERM "${SUP_PID[win]}"
	wait "${SUP_PID[win]}" || true
}
# invariant: every tq_window row is tq_rollup's sum over (expired, closed].
invariant() {
	local bad
	bad=$(sql "SELECT w.queue, w.outcome, w.n, (SELECT IFNULL(SUM(r.n), 0)
		FROM tq_rollup r WHERE r.queue = w.queue AND r.outcome = w.outcome
		AND r.hour > w.expired AND r.hour <= c.closed) AS s
		FROM tq_window w, tq_window_closed c HAVING w.n <> s")
	[ -z "$bad" ] || fail "tq_window rows that are not their hours' sum ($1): $bad"
	[ "$(sql "SELECT COUNT(*) FROM tq_window WHERE outcome = 'retried'")" = 0 ] ||
		fail "tq_window counts retries"
}

# No leader yet: tq stats sums the hours itself.
conf 7d 30d 2d 1h
[ "$(closed)" = 0 ] || fail "hours closed before any leader ran"
check 7d 30d 2d 1h "never closed"
leader 7d 30d 2d 1h
[ "$(sql "SELECT COUNT(*) FROM tq_window")" = 6 ] ||
	fail "tq_window rows: $(sql "SELECT COUNT(*) FROM tq_window"), want 6"
invariant "first closing"
check 7d 30d 2d 1h "first closing"
# A window that grows: its hours come back; one that shrinks; forever.
leader 20d 30d 2d 3d
invariant "grown"
check 20d 30d 2d 3d "grown"
leader 1d 0 2d 2h
invariant "shrunk"
check 1d 0 2d 2h "shrunk, failed forever"
leader 0 10d 0 0
invariant "forever"
check 0 10d 0 0 "succeeded forever again"
grep -q 'level=error' "$T/win.log" && fail "errors: $(grep level=error "$T/win.log" | head -3)"
true
