# shellcheck shell=bash source-path=SCRIPTDIR
# The control socket: mode 0600 in a 0700 directory; `tq workers` prints a
# row per worker; another user gets an error, not the data, both through
# the directory's mode and, when the modes are opened up, through the
# supervisor's peer credential check.
. "$(dirname "$0")/lib.sh"
fresh_db
sup_start sup --queue "$TQ_QUEUE" --workers 3 --node ctl1
sup_wait_ready sup 3 || fail "3 workers not consuming: $(sup_workers sup | tr '\n' ';')"
sock=$(sup_ctl sup)
dir=$(dirname "$sock")

[ -S "$sock" ] || fail "$sock is not a socket"
[ "$(stat -c %a "$sock")" = 600 ] || fail "socket mode $(stat -c %a "$sock"), want 600"
[ "$(stat -c %a "$dir")" = 700 ] || fail "socket directory mode $(stat -c %a "$dir"), want 700"
[ "$(stat -c %u "$sock")" = "$(id -u)" ] || fail "socket not owned by us"

# A supervisor makes the directory itself, 0700, when it is missing.
sup_start made --queue "$TQ_QUEUE.x" --workers 0 --node ctl2
rmdir "$T/ctl-made" 2>/dev/null || true
wait_for 10 test -S "$(sup_ctl made)" || fail "second supervisor has no control socket"
[ "$(stat -c %a "$T/ctl-made")" = 700 ] || fail "created directory mode $(stat -c %a "$T/ctl-made"), want 700"
# ... and refuses a directory that others can enter.
mkdir -m 755 "$T/open"
set +e
timeout 10 "$BIN/tq-supervisor" --queue "$TQ_QUEUE" --workers 0 --node ctl3 \
	--control "$T/open/sock" >"$T/open.log" 2>&1
rc=$?
set -e
if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
	fail "supervisor with its socket in a 0755 directory exited $rc, want an error"
fi
grep -q 'mode 0700' "$T/open.log" || fail "no error about the directory mode: $(cat "$T/open.log")"

# The table: a header and a row per worker, with its pid and state.
"$BIN/tq" workers --control "$sock" >"$T/table.txt" || fail "tq workers exited $?"
for p in $(sup_up_pids sup); do
	grep -Eq "^ctl1 +$TQ_QUEUE +$p +(idle|busy) " "$T/table.txt" ||
		fail "no table row for worker $p: $(cat "$T/table.txt")"
done
rows=$(grep -c '^ctl1 ' "$T/table.txt")
[ "$rows" -eq 3 ] || fail "table has $rows worker rows, want 3: $(cat "$T/table.txt")"
head -n 2 "$T/table.txt" | grep -q 'PID' || fail "table has no header: $(cat "$T/table.txt")"
note "tq workers: $(tr -s ' ' <"$T/table.txt" | tr '\n' ';')"

# Another user. $T itself must let it through, so that only the control
# directory stops it; the tq binary is copied where it can run it.
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"
}
chmod 711 "$T"
cp "$BIN/tq" "$T/tq-copy"
chmod 755 "$T/tq-copy"
as_nobody true || fail "cannot run commands as uid 65534 here"
set +e
as_nobody "$T/tq-copy" workers --json --control "$sock" >"$T/nobody.out" 2>"$T/nobody.err"
rc=$?
set -e
note "uid 65534 through the 0700 directory: exit $rc: $(cat "$T/nobody.err")"
[ "$rc" -eq 111 ] || fail "uid 65534 on the control socket: exit $rc, want 111 (cannot connect): $(cat "$T/nobody.err")"
grep -q '^tq: control socket' "$T/nobody.err" || fail "no error message for uid 65534: $(cat "$T/nobody.err")"
[ ! -s "$T/nobody.out" ] || fail "uid 65534 got data: $(head -c 200 "$T/nobody.out")"

# With the modes opened up, the supervisor itself refuses other uids.
chmod 755 "$dir"
chmod 666 "$sock"
set +e
as_nobody "$T/tq-copy" workers --json --control "$sock" >"$T/nobody.out" 2>"$T/nobody.err"
rc=$?
set -e
note "uid 65534 with modes opened: exit $rc: $(cat "$T/nobody.err")"
# (Whether tq reports 111 or dies of SIGPIPE depends on who is first: the
# supervisor closing, or tq writing its request. Either way: no data.)
[ "$rc" -ne 0 ] || fail "uid 65534 read the control socket once the modes allowed it: exit 0"
[ ! -s "$T/nobody.out" ] || fail "uid 65534 got data: $(head -c 200 "$T/nobody.out")"
grep -q 'event=control_refused uid=65534' "$T/sup.log" || fail "supervisor did not log control_refused for uid 65534"
chmod 700 "$dir"
chmod 600 "$sock"
"$BIN/tq" workers --control "$sock" >/dev/null || fail "the owner cannot use the socket any more"

sup_stop made
sup_stop sup
[ "$SUP_RC" -eq 0 ] || fail "supervisor exited $SUP_RC after SIGTERM, want 0"
[ ! -e "$sock" ] || fail "control socket $sock left after the supervisor exited"
