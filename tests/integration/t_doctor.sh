# tq doctor says plainly what is wrong: here a database that does not
# flush its log at each commit.
. "$(dirname "$0")/lib.sh"
fresh_db
"$BIN/tq" doctor >"$T/ok.out" || fail "doctor failed on a sound setup: $(cat "$T/ok.out")"
grep -q '^ok    MariaDB .*innodb_flush_log_at_trx_commit = 1' "$T/ok.out" || fail "no durability line"
grep -q '^ok    queue tq\.' "$T/ok.out" || fail "no queue line"
trap 'root_sql -e "SET GLOBAL innodb_flush_log_at_trx_commit = 1"; sup_cleanup' EXIT
root_sql -e "SET GLOBAL innodb_flush_log_at_trx_commit = 2"
set +e
"$BIN/tq" doctor >"$T/bad.out"
rc=$?
set -e
root_sql -e "SET GLOBAL innodb_flush_log_at_trx_commit = 1"
[ "$rc" -eq 1 ] || fail "doctor exited $rc with innodb_flush_log_at_trx_commit = 2"
grep -q '^FAIL  MariaDB .*innodb_flush_log_at_trx_commit = 2' "$T/bad.out" || fail "doctor did not say so: $(cat "$T/bad.out")"
grep -q 'fix: set innodb_flush_log_at_trx_commit = 1' "$T/bad.out" || fail "doctor did not say how to fix it"
set +e
TQ_MYSQL_URL=mysql://tq:tq@127.0.0.1:1/tq "$BIN/tq" doctor >"$T/down.out"
rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q '^FAIL  database' "$T/down.out" || fail "doctor with no database: $rc"
