"""Finding and loading libtq.so, and the ctypes view of lib/tq.h.

The search order is: the ``TQ_LIB`` environment variable (a path), the
build output of the source tree this package sits in (``build/``), then
the system's libraries (``ctypes.util.find_library("tq")``, then
``libtq.so.1`` by name). Only the soname's major version 1 is accepted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from pathlib import Path
from typing import Optional

ID_LEN = 36
SET_BACKOFF = 0x1
SET_PRIORITY = 0x2
AFTER_MAX = 64
SOVERSION = 1


class TqTask(ctypes.Structure):
    """struct tq_task (libtq 1.1: limit_key)."""

    _fields_ = [
        ("size", ctypes.c_size_t),
        ("set", ctypes.c_uint),
        ("queue", ctypes.c_char_p),
        ("name", ctypes.c_char_p),
        # Binary-safe: len says how long; c_char_p keeps the bytes alive.
        ("payload", ctypes.c_char_p),
        ("len", ctypes.c_size_t),
        ("max_attempts", ctypes.c_uint),
        ("delay_s", ctypes.c_double),
        ("at", ctypes.c_double),
        ("backoff_base_s", ctypes.c_double),
        ("backoff_cap_s", ctypes.c_double),
        ("timeout_s", ctypes.c_double),
        ("priority", ctypes.c_uint),
        ("key", ctypes.c_char_p),
        ("after", ctypes.POINTER(ctypes.c_char_p)),
        ("nafter", ctypes.c_size_t),
        ("limit_key", ctypes.c_char_p),
    ]


class TqInfo(ctypes.Structure):
    """struct tq_info (frozen in libtq 1.x)."""

    _fields_ = [
        ("state", ctypes.c_char * 16),
        ("attempts", ctypes.c_uint),
        ("max_attempts", ctypes.c_uint),
        ("progress", ctypes.c_uint),
        ("result", ctypes.c_void_p),
        ("result_len", ctypes.c_size_t),
        ("error", ctypes.c_void_p),
    ]


IdBuf = ctypes.c_char * (ID_LEN + 1)

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None


def _candidates() -> list[str]:
    env = os.environ.get("TQ_LIB")
    if env:
        # An explicit choice: nothing else is tried.
        return [env]
    out = []
    tree = Path(__file__).resolve().parents[3] / "build" / f"libtq.so.{SOVERSION}"
    if tree.exists():
        out.append(str(tree))
    found = ctypes.util.find_library("tq")
    if found:
        out.append(found)
    out.append(f"libtq.so.{SOVERSION}")
    return out


def _prototypes(lib: ctypes.CDLL) -> None:
    c_int, c_size_t, c_char_p, c_void_p = (
        ctypes.c_int, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p)
    protos = {
        "tq_open": (c_void_p, [c_char_p, c_char_p, c_size_t]),
        "tq_close": (None, [c_void_p]),
        "tq_error": (c_char_p, [c_void_p]),
        "tq_error_temporary": (c_int, [c_void_p]),
        "tq_submit_task": (c_int, [c_void_p, ctypes.POINTER(TqTask), c_char_p]),
        "tq_submit_tasks": (c_int, [c_void_p, ctypes.POINTER(TqTask), c_size_t,
                                    ctypes.POINTER(IdBuf)]),
        "tq_get": (c_int, [c_void_p, c_char_p, ctypes.POINTER(TqInfo)]),
        "tq_info_free": (None, [ctypes.POINTER(TqInfo)]),
        "tq_wait": (c_int, [c_void_p, c_char_p, ctypes.c_double, c_char_p]),
    }
    for name, (res, args) in protos.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


def load() -> ctypes.CDLL:
    """Returns libtq, loading it on first use.

    Raises OSError naming every place tried when none loads.
    """
    global _lib
    with _lock:
        if _lib is not None:
            return _lib
        tried = []
        for cand in _candidates():
            try:
                lib = ctypes.CDLL(cand)
            except OSError as e:
                tried.append(f"{cand}: {e}")
                continue
            try:
                _prototypes(lib)
            except AttributeError as e:
                tried.append(f"{cand}: not libtq {SOVERSION}.x ({e})")
                continue
            _lib = lib
            return lib
        raise OSError("libtq.so.%d not found (set TQ_LIB to its path, or "
                      "build it with make): %s" % (SOVERSION, "; ".join(tried)))
