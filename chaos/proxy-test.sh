#!/usr/bin/env bash
# proxy-test.sh: self-test of bin/tq-proxy (builds nothing).
#
#   chaos/proxy-test.sh              every case, against a local echo server,
#                                    then through the real services if
#                                    `ci/services status` says they run
#   chaos/proxy-test.sh --valgrind   the same with the proxy under memcheck;
#                                    fails on any error or definite leak
#
# Needs python3. Prints "ok - CASE" or "not ok - CASE: why" for each case
# and "N passed, N failed" at the end; exits 1 if any failed.
set -eu

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PROXY=${PROXY:-$ROOT/bin/tq-proxy}
VALGRIND=0
case "${1:-}" in
--valgrind) VALGRIND=1 ;;
"") ;;
*) echo "usage: chaos/proxy-test.sh [--valgrind]" >&2; exit 2 ;;
esac
[ -x "$PROXY" ] || { echo "proxy-test: $PROXY: not built" >&2; exit 1; }
command -v python3 >/dev/null || { echo "proxy-test: python3 missing" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/tq-proxy-test.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/t.py" <<'PYEOF'
import os, re, socket, sys, threading, time

def freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p

def echo_server(portfile):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1024)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    def handle(c):
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()
    while True:
        c, _ = srv.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()

def ctl(path, *cmds, timeout=10):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall("".join(c + "\n" for c in cmds).encode())
    buf = b""
    while buf.count(b"\n") < len(cmds):
        d = s.recv(4096)
        if not d:
            break
        buf += d
    s.close()
    return buf.decode().splitlines()

def ctl_ok(path, *cmds):
    for c, a in zip(cmds, ctl(path, *cmds)):
        if not a.startswith("ok"):
            raise Fail("%r answered %r" % (c, a))

def status(path):
    a = ctl(path, "status")[0]
    return dict(kv.split("=", 1) for kv in a.split()[1:])

class Fail(Exception):
    pass

def check(cond, why):
    if not cond:
        raise Fail(why)

def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return s

def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(min(65536, n - len(buf)))
        if not d:
            break
        buf += d
    return bytes(buf)

def roundtrip(port, n, timeout=30):
    """Sends n bytes and reads them back at the same time; seconds."""
    data = os.urandom(n)
    s = connect(port, timeout)
    t0 = time.monotonic()
    err = []
    def send():
        try:
            s.sendall(data)
        except OSError as e:
            err.append(e)
    th = threading.Thread(target=send)
    th.start()
    got = recv_exact(s, n)
    el = time.monotonic() - t0
    th.join()
    s.close()
    check(not err, "send: %s" % (err[0] if err else ""))
    check(got == data, "got %d of %d bytes back%s" % (len(got), n,
          ", corrupt" if len(got) == n else ""))
    return el

def wait_conns(path, n=0, secs=10):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if int(status(path)["conns"]) <= n:
            return
        time.sleep(0.05)
    raise Fail("conns still %s after %ss" % (status(path)["conns"], secs))

def expect_reset(s, why, secs=3):
    s.settimeout(secs)
    try:
        for _ in range(100):
            s.sendall(b"x" * 10)
            d = s.recv(100)
            if not d:
                raise Fail(why + ": got EOF, not a reset")
            time.sleep(0.01)
    except (ConnectionResetError, BrokenPipeError):
        return
    except socket.timeout:
        raise Fail(why + ": no reset within %ss" % secs)
    raise Fail(why + ": still answering")

def expect_eof(s, why, secs=3):
    s.settimeout(secs)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return
    except socket.timeout:
        raise Fail(why + ": no EOF within %ss" % secs)
    except ConnectionResetError:
        raise Fail(why + ": reset, not EOF")

# --- cases: each gets (port, ctl path, proxy pid) ---------------------------

def c_roundtrip(port, cp, pid):
    el = roundtrip(port, 1 << 20)
    check(el < 5, "1 MiB took %.2fs" % el)

def c_latency(port, cp, pid):
    base = min(roundtrip(port, 100) for _ in range(3))
    ctl_ok(cp, "latency 200")
    el = roundtrip(port, 100)
    check(el >= 0.4, "round trip with latency 200 took %.3fs" % el)
    check(el < 1.5, "round trip with latency 200 took %.3fs" % el)
    print("    base %.1fms, latency 200: %.1fms" % (base * 1e3, el * 1e3))

