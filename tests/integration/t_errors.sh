# shellcheck shell=bash source-path=SCRIPTDIR
# Exit codes and messages: 111 for an unreachable server, 100 for what will
# not heal (bad URL, bad password, bad config), 2 for bad usage.
. "$(dirname "$0")/lib.sh"
fresh_db

# one_line NAME: $T/NAME.err is exactly one line.
one_line() {
	[ "$(wc -l <"$T/$1.err")" -eq 1 ] ||
		fail "$1: want one line on stderr, got: $(cat "$T/$1.err")"
}

# ---- database URLs ----
TQ_MYSQL_URL=mysql://tq:tq@127.0.0.1:1/tq expect 111 unreachable "$BIN/tq" stats
one_line unreachable
grep -q '127\.0\.0\.1:1\b' "$T/unreachable.err" ||
	fail "unreachable: the message does not name 127.0.0.1:1: $(cat "$T/unreachable.err")"
[ ! -s "$T/unreachable.out" ] || fail "unreachable: printed on stdout"

TQ_MYSQL_URL=bogus expect 100 bogus-url "$BIN/tq" stats
one_line bogus-url
grep -q 'mysql_url' "$T/bogus-url.err" || fail "bogus-url: does not name mysql_url: $(cat "$T/bogus-url.err")"

# Access denied is permanent: retrying will not fix a password.
TQ_MYSQL_URL="mysql://tq:wrong@127.0.0.1:${TQ_MYSQL_PORT:-23306}/$DB" \
	expect 100 bad-password "$BIN/tq" stats
one_line bad-password
grep -qi 'denied' "$T/bad-password.err" || fail "bad-password: $(cat "$T/bad-password.err")"
! grep -q 'wrong' "$T/bad-password.err" || fail "bad-password: the message shows the password"

# ---- usage ----
expect 2 unknown-option "$BIN/tq" submit --no-such-option tq.echo x
grep -q 'no-such-option' "$T/unknown-option.err" || fail "unknown-option: does not name the option"
expect 2 bad-queue "$BIN/tq" submit --queue 'bad queue!' tq.echo x
grep -q 'bad queue name' "$T/bad-queue.err" || fail "bad-queue: $(cat "$T/bad-queue.err")"
expect 2 bad-name "$BIN/tq" submit 'no spaces' x
expect 2 no-command "$BIN/tq"
expect 2 unknown-command "$BIN/tq" frobnicate
[ "$(sql "SELECT COUNT(*) FROM tasks")" -eq 0 ] || fail "a refused submit left a row"

expect 0 help "$BIN/tq" --help
cmds=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", cmd_[a-z_]* },$/\1/p' "$ROOT/cli/tq.c")
[ -n "$cmds" ] || fail "test bug: found no commands in cli/tq.c"
for c in submit show wait stats migrate reconcile config $cmds; do
	grep -Eq "^  $c " "$T/help.out" || fail "tq --help does not list $c"
done
expect 0 worker-help "$BIN/tq-worker" --help
grep -q '^usage: tq-worker' "$T/worker-help.out" || fail "tq-worker --help: no usage on stdout"
expect 2 worker-bad-option "$BIN/tq-worker" --no-such-option

# ---- config files ----
expect 100 no-config "$BIN/tq" -c /nonexistent stats
one_line no-config
grep -q '/nonexistent' "$T/no-config.err" || fail "no-config: does not name the file"

printf '[tq]\nprefetch = 0\n' >"$T/prefetch0.ini"
expect 100 prefetch0 timeout 20 "$BIN/tq-worker" -c "$T/prefetch0.ini"
grep -q 'prefetch' "$T/prefetch0.err" || fail "prefetch0: does not name prefetch: $(cat "$T/prefetch0.err")"

# ---- a worker without a broker keeps trying ----
TQ_AMQP_URL='amqp://guest:guest@127.0.0.1:1/%2f' start_worker nobroker >/dev/null
pid=${PIDS[-1]}
wait_log nobroker 'event=broker_connect_failed' 10 ||
	fail "no broker_connect_failed logged: $(cat "$T/nobroker.log")"
sleep 3
alive "$pid" || fail "the worker without a broker exited: $(tail -n 5 "$T/nobroker.log")"
grep -q '127\.0\.0\.1:1' "$T/nobroker.log" || fail "broker_connect_failed does not name 127.0.0.1:1"

# ---- every command answers --help ----
for c in $cmds; do
	expect 0 "help-$c" "$BIN/tq" "$c" --help
	grep -q "^usage: tq $c" "$T/help-$c.out" ||
		fail "tq $c --help: no usage line on stdout: $(head -n 2 "$T/help-$c.out")"
done
