"""Fixtures: the servers of ci/services (for the producer tests) and a
tq-worker on the test's queue. tests/integration/t_python.sh gives them a
fresh database; without TQ_MYSQL_URL those tests are skipped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Iterator, List

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
BIN = Path(os.environ.get("TQ_BIN", ROOT / "bin"))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _need_servers() -> None:
    if not os.environ.get("TQ_MYSQL_URL"):
        pytest.skip("needs the servers: tests/integration/run python "
                    "(or make check-python)")


def sql(query: str) -> List[List[str]]:
    """Rows of query on the test's database (the mariadb client)."""
    u = urllib.parse.urlsplit(os.environ["TQ_MYSQL_URL"])
    out = subprocess.run(
        ["mariadb", "--no-defaults", "-h", u.hostname or "127.0.0.1",
         "-P", str(u.port or 3306), "-u", urllib.parse.unquote(u.username or "tq"),
         "-p" + urllib.parse.unquote(u.password or ""), "-N", "-B",
         u.path.lstrip("/"), "-e", query],
        check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def idsql(id: str) -> str:
    return "UNHEX(REPLACE('%s','-',''))" % id


@pytest.fixture(scope="session")
def worker(tmp_path_factory) -> Iterator[subprocess.Popen]:
    """A tq-worker consuming the test's queue (TQ_QUEUE)."""
    _need_servers()
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    with open(log, "wb") as f:
        p = subprocess.Popen([str(BIN / "tq-worker")], stdout=f,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        text = log.read_text(errors="replace")
        if "event=consuming" in text or "event=broker_reconnected" in text:
            break
        if p.poll() is not None or time.monotonic() > deadline:
            p.kill()
            pytest.fail("tq-worker did not start consuming: %s" % text[-1000:])
        time.sleep(0.05)
    yield p
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


@pytest.fixture
def client(worker):
    import tq
    with tq.Client() as c:
        yield c
