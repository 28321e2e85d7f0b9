"""Handlers the tests serve with python3 -m tq.serve handlers_demo."""

import os
import sys
import time

import tq


@tq.task("echo")
def echo(payload: bytes, job: tq.Job) -> bytes:
    return payload


@tq.task("upper")
def upper(payload: bytes, job: tq.Job) -> str:
    return payload.decode().upper()


@tq.task("nothing")
def nothing(payload: bytes, job: tq.Job) -> None:
    return None


@tq.task("info")
def info(payload: bytes, job: tq.Job) -> bytes:
    return tq.json_payload({"id": job.id, "attempt": job.attempt,
                            "max_attempts": job.max_attempts,
                            "timeout": job.timeout, "name": job.name,
                            "cancelled": job.cancelled,
                            "task_name_env": os.environ.get("TQ_TASK_NAME")})


def check_size(n: int) -> None:
    raise ValueError("bad size %d" % n)


@tq.task("fail")
def fail(payload: bytes, job: tq.Job) -> bytes:
    check_size(12)
    return b"unreachable"


@tq.task("progress")
def progress(payload: bytes, job: tq.Job) -> bytes:
    job.progress(40, "resizing")
    job.progress(250, "x" * 400)	# clamped to 100, message cut to 255 bytes
    return b"done"


@tq.task("wait_cancel")
def wait_cancel(payload: bytes, job: tq.Job) -> bytes:
    job.progress(1, "waiting")
    deadline = time.monotonic() + 10
    while not job.cancelled:
        if time.monotonic() > deadline:
            return b"never cancelled"
        time.sleep(0.005)
    raise RuntimeError("cancelled at attempt %d" % job.attempt)


@tq.task("noisy")
def noisy(payload: bytes, job: tq.Job) -> bytes:
    # Output that looks like frames, on both of the log's descriptors.
    for i in range(200):
        print("noise %d \x05\x00\x00\x00O" % i)
        sys.stdout.write("\x00\x01\x02 partial")
        print("err noise %d" % i, file=sys.stderr)
    sys.stdout.flush()
    os.write(1, b"\x29\x00\x00\x00E raw bytes on fd 1\n")
    return payload


@tq.task("badtype")
def badtype(payload: bytes, job: tq.Job) -> int:
    return 42  # type: ignore[return-value]


@tq.task("exit")
def exit_(payload: bytes, job: tq.Job) -> bytes:
    sys.exit(3)


@tq.task("json")
def json_(payload: bytes, job: tq.Job) -> bytes:
    return tq.json_payload({"sum": sum(job.json()["n"])})


def plain(payload: bytes, job: tq.Job) -> bytes:
    """Not decorated: served with handlers_demo:plain."""
    return b"plain:" + job.name.encode() + b":" + payload