def c_jitter_order(port, cp, pid):
    ctl_ok(cp, "latency 30 25")
    s = connect(port)
    msgs = [b"%06d;" % i for i in range(300)]
    for m in msgs:
        s.sendall(m)
        time.sleep(0.001)
    got = recv_exact(s, sum(map(len, msgs)))
    s.close()
    check(got == b"".join(msgs), "stream reordered or cut under jitter")
    el = roundtrip(port, 300000)
    check(el >= 0.005, "jittered 300 kB round trip too fast")

def c_bandwidth(port, cp, pid):
    ctl_ok(cp, "bandwidth 100000")
    el = roundtrip(port, 300000)
    check(el >= 2.5, "300 kB at 100000 B/s took %.2fs" % el)
    check(el < 6, "300 kB at 100000 B/s took %.2fs" % el)
    print("    300 kB at 100000 B/s: %.2fs" % el)

def c_blackhole(port, cp, pid):
    a = connect(port)
    a.sendall(b"hello")
    check(recv_exact(a, 5) == b"hello", "no echo before blackhole")
    ctl_ok(cp, "blackhole on")
    b = connect(port)
    for s in (a, b):
        s.sendall(b"ping")
        s.settimeout(1)
        try:
            d = s.recv(100)
            raise Fail("blackholed connection answered %r" % d)
        except socket.timeout:
            pass
    check(int(status(cp)["conns"]) >= 2, "blackholed connections dropped")
    ctl_ok(cp, "blackhole off")
    expect_eof(a, "old connection after blackhole off")
    expect_eof(b, "new connection after blackhole off")
    a.close(); b.close()
    roundtrip(port, 1000)

def c_reset(port, cp, pid):
    a = connect(port)
    a.sendall(b"hello")
    check(recv_exact(a, 5) == b"hello", "no echo before reset")
    ctl_ok(cp, "reset")
    expect_reset(a, "after reset")
    a.close()
    roundtrip(port, 1000)

def limit_case(cp, port, cmd):
    ctl_ok(cp, cmd)
    s = connect(port)
    s.settimeout(3)
    echoed = 0
    try:
        for _ in range(50):
            s.sendall(b"y" * 100)
            d = recv_exact(s, 100)
            echoed += len(d)
            if len(d) < 100:
                return echoed, "eof"
    except (ConnectionResetError, BrokenPipeError):
        return echoed, "reset"
    finally:
        s.close()
    return echoed, "open"

def c_close_after(port, cp, pid):
    echoed, how = limit_case(cp, port, "close-after 1000")
    check(how == "eof", "close-after 1000 ended with %s" % how)
    check(400 <= echoed <= 500, "echoed %d bytes, want 400..500" % echoed)
    print("    close-after 1000: %d bytes echoed, then EOF" % echoed)

def c_reset_after(port, cp, pid):
    echoed, how = limit_case(cp, port, "reset-after 1000")
    check(how == "reset", "reset-after 1000 ended with %s" % how)
    check(echoed <= 500, "echoed %d bytes, want <= 500" % echoed)

def c_slice(port, cp, pid):
    ctl_ok(cp, "slice 10")
    roundtrip(port, 100000)
    ctl_ok(cp, "slice 10 5")
    s = connect(port)
    s.sendall(b"z" * 200)
    reads, got, t0 = 0, b"", time.monotonic()
    while len(got) < 200:
        d = s.recv(1000)
        check(d, "EOF in sliced stream")
        got += d
        reads += 1
    el = time.monotonic() - t0
    s.close()
    check(got == b"z" * 200, "sliced data corrupt")
    # 20 slices each way, 5 ms apart; the echo overlaps the two ways.
    check(el >= 0.09, "200 bytes in slices of 10 every 5ms took %.3fs" % el)
    check(reads >= 10, "only %d reads for 20 slices" % reads)

def c_refuse(port, cp, pid):
    ctl_ok(cp, "refuse on")
    try:
        s = connect(port, 3)
    except (ConnectionRefusedError, ConnectionResetError):
        pass
    else:
        expect_reset(s, "with refuse on")
        s.close()
    ctl_ok(cp, "refuse off")
    roundtrip(port, 1000)

