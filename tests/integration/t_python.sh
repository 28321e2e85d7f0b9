# The Python package (clients/python): its pytest suite against the real
# servers (the producer side with a running tq-worker; tq.serve through
# its pipes), then installed with pip into a venv, offline, and used from
# there.
. "$(dirname "$0")/lib.sh"
fresh_db
PY=${TQ_PYTHON:-/usr/bin/python3}
[ -f "$ROOT/build/libtq.so.1" ] || fail "build/libtq.so.1 not built (make)"
"$PY" -c 'import pytest' 2>/dev/null || fail "$PY has no pytest (ci/install-deps: python3-pytest)"
set +e
(cd "$ROOT/clients/python" && TQ_BIN=$BIN "$PY" -m pytest -q -p no:cacheprovider \
	--basetemp="$T/pytest" tests) >"$T/pytest.log" 2>&1
rc=$?
set -e
tail -n 3 "$T/pytest.log" | sed 's/^/  t_python: /' >&2
[ "$rc" -eq 0 ] || { cat "$T/pytest.log" >&2; fail "pytest exited $rc"; }
grep -q ' passed' "$T/pytest.log" || fail "pytest ran nothing"
! grep -q ' skipped' "$T/pytest.log" || fail "tests were skipped: $(grep skipped "$T/pytest.log")"

# pip, offline, into a venv that sees Debian's setuptools.
"$PY" -m venv --system-site-packages "$T/venv" >"$T/venv.log" 2>&1 ||
	fail "python3 -m venv: $(tail -n 3 "$T/venv.log")"
"$T/venv/bin/pip" install -q --no-build-isolation --no-index \
	"$ROOT/clients/python" >"$T/pip.log" 2>&1 ||
	fail "pip install ./clients/python: $(tail -n 5 "$T/pip.log")"
cd "$T"
out=$(TQ_LIB=$ROOT/build/libtq.so.1 "$T/venv/bin/python" -c '
import tq, sys
assert "venv" in tq.__file__, tq.__file__
with tq.Client() as c:
    print(c.submit("tq.echo", b"from the venv", delay=30))
') || fail "the installed package could not submit"
[ "$(task_col "$out" payload)" = "from the venv" ] || fail "no row for $out"
TQ_SERVE= "$T/venv/bin/python" -m tq.serve --help 2>"$T/help.err" ||
	fail "python -m tq.serve --help: $(cat "$T/help.err")"
grep -q 'usage: python3 -m tq.serve' "$T/help.err" || fail "tq.serve --help: $(cat "$T/help.err")"
