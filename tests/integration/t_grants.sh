# Least privilege: each role works with only the grants that
# `tq migrate --print-grants` prints, and no more.
. "$(dirname "$0")/lib.sh"
fresh_db
"$BIN/tq" migrate --print-grants | sed "s/'@'%'/_$$'@'127.0.0.1'/" >"$T/grants.sql"
grep -q "GRANT SELECT, INSERT, UPDATE ON \`$DB\`.\`tasks\` TO 'tq_producer_$$'" "$T/grants.sql" ||
	fail "unexpected grants: $(head -5 "$T/grants.sql")"
dropusers() {
	root_sql -e "DROP USER IF EXISTS 'tq_producer_$$'@'127.0.0.1', 'tq_worker_$$'@'127.0.0.1', 'tq_admin_$$'@'127.0.0.1'" || true
}
trap 'dropusers; sup_cleanup' EXIT
root_sql <"$T/grants.sql"
for r in producer worker admin; do
	root_sql -e "ALTER USER 'tq_${r}_$$'@'127.0.0.1' IDENTIFIED BY 'pw_$r'"
done
as() {	# ROLE CMD...: run with that role's URL
	local r=$1
	shift
	TQ_MYSQL_URL="mysql://tq_${r}_$$:pw_$r@127.0.0.1:${TQ_MYSQL_PORT:-23306}/$DB" "$@"
}
as admin "$BIN/tq" migrate >/dev/null || fail "admin cannot migrate"
# (env, not the function: $! must be the process itself, for cleanup)
WURL="mysql://tq_worker_$$:pw_worker@127.0.0.1:${TQ_MYSQL_PORT:-23306}/$DB"
env TQ_MYSQL_URL="$WURL" "$BIN/tq-worker" >"$T/w1.log" 2>&1 &
PIDS+=($!)
mkdir -m 700 "$T/ctl"
env TQ_MYSQL_URL="$WURL" "$BIN/tq-supervisor" --node grants --queue "$TQ_QUEUE" \
	--workers 1 --control "$T/ctl/s.sock" >"$T/sup.log" 2>&1 &
PIDS+=($!)
id=$(as producer "$BIN/tq" submit tq.echo "least privilege") || fail "producer cannot submit"
child=$(as producer "$BIN/tq" submit --after "$id" tq.echo child) || fail "producer cannot submit --after"
d=$(as producer "$BIN/tq" submit --delay 1 tq.echo delayed) || fail "producer cannot delay"
as admin "$BIN/tq" limit set 'g:*' --concurrency 1 --rate 50/s >/dev/null || fail "admin cannot set a limit"
l1=$(as producer "$BIN/tq" submit --limit-key g:1 tq.sleep 200) || fail "producer cannot submit --limit-key"
l2=$(as producer "$BIN/tq" submit --limit-key g:1 tq.echo second) || fail "producer cannot submit --limit-key"
as admin "$BIN/tq" pause other-queue >/dev/null || fail "admin cannot pause"
as producer "$BIN/tq" wait --timeout 30 "$id" "$child" "$d" "$l1" "$l2" || fail "tasks did not succeed under least privilege"
as producer "$BIN/tq" show "$id" >/dev/null || fail "producer cannot show"
as producer "$BIN/tq" stats >/dev/null || fail "producer cannot read stats"
f=$(as producer "$BIN/tq" submit --max-attempts 2 --backoff 0.1 tq.fail x)
set +e
as producer "$BIN/tq" wait --timeout 30 "$f"
set -e
[ "$(sql "SELECT CONCAT(state, ' ', attempts) FROM tasks WHERE id = UNHEX(REPLACE('$f','-',''))")" = "failed 2" ] ||
	fail "retries under least privilege"
# and no more: a producer cannot delete or change the schema
set +e
as producer "$BIN/tq" purge --state succeeded --older-than 0s >"$T/purge.out" 2>&1
rc=$?
as producer "$BIN/tq" migrate >/dev/null 2>&1
rc2=$?
set -e
[ "$rc" -ne 0 ] || fail "a producer could purge"
[ "$rc2" -ne 0 ] || fail "a producer could run migrate"
grep -qi 'denied' "$T/purge.out" || fail "purge refusal does not say denied: $(cat "$T/purge.out")"
[ "$(as admin "$BIN/tq" purge --state succeeded --older-than 0s)" != "" ] || fail "admin cannot purge"
grep -q 'level=error' "$T/sup.log" "$T/w1.log" && fail "errors under least privilege: $(grep -h level=error "$T/sup.log" "$T/w1.log" | head -3)"
true