def c_half_close(port, cp, pid):
    data = os.urandom(100000)
    s = connect(port)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    s.close()
    check(got == data, "half-close: got %d of %d bytes" % (len(got), len(data)))

def c_status(port, cp, pid):
    a = ctl(cp, "latency 7 3", "bandwidth x", "bogus", "slice 5 2", "",
            "reset-after -1", "refuse maybe", "status", "help")
    check(len(a) == 9, "9 commands got %d answers" % len(a))
    check(a[0] == "ok" and a[3] == "ok", "ok answers: %r" % a)
    for i in (1, 2, 4, 5, 6):
        check(a[i].startswith("error: "), "bad command answered %r" % a[i])
    s = connect(port)
    s.sendall(b"q")
    check(recv_exact(s, 1) == b"q", "no echo")
    st = status(cp)
    s.close()
    want = ["conns", "accepted", "bytes_up", "bytes_down", "latency",
            "jitter", "bandwidth", "blackhole", "slice", "reset_after",
            "close_after", "refuse"]
    check(all(k in st for k in want), "status lacks fields: %r" % a[7])
    check(st["latency"] == "7" and st["jitter"] == "3" and st["slice"] == "5",
          "status does not show the faults: %r" % a[7])
    check(int(st["conns"]) >= 1 and int(st["accepted"]) >= 10 and
          int(st["bytes_up"]) > 1000000 and int(st["bytes_down"]) > 1000000,
          "status counts wrong: %r" % a[7])
    ctl_ok(cp, "clear")
    st = status(cp)
    check(st["latency"] == "0" and st["slice"] == "0" and
          st["refuse"] == "off" and st["blackhole"] == "off", "clear kept faults")
    print("    " + ctl(cp, "status")[0])

def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))

def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def c_many(port, cp, pid):
    n = int(os.environ.get("MANY", "2000"))
    wait_conns(cp)
    time.sleep(0.2)
    before = nfds(pid)
    for i in range(n):
        s = connect(port)
        s.sendall(b"%d" % i)
        check(s.recv(100) == b"%d" % i, "short connection %d: no echo" % i)
        s.close()
    wait_conns(cp)
    end = time.monotonic() + 3   # our last control connection may linger
    while nfds(pid) != before and time.monotonic() < end:
        time.sleep(0.05)
    after = nfds(pid)
    check(after == before, "fds %d before, %d after %d connections" %
          (before, after, n))
    print("    %d connections: fds %d before, %d after" % (n, before, after))

def c_backpressure(port, cp, pid):
    before = rss_kb(pid)
    s = connect(port)
    s.settimeout(3)
    sent, chunk = 0, b"b" * 65536
    try:
        while sent < 512 << 20:
            sent += s.send(chunk)
    except socket.timeout:
        pass
    grown = rss_kb(pid) - before
    s.close()
    # Socket buffers on the way may hold ~100 MiB (tcp_rmem max 32 MiB);
    # the proxy itself holds 2 x 4 MiB.
    check(sent < 512 << 20, "proxy took %d MiB without backpressure" %
          (sent >> 20))
    limit = int(os.environ.get("GROW_MAX_MB", "48"))
    check(grown < limit << 10, "proxy grew by %d MiB" % (grown >> 10))
    wait_conns(cp)
    print("    a client that never reads got %d MiB in; proxy grew %d MiB"
          % (sent >> 20, grown >> 10))

def c_upstream_down(port, cp, pid):
    try:
        s = connect(port, 3)
    except (ConnectionRefusedError, ConnectionResetError):
        return
    expect_reset(s, "upstream down")
    s.close()

def c_amqp(port, cp, pid):
    """AMQP 0-9-1 greeting: the broker answers with Connection.Start."""
    ctl_ok(cp, *sys.argv[5:])
    s = connect(port)
    s.sendall(b"AMQP\x00\x00\x09\x01")
    hdr = recv_exact(s, 7)
    check(len(hdr) == 7 and hdr[0] == 1, "no method frame: %r" % hdr)
    size = int.from_bytes(hdr[3:7], "big")
    body = recv_exact(s, size + 1)
    s.close()
    check(len(body) == size + 1 and body[-1] == 0xCE, "frame cut")
    check(body[:4] == b"\x00\x0a\x00\x0a", "not Connection.Start")

