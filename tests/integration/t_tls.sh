# shellcheck shell=bash source-path=SCRIPTDIR
# TLS to both servers (the TLS listeners ci/services runs, with certificates
# ci/tls-certs made), verification on by default, a wrong authority refused
# with a clear error; and secrets kept out of argv, logs and tq show.
. "$(dirname "$0")/lib.sh"
fresh_db

VARD=${TQ_VAR:-$ROOT/var}
TLS=$VARD/tls
AMQPS_PORT=${TQ_AMQPS_PORT:-$((${TQ_AMQP_PORT:-21672} - 1))}
MY_PORT=${TQ_MYSQL_PORT:-23306}
[ -s "$TLS/ca.pem" ] || fail "no $TLS/ca.pem: ci/services makes it"
PLAIN_AMQP_URL=$TQ_AMQP_URL
PLAIN_MYSQL_URL=$TQ_MYSQL_URL

# A database user that may only come in over TLS: if tq can work as this
# user, its connection was encrypted.
TLS_USER=tq_tls_$$
TLS_PW=tls-$$-$RANDOM-secret
root_sql -e "CREATE USER '$TLS_USER'@'127.0.0.1' IDENTIFIED BY '$TLS_PW' REQUIRE SSL;
	GRANT ALL PRIVILEGES ON $DB.* TO '$TLS_USER'@'127.0.0.1'"
drop_user() { root_sql -e "DROP USER IF EXISTS '$TLS_USER'@'127.0.0.1'" || true; }
trap 'drop_user; cleanup' EXIT

# The password comes from a file, never from a URL or argv.
umask 077
printf '%s\n' "$TLS_PW" >"$T/mysql.pw"
umask 022

tls_env() {
	export TQ_AMQP_URL="amqps://guest:guest@localhost:$AMQPS_PORT/%2f"
	export TQ_AMQP_TLS_CA=$TLS/ca.pem
	export TQ_MYSQL_URL="mysql://$TLS_USER@127.0.0.1:$MY_PORT/$DB"
	export TQ_MYSQL_PASSWORD_FILE=$T/mysql.pw
	export TQ_MYSQL_TLS=yes
	export TQ_MYSQL_TLS_CA=$TLS/ca.pem
}

# ---- the TLS user really needs TLS ----
TQ_MYSQL_URL="mysql://$TLS_USER@127.0.0.1:$MY_PORT/$DB" \
	TQ_MYSQL_PASSWORD_FILE=$T/mysql.pw expect 100 plain-refused "$BIN/tq" stats
grep -qi 'denied' "$T/plain-refused.err" ||
	fail "plain-refused: $(cat "$T/plain-refused.err")"

# ---- round trip over TLS ----
tls_env
"$BIN/tq" doctor >"$T/doctor.out" 2>&1 || true
grep -q "^ok    broker amqps://guest:\*\*\*@localhost:$AMQPS_PORT" "$T/doctor.out" ||
	fail "doctor over TLS: $(cat "$T/doctor.out")"
grep -q "^ok    database mysql://$TLS_USER:\*\*\*@" "$T/doctor.out" ||
	fail "doctor over TLS: $(cat "$T/doctor.out")"
start_worker worker >/dev/null
w=${PIDS[-1]}
wait_consuming worker
make_payloads 200 "$T/payloads"
"$BIN/tq" submit --from "$T/payloads" tq.echo >"$T/ids" 2>"$T/submit.err" ||
	fail "submit over TLS: $(cat "$T/submit.err")"
wait_for 60 sh -c "[ \$(mariadb --no-defaults -h127.0.0.1 -P$MY_PORT -utq -ptq -N -B $DB -e \"SELECT COUNT(*) FROM tasks WHERE state='succeeded'\") -eq 200 ]" ||
	fail "only $(count_state succeeded) of 200 tasks succeeded over TLS"
check_echo "$T/ids" "$T/payloads"
id=$(head -n 1 "$T/ids")
"$BIN/tq" wait "$id" >/dev/null || fail "tq wait over TLS"
# the broker sees the worker's connection as TLS
rmqctl list_connections peer_port ssl ssl_protocol >"$T/conns" 2>&1 || true
grep -Eq 'true[[:space:]]+tlsv1\.[23]' "$T/conns" ||
	fail "the broker lists no TLS connection: $(cat "$T/conns")"
note "200 tasks over TLS to both servers; broker: $(grep -Ec 'true' "$T/conns") TLS connections ($(grep -Eo 'tlsv1\.[23]' "$T/conns" | sort -u | tr '\n' ' '))"

# ---- a wrong authority is refused, with a clear error ----
"$ROOT/ci/tls-certs" "$T/other-ca" "some other CA"
TQ_AMQP_TLS_CA=$T/other-ca/ca.pem expect 1 amqp-wrong-ca "$BIN/tq" doctor
grep -q 'FAIL  broker amqps://.*SSL peer cert verification failed (the broker.s certificate is not signed by an authority in amqp_tls_ca)' \
	"$T/amqp-wrong-ca.out" || fail "amqp-wrong-ca: $(cat "$T/amqp-wrong-ca.out")"
