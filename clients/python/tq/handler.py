"""The handler side: ``@tq.task(name)`` and the :class:`Job` a handler gets.

A handler is a function ``(payload: bytes, job: Job) -> bytes | str |
None``; ``python3 -m tq.serve MODULE`` runs the handlers MODULE registers
as a served handler of tq-worker (see :mod:`tq.serve`). An exception fails
the attempt (retried while attempts are left) with its message and the
tail of its traceback.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable, Dict, Optional, Union

Result = Union[bytes, bytearray, memoryview, str, None]
Handler = Callable[[bytes, "Job"], Result]

#: The handlers registered by @task, by task name.
registry: Dict[str, Handler] = {}


def task(name: str) -> Callable[[Handler], Handler]:
    """Registers the decorated function as the handler of task ``name``.

    The function is returned unchanged (it can still be called directly).
    """
    if not isinstance(name, str) or not name:
        raise ValueError("task: a task name, not %r" % (name,))

    def register(fn: Handler) -> Handler:
        if name in registry and registry[name] is not fn:
            raise ValueError("task %r: registered twice (%s and %s)" % (
                name, getattr(registry[name], "__qualname__", "?"),
                getattr(fn, "__qualname__", "?")))
        registry[name] = fn
        return fn

    return register


class Job:
    """The task a handler runs: its id, attempt, name, payload, progress
    and whether it is being cancelled."""

    __slots__ = ("id", "attempt", "max_attempts", "timeout", "name",
                 "payload", "_cancel", "_progress")

    def __init__(self, id: str, attempt: int, max_attempts: int,
                 timeout: Optional[float], name: str, payload: bytes,
                 progress: Optional[Callable[[str, int, str], None]] = None
                 ) -> None:
        #: The task id (a UUID as text).
        self.id = id
        #: This attempt, from 1.
        self.attempt = attempt
        self.max_attempts = max_attempts
        #: Seconds this attempt may run (None: no limit).
        self.timeout = timeout
        #: The task name.
        self.name = name
        self.payload = payload
        self._cancel = threading.Event()
        self._progress = progress

    @property
    def cancelled(self) -> bool:
        """The task is being cancelled or timed out: stop soon (the worker
        kills the handler after a grace period)."""
        return self._cancel.is_set()

    def wait_cancelled(self, timeout: Optional[float] = None) -> bool:
        """Sleeps until the task is cancelled or ``timeout`` passes;
        returns :attr:`cancelled`."""
        return self._cancel.wait(timeout)

    def progress(self, pct: int, msg: str = "") -> None:
        """Reports progress, 0..100, with a short message (``tq show``)."""
        pct = 0 if pct < 0 else 100 if pct > 100 else int(pct)
        if self._progress is not None:
            self._progress(self.id, pct, msg)

    def json(self) -> Any:
        """The payload decoded as JSON."""
        return json.loads(self.payload)

    def __repr__(self) -> str:
        return "Job(id=%r, name=%r, attempt=%d)" % (self.id, self.name, self.attempt)