def main():
    cmd = sys.argv[1]
    if cmd == "freeport":
        print(freeport())
    elif cmd == "echo":
        echo_server(sys.argv[2])
    elif cmd == "ctl":
        for line in ctl(sys.argv[2], *sys.argv[3:]):
            print(line)
    elif cmd == "wait":
        end = time.monotonic() + float(sys.argv[3])
        while True:
            try:
                status(sys.argv[2])
                return
            except (OSError, IndexError):
                if time.monotonic() > end:
                    sys.exit("proxy-test: proxy did not answer on " +
                             sys.argv[2])
                time.sleep(0.1)
    elif cmd == "case":
        name, port, cp, pid = sys.argv[2], int(sys.argv[3]), sys.argv[4], 0
        pid = int(os.environ.get("PROXY_PID", "0"))
        try:
            globals()["c_" + name](port, cp, pid)
        except Fail as e:
            print("not ok - %s: %s" % (name, e))
            sys.exit(1)
        except Exception as e:
            print("not ok - %s: %s: %s" % (name, type(e).__name__, e))
            sys.exit(1)
        print("ok - %s" % name)

main()
PYEOF

py() { python3 "$T/t.py" "$@"; }

PASS=0
FAIL=0
pass() { PASS=$((PASS + 1)); echo "ok - $1"; }
fail() { FAIL=$((FAIL + 1)); echo "not ok - $1"; }

# start_proxy NAME UPSTREAM_PORT: sets P_PORT, P_CTL, P_PID, P_LOG.
start_proxy() {
	P_PORT=$(py freeport)
	P_CTL=$T/$1.sock
	P_LOG=$T/$1.log
	if [ "$VALGRIND" = 1 ]; then
		valgrind --tool=memcheck --leak-check=full --show-leak-kinds=all \
		    --errors-for-leak-kinds=definite --error-exitcode=99 \
		    --track-fds=no --log-file="$T/$1.vg" \
		    "$PROXY" --listen "127.0.0.1:$P_PORT" \
		    --upstream "127.0.0.1:$2" --control "$P_CTL" --name "$1" \
		    2>"$P_LOG" &
	else
		"$PROXY" --listen "127.0.0.1:$P_PORT" --upstream "127.0.0.1:$2" \
		    --control "$P_CTL" --name "$1" 2>"$P_LOG" &
	fi
	P_PID=$!
	PIDS="$PIDS $P_PID"
	py wait "$P_CTL" 30
}

# stop_proxy NAME PID: SIGTERM; exit 0, socket gone, valgrind clean.
stop_proxy() {
	local rc=0
	kill -TERM "$2"
	wait "$2" || rc=$?
	PIDS=$(echo "$PIDS" | sed "s/ $2\b//")
	if [ "$rc" = 0 ] && [ ! -e "$T/$1.sock" ]; then
		pass "$1: SIGTERM: exit 0, control socket removed"
	else
		fail "$1: SIGTERM: exit $rc, socket $(ls "$T/$1.sock" 2>&1)"
		tail -5 "$T/$1.log"
	fi
	if [ "$VALGRIND" = 1 ]; then
		if grep -q "ERROR SUMMARY: 0 errors" "$T/$1.vg" &&
		    ! grep -q "definitely lost: [1-9]" "$T/$1.vg"; then
			pass "$1: valgrind: $(grep -E 'ERROR SUMMARY|in use at exit|definitely lost' "$T/$1.vg" | sed 's/^==[0-9]*== *//' | tr '\n' ' ')"
		else
			fail "$1: valgrind"
			cat "$T/$1.vg"
		fi
	fi
}

run_case() {	# NAME PORT CTL [ctl commands for amqp]
	local name=$1 tries=1 try
	[ "$name" != amqp ] || tries=3	# others may restart the broker
	for try in $(seq "$tries"); do
		py ctl "$3" clear >/dev/null
		if PROXY_PID=$P_PID py case "$@"; then
			PASS=$((PASS + 1))
			break
		elif [ "$try" = "$tries" ]; then
			FAIL=$((FAIL + 1))
			tail -5 "$P_LOG"
		else
			sleep 3
		fi
	done
	[ "$name" != amqp ] || py ctl "$3" clear >/dev/null
}