grep -q 'fix: check amqp_tls_ca' "$T/amqp-wrong-ca.out" ||
	fail "amqp-wrong-ca: no fix hint: $(cat "$T/amqp-wrong-ca.out")"
TQ_MYSQL_TLS_CA=$T/other-ca/ca.pem expect 100 mysql-wrong-ca "$BIN/tq" stats
[ "$(wc -l <"$T/mysql-wrong-ca.err")" -eq 1 ] ||
	fail "mysql-wrong-ca: want one line: $(cat "$T/mysql-wrong-ca.err")"
grep -q 'mysql connect .*TLS/SSL error.*check mysql_tls_ca' "$T/mysql-wrong-ca.err" ||
	fail "mysql-wrong-ca: $(cat "$T/mysql-wrong-ca.err")"
note "wrong CA, broker: $(grep -o 'SSL peer cert[^(]*' "$T/amqp-wrong-ca.out" | head -n 1)"
note "wrong CA, database: $(cat "$T/mysql-wrong-ca.err")"
# a submit refused by the database's certificate writes nothing
n0=$(count_state succeeded)
TQ_MYSQL_TLS_CA=$T/other-ca/ca.pem expect 100 submit-wrong-ca "$BIN/tq" submit tq.echo x
[ "$(sql "SELECT COUNT(*) FROM tasks")" -eq "$n0" ] || fail "a refused submit left a row"

# ---- verification is on by default: the system's authorities do not
# know the test CA ----
(unset TQ_AMQP_TLS_CA && expect 1 amqp-default-verify "$BIN/tq" doctor) ||
	fail "amqp-default-verify"
grep -q 'FAIL  broker.*verification failed' "$T/amqp-default-verify.out" ||
	fail "amqp-default-verify: $(cat "$T/amqp-default-verify.out")"
(unset TQ_MYSQL_TLS_CA && expect 100 mysql-default-verify "$BIN/tq" stats) ||
	fail "mysql-default-verify"
# turned off on purpose, it connects (and says nothing about the CA)
(unset TQ_MYSQL_TLS_CA && TQ_MYSQL_TLS_VERIFY=no expect 0 mysql-no-verify "$BIN/tq" stats) ||
	fail "mysql-no-verify"

# ---- TLS settings that do nothing are refused ----
TQ_AMQP_URL=$PLAIN_AMQP_URL expect 100 tls-ca-plain-url "$BIN/tq" stats
grep -q 'amqp_tls_ca is set but amqp_url has no amqps:// URL' "$T/tls-ca-plain-url.err" ||
	fail "tls-ca-plain-url: $(cat "$T/tls-ca-plain-url.err")"
TQ_MYSQL_TLS=no expect 100 tls-ca-no-tls "$BIN/tq" stats
grep -q 'mysql_tls_ca is set but mysql_tls is off' "$T/tls-ca-no-tls.err" ||
	fail "tls-ca-no-tls: $(cat "$T/tls-ca-no-tls.err")"
# an amqps:// URL on the plain port: the handshake fails, said so
TQ_AMQP_URL="amqps://guest:guest@localhost:${TQ_AMQP_PORT:-21672}/%2f" expect 1 amqps-on-plain "$BIN/tq" doctor
grep -q 'is that port a TLS listener' "$T/amqps-on-plain.out" ||
	fail "amqps-on-plain: $(cat "$T/amqps-on-plain.out")"

# ---- secrets ----
# a password file others may read is refused, naming the file only
chmod 0644 "$T/mysql.pw"
expect 100 pw-mode "$BIN/tq" stats
grep -q "password file \"$T/mysql.pw\": readable by group or others" "$T/pw-mode.err" ||
	fail "pw-mode: $(cat "$T/pw-mode.err")"
chmod 0600 "$T/mysql.pw"
# a password on the command line is refused (every local user can read
# argv), and not echoed
expect 100 argv-pw "$BIN/tq" --mysql-url "mysql://$TLS_USER:$TLS_PW@127.0.0.1:$MY_PORT/$DB" stats
grep -q -- '--mysql-url: a password on the command line' "$T/argv-pw.err" ||
	fail "argv-pw: $(cat "$T/argv-pw.err")"
expect 2 worker-argv-pw "$BIN/tq-worker" --amqp-url "amqp://guest:guest@127.0.0.1:1/"
grep -q -- '--amqp-url: a password on the command line' "$T/worker-argv-pw.err" ||
	fail "worker-argv-pw: $(cat "$T/worker-argv-pw.err")"
# the running worker's argv and environment listing, its log, tq show,
# tq config and every error above: no password anywhere
tr '\0' ' ' <"/proc/$w/cmdline" >"$T/worker.cmdline"
"$BIN/tq" show "$id" >"$T/show.out" 2>&1 || fail "tq show: $(cat "$T/show.out")"
"$BIN/tq" config >"$T/config.out" 2>&1 || fail "tq config: $(cat "$T/config.out")"
for f in "$T"/*.out "$T"/*.err "$T"/*.log "$T/worker.cmdline"; do
	if grep -qF -- "$TLS_PW" "$f"; then
		fail "the database password shows in $(basename "$f")"
	fi
done
note "wrong-mode password file refused; password on argv refused; no secret in argv, logs, tq show or tq config"
