"""``python3 -m tq.serve MODULE[:ATTR]``: Python handlers as a served
handler of tq-worker (protocol version 1, docs: the served-handler frames).

tq-worker starts this once per worker process and task name, for a task
configured with ``exec = /usr/bin/python3 -m tq.serve MODULE`` and
``serve = yes``, and hands it one task at a time over fd 3, reading the
answers from fd 4. MODULE is imported once; its ``@tq.task`` functions
handle the tasks by name. With ``:ATTR``, that function of MODULE (which
need not be decorated) handles every task this child is given.

Frames, both ways: ``len:u32 type:u8 body[len - 1]``, little-endian. In:
TASK ``T`` (id[36] attempt:u32 max_attempts:u32 timeout_ms:u32
name_len:u16 name payload), CANCEL ``C`` (id[36]), EOF (exit 0). Out:
READY ``R`` (version:u32 text) once, PROGRESS ``P`` (id pct:u8 msg), OK
``O`` (id result), ERROR ``E`` (id message). A thread reads fd 3, so that
a CANCEL reaches ``job.cancelled`` while the handler runs. stdout and
stderr are the worker's log, never a result: prints are harmless.
"""

from __future__ import annotations

import importlib
import os
import platform
import struct
import sys
import threading
import traceback
from queue import SimpleQueue
from typing import Dict, Optional, Tuple

from . import __version__
from .handler import Handler, Job, registry

VERSION = 1
FRAME_MAX = 64 * 1024 * 1024 + 64
T_TASK, T_CANCEL = 0x54, 0x43
T_READY, T_PROGRESS, T_OK, T_ERROR = 0x52, 0x50, 0x4F, 0x45
ERROR_MAX = 4096	# bytes of an error message, traceback tail included
PROGRESS_MSG_MAX = 255

_HDR = struct.Struct("<IB")
_TASK = struct.Struct("<36sIIIH")


class ProtocolError(Exception):
    """The worker sent something protocol version 1 does not allow."""


class _Conn:
    """Both pipes: frames read from rfd (by one thread), written to wfd
    (under a lock, from any thread)."""

    def __init__(self, rfd: int, wfd: int) -> None:
        self._r = os.fdopen(rfd, "rb", buffering=1 << 16)
        self._w = wfd
        self.lock = threading.Lock()
        #: The task being run (its id as bytes), None when idle.
        self.current: Optional[bytes] = None
        #: fd 3 reached its end: the worker wants this child gone.
        self.eof = False

    def recv(self) -> Optional[Tuple[int, bytes]]:
        hdr = self._r.read(5)
        if not hdr:
            return None
        if len(hdr) < 5:
            raise ProtocolError("frame header cut short (%d bytes)" % len(hdr))
        n, typ = _HDR.unpack(hdr)
        if n < 1 or n > FRAME_MAX:
            raise ProtocolError("frame length %d out of range" % n)
        body = self._r.read(n - 1) if n > 1 else b""
        if len(body) != n - 1:
            raise ProtocolError("frame of %d bytes cut short at %d" % (n, len(body) + 1))
        return typ, body

    def write(self, typ: int, body: bytes) -> None:
        """Writes one frame; call with lock held."""
        buf = memoryview(_HDR.pack(len(body) + 1, typ) + body)
        while buf:
            k = os.write(self._w, buf)
            buf = buf[k:]

    def progress(self, idb: bytes, pct: int, msg: str) -> None:
        m = msg.encode(errors="replace")[:PROGRESS_MSG_MAX]
        m = m.decode(errors="ignore").encode()
        with self.lock:
            # Only the running task's: any other id is a protocol error.
            if self.current == idb:
                self.write(T_PROGRESS, idb + bytes((pct,)) + m)


def _parse_task(conn: _Conn, body: bytes) -> Tuple[Job, bytes]:
    if len(body) < _TASK.size:
        raise ProtocolError("TASK frame of %d bytes" % (len(body) + 1))
    idb, attempt, max_attempts, timeout_ms, nlen = _TASK.unpack_from(body)
    if len(body) < _TASK.size + nlen:
        raise ProtocolError("TASK frame: name of %d bytes cut short" % nlen)
    name = body[_TASK.size:_TASK.size + nlen].decode(errors="replace")
    payload = body[_TASK.size + nlen:]

    def progress(_id: str, pct: int, msg: str) -> None:
        conn.progress(idb, pct, msg)

    job = Job(idb.decode(errors="replace"), attempt, max_attempts,
              timeout_ms / 1000.0 if timeout_ms else None, name, payload,
              progress)
    return job, idb


def _reader(conn: _Conn, q: "SimpleQueue[object]") -> None:
    """fd 3 to the main thread: TASKs queued, CANCELs set job.cancelled."""
    job: Optional[Job] = None
    idb = b""
    try:
        while True:
            fr = conn.recv()
            if fr is None:
                conn.eof = True
                break
            typ, body = fr
            if typ == T_TASK:
                job, idb = _parse_task(conn, body)
                conn.current = idb
                q.put((job, idb))
            elif typ == T_CANCEL:
                if len(body) != 36:
                    raise ProtocolError("CANCEL frame of %d bytes" % (len(body) + 1))
                if job is not None and body == idb and conn.current == idb:
                    job._cancel.set()
            else:
                raise ProtocolError("unknown frame type 0x%02x" % typ)
    except (ProtocolError, OSError) as e:
        q.put(e)
    finally:
        # EOF, or worse, while a task runs: it should stop.
        if job is not None and conn.current == idb:
            job._cancel.set()
        q.put(None)


