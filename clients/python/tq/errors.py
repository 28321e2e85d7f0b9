"""tq's exceptions.

Every failure of the producer API is a :class:`Error`. It is a
:class:`TemporaryError` when it may heal by itself (a server unreachable,
a connection lost: try again later, as ``tq`` exits 111) and a
:class:`PermanentError` when trying again cannot help (a bad option, a
payload too large, a bad configuration: ``tq`` exits 100).
"""

from __future__ import annotations

from typing import Optional


class Error(Exception):
    """A failure of tq."""

    temporary: bool = False


class TemporaryError(Error):
    """A failure that may heal by itself: retry later."""

    temporary = True


class PermanentError(Error):
    """A failure that retrying cannot heal."""


class NotFound(PermanentError):
    """No task has this id (it never existed, or retention deleted it)."""


class Timeout(Error, TimeoutError):
    """:meth:`Client.wait` ran out of time; ``state`` is the task's state."""

    temporary = True

    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.state = state


class TaskError(Error):
    """The task did not succeed (:meth:`Client.result`).

    ``state`` is its state (``failed``, ``cancelled``, or one not finished)
    and ``error`` the error it recorded, if any.
    """

    def __init__(self, message: str, state: str, error: Optional[str]) -> None:
        super().__init__(message)
        self.state = state
        self.error = error
