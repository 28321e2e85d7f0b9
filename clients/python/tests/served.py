"""The worker's side of the served-handler frames, for the tests: starts
``python3 -m tq.serve SPEC`` with fd 3 (frames in) and fd 4 (frames out)
as tq-worker does, and speaks protocol version 1 to it."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Optional, Tuple

HERE = Path(__file__).resolve().parent
PKG = HERE.parent

T_TASK, T_CANCEL = 0x54, 0x43
T_READY, T_PROGRESS, T_OK, T_ERROR = 0x52, 0x50, 0x4F, 0x45


def new_id() -> str:
    return str(uuid.uuid4())


def _high(fd: int) -> int:
    new = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return new


class Served:
    """One served child, as a worker holds it."""

    def __init__(self, spec: str, logdir: Path, env: Optional[dict] = None,
                 serve_env: bool = True) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # The child's ends above 4, so that the shell's 3<& and 4>& never
        # overwrite one of them.
        to_child_r, from_child_w = _high(to_child_r), _high(from_child_w)
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             "PYTHONPATH": "%s:%s" % (PKG, HERE), "TQ_TASK_NAME": "demo"}
        if serve_env:
            e.update(TQ_SERVE="1", TQ_SERVE_IN="3", TQ_SERVE_OUT="4")
        e.update(env or {})
        self.out_path = logdir / "stdout.log"
        self.err_path = logdir / "stderr.log"
        # fds 3 and 4 exactly, nothing else open but 0-2.
        script = 'exec "$0" "$@" 3<&%d 4>&%d %d<&- %d>&-' % (
            to_child_r, from_child_w, to_child_r, from_child_w)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                ["/bin/bash", "-c", script, sys.executable, "-m", "tq.serve", spec],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=e,
                cwd=str(HERE), pass_fds=(to_child_r, from_child_w))
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""

    # ---- frames ----

    def send(self, typ: int, body: bytes) -> None:
        data = struct.pack("<IB", len(body) + 1, typ) + body
        while data:
            data = data[os.write(self._to_child, data):]

    def task(self, name: str, payload: bytes = b"", id: Optional[str] = None,
             attempt: int = 1, max_attempts: int = 3, timeout_ms: int = 0) -> str:
        id = id or new_id()
        nb = name.encode()
        self.send(T_TASK, id.encode() + struct.pack("<IIIH", attempt, max_attempts,
                                                    timeout_ms, len(nb)) + nb + payload)
        return id

    def cancel(self, id: str) -> None:
        self.send(T_CANCEL, id.encode())

    def _fill(self, n: int, deadline: float) -> bool:
        while len(self._buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no frame from the served child in time; "
                                   "stderr: %s" % self.stderr()[-800:])
            r, _, _ = select.select([self._from_child], [], [], left)
            if not r:
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                return False
            self._buf += chunk
        return True

    def recv(self, timeout: float = 10.0) -> Optional[Tuple[int, bytes]]:
        """The next frame (type, body), or None at EOF."""
        deadline = time.monotonic() + timeout
        if not self._fill(5, deadline):
            if self._buf:
                raise AssertionError("EOF inside a frame header: %r" % self._buf)
            return None
        n, typ = struct.unpack_from("<IB", self._buf)
        assert 1 <= n <= 64 * 1024 * 1024 + 64, "frame length %d" % n
        if not self._fill(4 + n, deadline):
            raise AssertionError("EOF inside a frame of %d bytes" % n)
        body = self._buf[5:4 + n]
        self._buf = self._buf[4 + n:]
        return typ, body

    def ready(self) -> bytes:
        fr = self.recv()
        assert fr is not None, "EOF before READY; stderr: %s" % self.stderr()
        typ, body = fr
        assert typ == T_READY, "first frame 0x%02x, want READY" % typ
        assert struct.unpack_from("<I", body)[0] == 1
        return body[4:]

    def answer(self, id: str, timeout: float = 10.0) -> Tuple[int, bytes, list]:
        """Frames up to the task's OK or ERROR: (type, body after the id,
        progress frames as (pct, msg))."""
        progress = []
        while True:
            fr = self.recv(timeout)
            assert fr is not None, "EOF before the answer; stderr: %s" % self.stderr()
            typ, body = fr
            assert body[:36] == id.encode(), "frame for %r, want %s" % (body[:36], id)
            if typ == T_PROGRESS:
                progress.append((body[36], body[37:]))
                continue
            assert typ in (T_OK, T_ERROR), "frame type 0x%02x" % typ
            return typ, body[36:], progress

    # ---- the process ----

    def close(self, timeout: float = 10.0) -> int:
        """EOF on fd 3; the exit status."""
        if self._to_child >= 0:
            os.close(self._to_child)
            self._to_child = -1
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if self._from_child >= 0:
                os.close(self._from_child)
                self._from_child = -1

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")