# Arguments and exit codes.
"$PROXY" --help >/dev/null && pass "usage: --help exits 0" || fail "usage: --help"
rc=0; "$PROXY" 2>/dev/null || rc=$?
[ "$rc" = 2 ] && pass "usage: no arguments exits 2" || fail "usage: no arguments exits $rc"
rc=0; "$PROXY" --listen 127.0.0.1:0 --upstream 127.0.0.1:1 --control "$T/x.sock" 2>/dev/null || rc=$?
[ "$rc" = 100 ] && pass "usage: port 0 exits 100" || fail "usage: port 0 exits $rc"
rc=0; "$PROXY" --listen nohost --upstream 127.0.0.1:1 --control "$T/x.sock" 2>/dev/null || rc=$?
[ "$rc" = 100 ] && pass "usage: bad address exits 100" || fail "usage: bad address exits $rc"

# The echo server.
python3 "$T/t.py" echo "$T/echo.port" &
PIDS="$PIDS $!"
for _ in $(seq 50); do [ -s "$T/echo.port" ] && break; sleep 0.1; done
ECHO=$(cat "$T/echo.port")

start_proxy echo "$ECHO"
EPID=$P_PID
[ "$(stat -c %a "$P_CTL")" = 600 ] && pass "control socket mode 0600" ||
    fail "control socket mode $(stat -c %a "$P_CTL")"
rc=0; "$PROXY" --listen "127.0.0.1:$P_PORT" --upstream 127.0.0.1:1 --control "$T/y.sock" 2>/dev/null || rc=$?
[ "$rc" = 111 ] && pass "listen port in use exits 111" || fail "listen port in use exits $rc"
rc=0; "$PROXY" --listen "127.0.0.1:$(py freeport)" --upstream 127.0.0.1:1 --control "$P_CTL" 2>/dev/null || rc=$?
[ "$rc" = 111 ] && pass "control socket in use exits 111" || fail "control socket in use exits $rc"

CASES="roundtrip latency jitter_order bandwidth blackhole reset close_after
    reset_after slice refuse half_close status backpressure many"
[ "$VALGRIND" = 0 ] || export MANY=300 GROW_MAX_MB=256
for c in $CASES; do
	run_case "$c" "$P_PORT" "$P_CTL"
done
stop_proxy echo "$EPID"

# An upstream that is not there: clients see a reset.
start_proxy down "$(py freeport)"
run_case upstream_down "$P_PORT" "$P_CTL"
stop_proxy down "$P_PID"

# The real services, when they run.
if st=$("$ROOT/ci/services" status 2>/dev/null); then
	dbport=$(echo "$st" | sed -n 's/^db: running.* port \([0-9]*\).*/\1/p')
	amqpport=$(echo "$st" | sed -n 's/^broker: running.* port \([0-9]*\).*/\1/p')
	if [ -n "$dbport" ] && command -v mariadb >/dev/null; then
		start_proxy db "$dbport"
		for f in "latency 50" "slice 7" "slice 7 1" "latency 20 10"; do
			py ctl "$P_CTL" clear "$f" >/dev/null
			# Others may restart the services: three tries.
			for try in 1 2 3; do
				t0=$(date +%s%N)
				if out=$(mariadb --no-defaults -h127.0.0.1 -P"$P_PORT" \
				    -utq -ptq tq -N -e 'select 1' 2>&1) &&
				    [ "$out" = 1 ]; then
					break
				fi
				[ "$try" = 3 ] || sleep 3
			done
			if [ "$out" = 1 ]; then
				pass "mariadb through the proxy with '$f' ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
			else
				fail "mariadb through the proxy with '$f': $out"
			fi
		done
		stop_proxy db "$P_PID"
	fi
	if [ -n "$amqpport" ]; then
		start_proxy amqp "$amqpport"
		run_case amqp "$P_PORT" "$P_CTL" "latency 50"
		run_case amqp "$P_PORT" "$P_CTL" "slice 7"
		stop_proxy amqp "$P_PID"
	fi
else
	echo "# ci/services not running: skipped the real-service cases"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
