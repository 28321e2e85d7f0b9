# A Python script registered as an exec handler turns payloads into
# results, its progress shows in tq show, a non-zero exit fails the
# attempt with its stderr tail; no shell, a clean environment.
. "$(dirname "$0")/lib.sh"
fresh_db
cat >"$T/upper.py" <<'PY'
#!/usr/bin/env python3
import os, sys, time
data = sys.stdin.read()
prog = os.fdopen(3, "w", buffering=1)
prog.write("progress 30 reading\n")
time.sleep(0.8)
prog.write("progress 60 shouting\n")
time.sleep(0.8)
if data.startswith("fail"):
    print("first line", file=sys.stderr)
    print("cannot shout: " + data.strip(), file=sys.stderr)
    sys.exit(3)
if data == "env":
    sys.stdout.write(" ".join(sorted(k for k in os.environ if not k.startswith("LC_"))))
    sys.exit(0)
sys.stdout.write(data.upper())
PY
chmod +x "$T/upper.py"
cat >"$T/tq.conf" <<CONF
[tq]
queue = $TQ_QUEUE

[pool p]
queue = $TQ_QUEUE
workers = 2

[task upper]
exec = $T/upper.py   ; no shell: the path and its arguments
timeout_s = 20
CONF
mkdir -m 700 "$T/ctl"
export SECRET_NOT_PASSED=x
"$BIN/tq-supervisor" -c "$T/tq.conf" --node exec --control "$T/ctl/s.sock" \
	>"$T/sup.log" 2>&1 &
PIDS+=($!)
id=$("$BIN/tq" submit upper "hello from python")
check_progress "$id"
"$BIN/tq" wait --timeout 20 "$id" || fail "exec task did not succeed"
[ "$("$BIN/tq" result "$id")" = "HELLO FROM PYTHON" ] || fail "exec result: $("$BIN/tq" result "$id")"

f=$("$BIN/tq" submit --max-attempts 1 upper "fail now")
set +e
"$BIN/tq" wait --timeout 20 "$f"
set -e
err=$(sql "SELECT error FROM tasks WHERE id = UNHEX(REPLACE('$f','-',''))")
note "failed exec error: $err"
case "$err" in "exit status 3: first line"*"cannot shout: fail now") ;;
*) fail "error is not the exit status and stderr tail: $err" ;; esac

e=$("$BIN/tq" submit upper env)
"$BIN/tq" wait --timeout 20 "$e" || fail "env task"
envs=$("$BIN/tq" result "$e")
note "environment of an exec handler: $envs"
[ "$envs" = "LANG PATH TQ_ATTEMPT TQ_QUEUE TQ_TASK_ID TQ_TASK_NAME" ] ||
	fail "environment not clean: $envs"
