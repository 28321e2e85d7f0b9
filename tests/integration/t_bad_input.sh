# shellcheck shell=bash source-path=SCRIPTDIR
# Bad messages do not hurt a worker: each is dead-lettered (or fails its
# task), the worker stays up and the next task succeeds. tq submit refuses
# a payload over the limit without leaving a row.
. "$(dirname "$0")/lib.sh"
fresh_db
dead0=$(queue_depth tq.dead)
# The limit is low for the worker only: tq submit keeps the default.
TQ_PAYLOAD_MAX=100 start_worker w1 >/dev/null
wpid=${PIDS[0]}
wait_consuming w1

# still_fine WHAT: the worker is up and runs a normal task.
still_fine() {
	local id
	alive "$wpid" || fail "worker died after $1"
	id=$("$BIN/tq" submit tq.echo "after $1") || fail "submit after $1"
	"$BIN/tq" wait --timeout 20 "$id" || fail "echo after $1 did not succeed"
	[ "$(task_col "$id" result)" = "after $1" ] || fail "echo after $1: wrong result"
	alive "$wpid" || fail "worker died after $1"
	# Each delivery is settled once: a bad one costs no connection.
	[ "$(count_log w1 'event=broker_lost')" -eq 0 ] ||
		fail "the worker lost its broker connection after $1: $(grep 'event=broker_lost' "$T/w1.log" | head -n 1)"
}

# 1. an empty body
"$BIN/rawpub" "$TQ_QUEUE" raw /dev/null || fail "rawpub empty"
wait_log w1 'event=bad_message .*too short \(0 bytes\)' 20 ||
	fail "no bad_message for the empty body"
still_fine "an empty body"

# 2. 500 bytes of garbage (not starting with TQ)
{
	printf 'X'
	head -c 499 /dev/urandom
} >"$T/garbage"
"$BIN/rawpub" "$TQ_QUEUE" raw "$T/garbage" || fail "rawpub garbage"
wait_log w1 'event=bad_message .*bad magic' 20 || fail "no bad_message for garbage"
still_fine "garbage"

# 3. "TQ" and a header cut short
printf 'TQ\001\000\001\002\003\004\005\006\007\010' >"$T/short"
"$BIN/rawpub" "$TQ_QUEUE" raw "$T/short" || fail "rawpub short"
wait_log w1 'event=bad_message .*too short \(12 bytes\)' 20 ||
	fail "no bad_message for a truncated header"
still_fine "a truncated header"

# 4. a whole header, the payload cut short (claims 16 bytes, has 3); its
# id has no row.
orphan_hex=$(new_uuid | tr -d '-')
{
	printf 'TQ\001\000'
	printf '%s' "$orphan_hex" | sed 's/../\\x&/g' | xargs -0 printf
	printf '\007tq.echo\000\000\000\020abc'
} >"$T/truncated"
[ "$(wc -c <"$T/truncated")" -eq 35 ] || fail "test bug: truncated message is $(wc -c <"$T/truncated") bytes"
"$BIN/rawpub" "$TQ_QUEUE" raw "$T/truncated" || fail "rawpub truncated"
wait_log w1 'event=bad_message .*payload length 16 disagrees' 20 ||
	fail "no bad_message for a truncated payload"
still_fine "a truncated payload"

# 5. a well-formed message whose id has no row
orphan=$(new_uuid)
"$BIN/rawpub" "$TQ_QUEUE" task "$orphan" tq.echo x || fail "rawpub orphan"
wait_log w1 "event=orphan_message task=$orphan" 20 || fail "no orphan_message"
[ "$(sql "SELECT COUNT(*) FROM tasks")" -eq 4 ] || fail "a bad message created a row"
still_fine "an orphan message"

# 6. a real task whose payload is over the worker's limit: it fails, with
# the reason.
big=$(head -c 200 /dev/zero | tr '\0' b)
id=$("$BIN/tq" submit tq.echo "$big") || fail "submit of 200 bytes"
set +e
"$BIN/tq" wait --timeout 20 "$id"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "over-limit task: wait exited $rc, want 1 (failed)"
[ "$(task_col "$id" "CONCAT(state, ' ', attempts)")" = "failed 0" ] ||
	fail "over-limit task: $(task_col "$id" "CONCAT(state, ' ', attempts)"), want failed 0 (never run)"
err=$(task_col "$id" error)
case $err in
*limit*100* | *100*limit*) ;;
*) fail "over-limit task error does not name the limit: $err" ;;
esac
[ "$(sql "SELECT COUNT(*) FROM task_runs WHERE task_id = $(idsql "$id")")" -eq 0 ] ||
	fail "over-limit task was run"
wait_log w1 "event=task_rejected task=$id .*limit" 5 || fail "no task_rejected line for the over-limit task"
wait_log w1 "event=bad_message .*limit" 5 || fail "no bad_message line for the over-limit task"
still_fine "an over-limit payload"

nbad=$(count_log w1 'event=bad_message')
[ "$nbad" -ge 5 ] || fail "want at least 5 bad_message lines, got $nbad"
[ "$(count_log w1 'event=orphan_message')" -eq 1 ] || fail "want one orphan_message line"
# The six rejected messages reached the dead-letter queue.
dead_grew() { [ "$(queue_depth tq.dead)" -ge $((dead0 + 6)) ]; }
wait_for 20 dead_grew || fail "tq.dead went from $dead0 to $(queue_depth tq.dead), want +6"

# ---- tq submit over the 1 MiB default ----
rows=$(sql "SELECT COUNT(*) FROM tasks")
set +e
head -c 1100000 /dev/zero | tr '\0' a | "$BIN/tq" submit tq.echo - >"$T/big.out" 2>"$T/big.err"
rc=$?
set -e
[ "$rc" -eq 100 ] || fail "submit of 1.1 MB exited $rc, want 100: $(cat "$T/big.err")"
[ "$(wc -l <"$T/big.err")" -eq 1 ] || fail "submit of 1.1 MB: want one line, got: $(cat "$T/big.err")"
grep -q 'payload_max' "$T/big.err" || fail "submit of 1.1 MB does not name payload_max: $(cat "$T/big.err")"
[ ! -s "$T/big.out" ] || fail "submit of 1.1 MB printed an id"
[ "$(sql "SELECT COUNT(*) FROM tasks")" -eq "$rows" ] || fail "submit of 1.1 MB inserted a row"
