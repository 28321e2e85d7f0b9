"""The producer side: :class:`Client` over libtq's tq_submit_tasks.

Nothing of the submit protocol (row before message, confirms, fencing)
lives here: libtq does it, for every language alike.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import json
import os
import threading
from dataclasses import dataclass
from typing import (Any, Iterable, Mapping, Optional, Sequence, Tuple, Union)

from . import _lib
from .errors import Error, NotFound, PermanentError, TaskError, TemporaryError, Timeout

Payload = Union[bytes, bytearray, memoryview, str]
Seconds = Union[int, float, _dt.timedelta]
When = Union[int, float, _dt.datetime]
Backoff = Union[Seconds, Tuple[Seconds, Seconds]]

TERMINAL = ("succeeded", "failed", "cancelled")

_OPTIONS = ("queue", "delay", "at", "max_attempts", "backoff", "timeout",
            "priority", "key", "after", "limit_key")


def json_payload(obj: Any) -> bytes:
    """``obj`` as compact UTF-8 JSON: a payload (or a handler's result)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _bytes(payload: Payload) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    if isinstance(payload, (bytearray, memoryview)):
        return bytes(payload)
    raise TypeError("payload: want bytes or str, not %s" % type(payload).__name__)


def _secs(what: str, v: Seconds) -> float:
    if isinstance(v, _dt.timedelta):
        return v.total_seconds()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise TypeError("%s: want seconds or a timedelta, not %s" % (what, type(v).__name__))


def _epoch(v: When) -> float:
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            # As tq submit --at: a time without a zone is UTC.
            v = v.replace(tzinfo=_dt.timezone.utc)
        return v.timestamp()
    return _secs("at", v)


@dataclass(frozen=True)
class Task:
    """A task as :meth:`Client.get` reads it."""

    id: str
    state: str
    attempts: int
    max_attempts: int
    progress: int
    result: Optional[bytes]
    error: Optional[str]

    @property
    def done(self) -> bool:
        """It ended: succeeded, failed or cancelled."""
        return self.state in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.state == "succeeded"

    def json(self) -> Any:
        """The result decoded as JSON."""
        return json.loads(self.result or b"null")


def _fill(t: _lib.TqTask, keep: list, name: str, payload: Payload,
          queue: Optional[str] = None, delay: Optional[Seconds] = None,
          at: Optional[When] = None, max_attempts: Optional[int] = None,
          backoff: Optional[Backoff] = None, timeout: Optional[Seconds] = None,
          priority: Optional[int] = None, key: Optional[str] = None,
          after: Union[None, str, Iterable[str]] = None,
          limit_key: Optional[str] = None) -> None:
    """One task's options into t; keep holds what t points to."""
    t.size = ctypes.sizeof(_lib.TqTask)
    t.name = name.encode()
    p = _bytes(payload)
    t.payload = p
    t.len = len(p)
    if queue is not None:
        t.queue = queue.encode()
    if delay is not None:
        t.delay_s = _secs("delay", delay)
    if at is not None:
        t.at = _epoch(at)
    if max_attempts is not None:
        if not isinstance(max_attempts, int) or not 1 <= max_attempts <= 1000:
            raise PermanentError("max_attempts %r is not 1..1000" % (max_attempts,))
        t.max_attempts = max_attempts
    if backoff is not None:
        if isinstance(backoff, tuple):
            t.backoff_base_s = _secs("backoff", backoff[0])
            t.backoff_cap_s = _secs("backoff", backoff[1])
        else:
            t.backoff_base_s = _secs("backoff", backoff)
        t.set |= _lib.SET_BACKOFF
    if timeout is not None:
        t.timeout_s = _secs("timeout", timeout)
        if t.timeout_s <= 0:
            raise PermanentError("timeout: must be positive")
    if priority is not None:
        if not isinstance(priority, int) or not 0 <= priority <= 9:
            raise PermanentError("priority %r is not 0..9" % (priority,))
        t.set |= _lib.SET_PRIORITY
        t.priority = priority
    if key is not None:
        t.key = key.encode()
    if limit_key is not None:
        t.limit_key = limit_key.encode()
    if after is not None:
        ids = [after] if isinstance(after, str) else list(after)
        arr = (ctypes.c_char_p * max(len(ids), 1))(*[i.encode() for i in ids])
        keep.append(arr)
        t.after = ctypes.cast(arr, ctypes.POINTER(ctypes.c_char_p))
        t.nafter = len(ids)


Spec = Union[Mapping[str, Any], Tuple[str, Payload]]


class Client:
    """A producer's connection to tq: submit tasks, read them, wait.

    ``config`` is a config file (its ``[tq]`` section), as ``tq -c FILE``;
    with None the settings come from the environment (``TQ_MYSQL_URL``,
    ``TQ_AMQP_URL``, ...) and the defaults, as for ``tq``. The servers are
    connected on first use. A client may be shared by threads (calls are
    serialized); close it, or use it as a context manager.
    """

    def __init__(self, config: Union[None, str, "os.PathLike[str]"] = None) -> None:
        self._lib = _lib.load()
        self._mu = threading.Lock()
        err = ctypes.create_string_buffer(512)
        cfg = os.fsencode(config) if config is not None else None
        self._h = self._lib.tq_open(cfg, err, ctypes.sizeof(err))
        if not self._h:
            raise PermanentError(err.value.decode(errors="replace"))

    # ---- life cycle ----

    def close(self) -> None:
        """Closes the connections; the client cannot be used after."""
        with self._mu:
            if self._h:
                self._lib.tq_close(self._h)
                self._h = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_h", None):
            self.close()

    def _handle(self) -> int:
        if not self._h:
            raise PermanentError("client is closed")
        return self._h

    def _error(self) -> Error:
        msg = (self._lib.tq_error(self._h) or b"").decode(errors="replace")
        if self._lib.tq_error_temporary(self._h):
            return TemporaryError(msg)
        return PermanentError(msg)

    # ---- submitting ----

    def submit(self, name: str, payload: Payload = b"", *,
               queue: Optional[str] = None, delay: Optional[Seconds] = None,
               at: Optional[When] = None, max_attempts: Optional[int] = None,
               backoff: Optional[Backoff] = None,
               timeout: Optional[Seconds] = None,
               priority: Optional[int] = None, key: Optional[str] = None,
               after: Union[None, str, Iterable[str]] = None,
               limit_key: Optional[str] = None) -> str:
        """Submits one task and returns its id once it is durable.

        ``queue``: the queue (default: the configured one). ``delay``
        (seconds or a timedelta) or ``at`` (a datetime, naive = UTC, or
        seconds since the epoch): start no earlier. ``max_attempts``
        (1..1000), ``backoff`` (base, or (base, cap), seconds) and
        ``timeout`` (per attempt) override the queue's defaults;
        ``priority`` 0..9 (9 first). ``key``: while a task with this key
        is not finished in its queue, its id is returned instead of a new
        task. ``after``: ids of tasks that must succeed first.
        ``limit_key``: the task runs under the limit of this key (``tq
        limit set``; e.g. ``"customer:42"`` under a ``customer:*`` limit).
        """
        return self.submit_many([dict(name=name, payload=payload, queue=queue,
                                      delay=delay, at=at,
                                      max_attempts=max_attempts,
                                      backoff=backoff, timeout=timeout,
                                      priority=priority, key=key,
                                      after=after,
                                      limit_key=limit_key)])[0]

    def submit_many(self, specs: Iterable[Spec], **defaults: Any) -> list[str]:
        """Submits tasks in one transaction; returns their ids, in order.

        Each spec is a mapping with ``name``, ``payload`` and any option of
        :meth:`submit`, or a ``(name, payload)`` pair; ``defaults`` (the
        same options) apply where a spec says nothing. All of them are
        durable when this returns, or none was stored.
        """
        for k in defaults:
            if k not in _OPTIONS:
                raise TypeError("submit_many: unknown option %r" % k)
        items = specs if isinstance(specs, Sequence) else list(specs)
        n = len(items)
        if n == 0:
            return []
        arr = (_lib.TqTask * n)()
        keep: list = []
        for i, s in enumerate(items):
            if isinstance(s, tuple):
                _fill(arr[i], keep, s[0], s[1], **defaults)
                continue
            opts = dict(defaults)
            for k, v in s.items():
                if k in ("name", "payload"):
                    continue
                if k not in _OPTIONS:
                    raise TypeError("submit_many: spec %d: unknown option %r" % (i, k))
                if v is not None:
                    opts[k] = v
            _fill(arr[i], keep, s["name"], s.get("payload", b""), **opts)
        ids = (_lib.IdBuf * n)()
        with self._mu:
            if self._lib.tq_submit_tasks(self._handle(), arr, n, ids) == -1:
                raise self._error()
        return [i.value.decode() for i in ids]

    # ---- reading ----

    def get(self, id: str) -> Optional[Task]:
        """The task ``id`` as it is now, or None when there is none."""
        info = _lib.TqInfo()
        with self._mu:
            r = self._lib.tq_get(self._handle(), id.encode(), ctypes.byref(info))
            if r == -1:
                raise self._error()
        if r == 0:
            return None
        try:
            result = (ctypes.string_at(info.result, info.result_len)
                      if info.result else None)
            error = (ctypes.string_at(info.error).decode(errors="replace")
                     if info.error else None)
            return Task(id=id, state=info.state.decode(),
                        attempts=info.attempts,
                        max_attempts=info.max_attempts,
                        progress=info.progress, result=result, error=error)
        finally:
            self._lib.tq_info_free(ctypes.byref(info))

    def wait(self, id: str, timeout: Optional[Seconds] = None) -> Task:
        """Waits until task ``id`` ends and returns it (whatever its end:
        see ``Task.state``). ``timeout`` (None: forever) raises
        :class:`Timeout` when it passes first."""
        secs = -1.0 if timeout is None else _secs("timeout", timeout)
        state = ctypes.create_string_buffer(16)
        with self._mu:
            r = self._lib.tq_wait(self._handle(), id.encode(), secs, state)
            if r == -1:
                raise self._error()
        st = state.value.decode()
        if st not in TERMINAL:
            raise Timeout("task %s is still %s after %gs" % (id, st, secs), st)
        task = self.get(id)
        if task is None:
            raise NotFound("task %s: gone after it ended (retention)" % id)
        return task

    def result(self, id: str) -> bytes:
        """The result of task ``id``, which succeeded; :class:`TaskError`
        when it did not (or not yet), :class:`NotFound` when there is no
        such task."""
        task = self.get(id)
        if task is None:
            raise NotFound("no task %s" % id)
        if task.state != "succeeded":
            raise TaskError("task %s is %s%s" % (
                id, task.state, ": " + task.error if task.error else ""),
                task.state, task.error)
        return task.result or b""
