"""tq for Python: submit tasks, and handle them.

Producers::

    import tq
    with tq.Client() as c:                  # TQ_MYSQL_URL, TQ_AMQP_URL, ...
        id = c.submit("resize", b"cat.jpg", max_attempts=5)
        print(c.wait(id, timeout=30).result)

Handlers (``python3 -m tq.serve mymodule`` as a served handler)::

    @tq.task("resize")
    def resize(payload: bytes, job: tq.Job) -> bytes:
        job.progress(50, "half way")
        return payload.upper()

The producer side binds libtq.so (the one implementation of tq's submit
protocol) with ctypes; the handler side needs only the standard library.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (Error, NotFound, PermanentError, TaskError,
                     TemporaryError, Timeout)
from .handler import Job, task
from .client import Client, Task, json_payload

__all__ = ["Client", "Task", "Job", "task", "json_payload", "Error",
           "TemporaryError", "PermanentError", "NotFound", "Timeout",
           "TaskError", "__version__"]
