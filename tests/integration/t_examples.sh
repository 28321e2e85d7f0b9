# The C API examples, built by `make examples`: a plugin loaded by a
# worker handles tasks that the C producer submits and waits for.
. "$(dirname "$0")/lib.sh"
fresh_db
[ -x "$BIN/example-producer" ] && [ -f "$BIN/example-plugin.so" ] ||
	fail "examples not built (make examples)"
start_worker w1 --plugin "$BIN/example-plugin.so" >/dev/null
out=$("$BIN/example-producer" example.reverse abc "hello world") ||
	fail "example-producer exited $?"
printf '%s\n' "$out" | grep -q ' cba$' || fail "reverse of abc: $out"
printf '%s\n' "$out" | grep -q ' dlrow olleh$' || fail "reverse of hello world: $out"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] || fail "want 2 results: $out"
grep -q 'event=plugin_handler .*name=example.reverse' "$T/w1.log" ||
	fail "the worker did not log the plugin's handler"
# a plugin handler's failure is a task failure with its message
set +e
"$BIN/example-producer" example.reverse "" 2>"$T/empty.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "empty payload: producer exited $rc, want 1"
[ "$(sql "SELECT error FROM tasks WHERE payload = '' AND name = 'example.reverse'")" = "nothing to reverse" ] ||
	fail "the handler's error was not kept"
# a bad plugin path stops the worker with exit 100 and a clear line
set +e
"$BIN/tq-worker" --plugin /nonexistent.so >"$T/bad.log" 2>&1
rc=$?
set -e
[ "$rc" -eq 100 ] || fail "bad plugin: exit $rc, want 100"
grep -q 'plugin "/nonexistent.so"' "$T/bad.log" || fail "bad plugin message: $(cat "$T/bad.log")"
