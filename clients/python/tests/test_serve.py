"""python3 -m tq.serve, driven through its pipes as tq-worker drives it
(tests/served.py speaks the worker's side of the frames). No servers."""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

import pytest

from served import T_ERROR, T_OK, T_PROGRESS, Served, new_id

HERE = Path(__file__).resolve().parent


@pytest.fixture
def child(tmp_path):
    s = Served("handlers_demo", tmp_path)
    assert s.ready().startswith(b"python tq ")
    yield s
    if s.proc.poll() is None:
        s.close()


def test_ready_then_eof_exits_0(child):
    t0 = time.monotonic()
    assert child.close() == 0
    assert time.monotonic() - t0 < 2


def test_echo_binary_and_large(child):
    payload = bytes(range(256)) * 4
    id = child.task("echo", payload)
    assert child.answer(id) == (T_OK, payload, [])
    big = os.urandom(3 * 1024 * 1024)
    id = child.task("echo", big)
    assert child.answer(id) == (T_OK, big, [])
    id = child.task("echo", b"")
    assert child.answer(id) == (T_OK, b"", [])


def test_results_str_and_none(child):
    id = child.task("upper", "grüße".encode())
    assert child.answer(id) == (T_OK, "GRÜSSE".encode(), [])
    id = child.task("nothing", b"x")
    assert child.answer(id) == (T_OK, b"", [])


def test_job_fields(child):
    id = child.task("info", b"", attempt=2, max_attempts=5, timeout_ms=1500)
    typ, body, _ = child.answer(id)
    assert typ == T_OK
    assert json.loads(body) == {"id": id, "attempt": 2, "max_attempts": 5,
                                "timeout": 1.5, "name": "info",
                                "cancelled": False, "task_name_env": "demo"}
    id = child.task("info", b"", timeout_ms=0)
    assert json.loads(child.answer(id)[1])["timeout"] is None


def test_json_helpers(child):
    id = child.task("json", b'{"n": [1, 2, 3]}')
    assert child.answer(id) == (T_OK, b'{"sum":6}', [])


def test_progress_frames(child):
    id = child.task("progress")
    typ, body, progress = child.answer(id)
    assert (typ, body) == (T_OK, b"done")
    assert progress == [(40, b"resizing"), (100, b"x" * 255)]


def test_exception_is_error_with_traceback_tail(child):
    id = child.task("fail")
    typ, body, _ = child.answer(id)
    assert typ == T_ERROR
    text = body.decode()
    assert text.startswith("ValueError: bad size 12\n"), text
    assert "handlers_demo.py" in text and "in check_size" in text, text
    assert 'raise ValueError("bad size %d" % n)' in text, text
    assert "serve.py" not in text, text	# tq.serve's own frame is left out
    # The child goes on serving.
    id = child.task("echo", b"after")
    assert child.answer(id) == (T_OK, b"after", [])


def test_unknown_task_name(child):
    id = child.task("nope", b"x")
    typ, body, _ = child.answer(id)
    assert typ == T_ERROR
    assert body.startswith(b'unknown task name "nope"'), body
    assert b"echo" in body	# what it does serve
    id = child.task("echo", b"still here")
    assert child.answer(id) == (T_OK, b"still here", [])


def test_bad_return_type(child):
    id = child.task("badtype")
    typ, body, _ = child.answer(id)
    assert typ == T_ERROR
    assert body.startswith(b"TypeError: handler returned int"), body


def test_cancel_sets_job_cancelled(child):
    id = child.task("wait_cancel", attempt=2)
    fr = child.recv()
    assert fr is not None and fr[0] == T_PROGRESS and fr[1][:36] == id.encode()
    t0 = time.monotonic()
    child.cancel(id)
    typ, body, _ = child.answer(id)
    assert typ == T_ERROR
    assert body.startswith(b"RuntimeError: cancelled at attempt 2"), body
    assert time.monotonic() - t0 < 1.0
    # A cancel for a task that is not running changes nothing.
    child.cancel(new_id())
    id = child.task("info")
    assert json.loads(child.answer(id)[1])["cancelled"] is False


def test_eof_while_running_cancels_and_exits(child):
    id = child.task("wait_cancel")
    assert child.recv() == (T_PROGRESS, id.encode() + b"\x01waiting")
    t0 = time.monotonic()
    assert child.close() == 0
    assert time.monotonic() - t0 < 2


def test_output_noise_does_not_corrupt_frames(child):
    for i in range(5):
        payload = b"payload %d" % i
        id = child.task("noisy", payload)
        assert child.answer(id) == (T_OK, payload, [])
    assert child.close() == 0
    out = child.stdout()
    assert out.count("noise 199") == 5 and "raw bytes on fd 1" in out
    assert child.stderr().count("err noise 199") == 5


def test_handler_exit_ends_the_child(child):
    id = child.task("exit")
    assert child.recv() is None	# no answer: the worker sees the exit
    assert child.proc.wait(5) == 3
    del id


def test_protocol_error_from_the_worker(child):
    child.send(0x7A, b"junk")
    assert child.recv() is None
    assert child.proc.wait(5) == 1
    assert "unknown frame type 0x7a" in child.stderr()


def test_oversized_frame_is_refused(child):
    os.write(child._to_child, struct.pack("<IB", 64 * 1024 * 1024 + 65, 0x54))
    assert child.recv() is None
    assert child.proc.wait(5) == 1
    assert "frame length" in child.stderr()


def test_module_attr_serves_a_plain_function(tmp_path):
    s = Served("handlers_demo:plain", tmp_path)
    s.ready()
    id = s.task("anything", b"p")
    assert s.answer(id) == (T_OK, b"plain:anything:p", [])
    # A decorated name keeps its own handler.
    id = s.task("upper", b"p")
    assert s.answer(id) == (T_OK, b"P", [])
    assert s.close() == 0


def test_import_failure_answers_every_task(tmp_path):
    s = Served("broken_demo", tmp_path)
    s.ready()
    id = s.task("echo", b"x")
    typ, body, _ = s.answer(id)
    assert typ == T_ERROR
    assert body.startswith(b"tq.serve: cannot load broken_demo: ImportError: "
                           b"no module named 'pillow_simd'"), body
    assert s.close() == 0


def test_not_started_by_a_worker(tmp_path):
    s = Served("handlers_demo", tmp_path, serve_env=False)
    assert s.recv() is None
    assert s.close() == 2
    assert "TQ_SERVE is not set" in s.stderr()


def test_throughput(child):
    """One task at a time, as the worker hands them over: the child's own
    cost per task must leave room for the 5,000 tasks/s end to end."""
    n = 5000
    payload = b"x" * 64
    ids = [new_id() for _ in range(n)]
    t0 = time.monotonic()
    for id in ids:
        child.task("echo", payload, id=id)
        typ, body = child.recv()
        assert typ == T_OK and body == id.encode() + payload
    rate = n / (time.monotonic() - t0)
    print("tq.serve: %d tasks one at a time, %.0f tasks/s" % (n, rate))
    assert rate >= 5000, "%.0f tasks/s" % rate