def _result(r: object) -> bytes:
    if isinstance(r, bytes):
        return r
    if isinstance(r, str):
        return r.encode()
    if r is None:
        return b""
    if isinstance(r, (bytearray, memoryview)):
        return bytes(r)
    raise TypeError("handler returned %s: want bytes, str or None" % type(r).__name__)


def describe(e: BaseException, skip: int = 1) -> bytes:
    """An exception as a task's error: its message, then the last frames
    of its traceback (without the first skip, tq.serve's own)."""
    text = str(e)
    msg = "%s: %s" % (type(e).__name__, text) if text else type(e).__name__
    tb = e.__traceback__
    for _ in range(skip):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    frames = traceback.format_tb(tb)[-4:] if tb is not None else []
    out = msg.encode(errors="replace")
    if frames:
        tail = ("\ntraceback (last %d frames):\n" % len(frames) +
                "".join(frames)).encode(errors="replace")
        # The message first; the tail's end (the raising line) kept.
        room = ERROR_MAX - min(len(out), ERROR_MAX // 2)
        out = out[:ERROR_MAX // 2] + (tail[-room:] if len(tail) > room else tail)
    return out[:ERROR_MAX]


def load(spec: str) -> Tuple[Dict[str, Handler], Optional[Handler]]:
    """MODULE[:ATTR] to (handlers by name, the handler of every name)."""
    modname, _, attr = spec.partition(":")
    mod = importlib.import_module(modname)
    if not attr:
        if not registry:
            raise LookupError("module %s registers no task (@tq.task)" % modname)
        return dict(registry), None
    obj: object = mod
    for part in attr.split("."):
        obj = getattr(obj, part)
    if isinstance(obj, dict):
        return dict(obj), None
    if not callable(obj):
        raise TypeError("%s is %s, not a function" % (spec, type(obj).__name__))
    return dict(registry), obj  # type: ignore[return-value]


def serve(spec: str, rfd: int = 3, wfd: int = 4) -> int:
    """Serves the handlers of spec over rfd/wfd until EOF; the exit status."""
    for fd in (rfd, wfd):
        # A handler's own children must not hold the protocol's pipes.
        os.set_inheritable(fd, False)
    conn = _Conn(rfd, wfd)
    broken: Optional[bytes] = None
    handlers: Dict[str, Handler] = {}
    fallback: Optional[Handler] = None
    try:
        handlers, fallback = load(spec)
    except Exception as e:
        # Every task says why (a crash loop would only say "exited").
        broken = b"tq.serve: cannot load " + spec.encode() + b": " + describe(e, 0)
        traceback.print_exc()
    with conn.lock:
        conn.write(T_READY, struct.pack("<I", VERSION) + (
            "python tq %s (python %s)" % (__version__, platform.python_version())).encode())
    q: "SimpleQueue[object]" = SimpleQueue()
    threading.Thread(target=_reader, args=(conn, q), name="tq.serve reader",
                     daemon=True).start()
    while True:
        item = q.get()
        if item is None:
            return 0
        if isinstance(item, BaseException):
            print("tq.serve: %s" % item, file=sys.stderr)
            return 1
        job, idb = item  # type: ignore[misc]
        fn = handlers.get(job.name, fallback)
        if broken is not None:
            typ, body = T_ERROR, broken
        elif fn is None:
            typ, body = T_ERROR, ('unknown task name "%s" (this handler serves %s)' % (
                job.name, ", ".join(sorted(handlers)) or "none")).encode()
        else:
            try:
                typ, body = T_OK, _result(fn(job.payload, job))
            except Exception as e:
                typ, body = T_ERROR, describe(e)
            if len(body) > FRAME_MAX - 64:
                # Larger is a protocol error, which would kill the child.
                typ, body = T_ERROR, (b"result of %d bytes exceeds the "
                                      b"served-handler frame limit" % len(body))
        if conn.eof:
            return 0	# the worker is gone or recycles this child
        try:
            with conn.lock:
                conn.current = None
                conn.write(typ, idb + body)
        except OSError as e:
            if conn.eof:
                return 0
            print("tq.serve: fd %d: %s" % (wfd, e), file=sys.stderr)
            return 1


def main(argv: Optional[list] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python3 -m tq.serve MODULE[:ATTR]\n\n"
              "Run by tq-worker for a [task] with exec = python3 -m tq.serve "
              "MODULE\nand serve = yes: serves MODULE's @tq.task handlers.",
              file=sys.stderr)
        return 0 if args and args[0] in ("-h", "--help") else 2
    ver = os.environ.get("TQ_SERVE")
    if ver is None:
        print("tq.serve: TQ_SERVE is not set: tq-worker starts this for a "
              "[task] with serve = yes", file=sys.stderr)
        return 2
    if ver != str(VERSION):
        print("tq.serve: protocol version %s asked, this speaks %d" % (ver, VERSION),
              file=sys.stderr)
        return 100
    try:
        rfd = int(os.environ.get("TQ_SERVE_IN", "3"))
        wfd = int(os.environ.get("TQ_SERVE_OUT", "4"))
        os.fstat(rfd)
        os.fstat(wfd)
    except (ValueError, OSError) as e:
        print("tq.serve: the protocol's descriptors: %s" % e, file=sys.stderr)
        return 100
    # Lines reach the worker's log as they are printed.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    return serve(args[0], rfd, wfd)


if __name__ == "__main__":
    sys.exit(main())
