"""tq.Client against the real servers and a running tq-worker."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time

import pytest

import tq
from conftest import idsql, sql


def row(id: str, cols: str) -> list:
    rows = sql("SELECT %s FROM tasks WHERE id = %s" % (cols, idsql(id)))
    assert len(rows) == 1, "task %s: %d rows" % (id, len(rows))
    return rows[0]


def test_submit_wait_result(client):
    id = client.submit("tq.echo", "héllo")
    assert len(id) == 36
    task = client.wait(id, timeout=30)
    assert task.state == "succeeded" and task.succeeded and task.done
    assert task.result == "héllo".encode() and task.attempts == 1
    assert client.result(id) == "héllo".encode()
    binary = bytes(range(256))
    id = client.submit("tq.echo", binary)
    assert client.wait(id, 30).result == binary


def test_json_payload(client):
    id = client.submit("tq.echo", tq.json_payload({"a": [1, 2], "b": "ü"}))
    assert client.wait(id, 30).json() == {"a": [1, 2], "b": "ü"}


def test_options_reach_the_row(client):
    id = client.submit("tq.echo", b"x", max_attempts=7, backoff=(0.25, 9),
                       timeout=dt.timedelta(seconds=12.5), priority=4,
                       key="opt-%d" % os.getpid(), delay=60)
    r = row(id, "state, max_attempts, backoff_base_ms, backoff_cap_ms, "
            "timeout_ms, priority, unique_key, "
            "TIMESTAMPDIFF(SECOND, NOW(6), due_at), queue")
    assert r[:7] == ["scheduled", "7", "250", "9000", "12500", "4",
                     "opt-%d" % os.getpid()]
    assert 57 <= int(r[7]) <= 60, r
    assert r[8] == os.environ["TQ_QUEUE"]
    # A base alone keeps the default cap, raised to the base.
    id = client.submit("tq.echo", b"x", backoff=2, delay=60)
    assert row(id, "backoff_base_ms, backoff_cap_ms") == ["2000", "2000"]


def test_at(client):
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=90)
    id = client.submit("tq.echo", b"x", at=when)
    assert 87 <= int(row(id, "TIMESTAMPDIFF(SECOND, NOW(6), due_at)")[0]) <= 90
    # A naive datetime is UTC, as tq submit --at; seconds since the epoch too.
    naive = when.replace(tzinfo=None) + dt.timedelta(seconds=100)
    id = client.submit("tq.echo", b"x", at=naive)
    assert 187 <= int(row(id, "TIMESTAMPDIFF(SECOND, NOW(6), due_at)")[0]) <= 190
    id = client.submit("tq.echo", b"now", at=time.time() - 5)
    assert client.wait(id, 30).result == b"now"


def test_key_returns_the_live_task(client):
    key = "k-%d-%f" % (os.getpid(), time.time())
    a = client.submit("tq.echo", b"1", key=key, delay=60)
    assert client.submit("tq.echo", b"2", key=key) == a
    assert sql("SELECT COUNT(*) FROM tasks WHERE unique_key = '%s'" % key) == [["1"]]


def test_limit_key(client):
    id = client.submit("tq.echo", b"limited", limit_key="py:1")
    assert row(id, "limit_key") == ["py:1"]
    assert client.wait(id, 30).result == b"limited"
    with pytest.raises(tq.PermanentError, match="bad limit key"):
        client.submit("tq.echo", b"x", limit_key="no spaces")


def test_after(client):
    parent = client.submit("tq.echo", b"parent", delay=1)
    child = client.submit("tq.echo", b"child", after=[parent])
    assert client.get(child).state == "scheduled"
    assert client.wait(child, 30).result == b"child"
    assert client.get(parent).state == "succeeded"
    # A parent that fails cancels its children.
    bad = client.submit("tq.fail", b"", max_attempts=1)
    orphan = client.submit("tq.echo", b"x", after=bad)
    t = client.wait(orphan, 30)
    assert t.state == "cancelled", t


def test_submit_many(client):
    before = int(sql("SELECT COUNT(*) FROM tasks")[0][0])
    specs = [("tq.echo", "p%d" % i) for i in range(500)]
    specs += [dict(name="tq.echo", payload=b"last", priority=9)]
    ids = client.submit_many(specs, max_attempts=2)
    assert len(ids) == 501 and len(set(ids)) == 501
    assert ids == sorted(ids)	# UUIDv7, in submission order
    assert int(sql("SELECT COUNT(*) FROM tasks")[0][0]) == before + 501
    assert row(ids[-1], "priority, max_attempts") == ["9", "2"]
    for i in (0, 250, 499):
        assert client.wait(ids[i], 60).result == b"p%d" % i
    assert client.submit_many([]) == []


def test_submit_many_is_all_or_nothing(client):
    before = sql("SELECT COUNT(*) FROM tasks")
    with pytest.raises(tq.PermanentError, match='task 2: bad task name "bad name"'):
        client.submit_many([("tq.echo", b"a"), ("tq.echo", b"b"),
                            ("bad name", b"c")])
    with pytest.raises(tq.PermanentError, match="payload of .* exceeds payload_max"):
        client.submit_many([("tq.echo", b"a"), ("tq.echo", b"x" * ((1 << 20) + 1))])
    assert sql("SELECT COUNT(*) FROM tasks") == before


def test_permanent_errors(client):
    cases = [
        (dict(delay=1, at=time.time() + 5), "delay and at exclude each other"),
        (dict(priority=10), "priority 10 is not 0..9"),
        (dict(max_attempts=0), "max_attempts 0 is not 1..1000"),
        (dict(backoff=(5, 1)), "backoff cap below base"),
        (dict(key=""), "key: 1 to 255 bytes"),
        (dict(after=["nope"]), '"nope" is not a task id'),
        (dict(queue="bad queue"), 'bad queue name "bad queue"'),
        (dict(timeout=0), "timeout: must be positive"),
    ]
    for opts, msg in cases:
        with pytest.raises(tq.PermanentError, match=msg) as e:
            client.submit("tq.echo", b"x", **opts)
        assert not e.value.temporary and isinstance(e.value, tq.Error)
    with pytest.raises(TypeError):
        client.submit("tq.echo", 42)
    with pytest.raises(TypeError, match="unknown option"):
        client.submit_many([dict(name="tq.echo", colour="red")])


def test_temporary_error_when_the_database_is_away(worker, monkeypatch):
    monkeypatch.setenv("TQ_MYSQL_URL", "mysql://tq:tq@127.0.0.1:9/tq")
    with tq.Client() as c:
        with pytest.raises(tq.TemporaryError) as e:
            c.submit("tq.echo", b"x")
        assert e.value.temporary and isinstance(e.value, tq.Error)


def test_config_file(worker, tmp_path, monkeypatch):
    cfg = tmp_path / "tq.ini"
    cfg.write_text("[tq]\nmysql_url = %s\namqp_url = %s\nqueue = from-file\n" % (
        os.environ["TQ_MYSQL_URL"], os.environ["TQ_AMQP_URL"]))
    monkeypatch.delenv("TQ_MYSQL_URL")
    monkeypatch.delenv("TQ_QUEUE")
    with tq.Client(cfg) as c:
        id = c.submit("tq.echo", b"x", delay=60)
    monkeypatch.undo()
    assert row(id, "queue") == ["from-file"]
    with pytest.raises(tq.PermanentError):
        tq.Client(tmp_path / "missing.ini")


def test_get_missing_and_result_of_a_failure(client):
    assert client.get("01234567-89ab-7def-8123-456789abcdef") is None
    with pytest.raises(tq.NotFound):
        client.result("01234567-89ab-7def-8123-456789abcdef")
    with pytest.raises(tq.PermanentError, match="is not a task id"):
        client.get("not-an-id")
    id = client.submit("tq.fail", b"", max_attempts=1)
    t = client.wait(id, 30)
    assert t.state == "failed" and t.error
    with pytest.raises(tq.TaskError) as e:
        client.result(id)
    assert e.value.state == "failed" and e.value.error == t.error


def test_wait_timeout(client):
    id = client.submit("tq.echo", b"x", delay=60)
    t0 = time.monotonic()
    with pytest.raises(tq.Timeout) as e:
        client.wait(id, 0.3)
    assert 0.25 <= time.monotonic() - t0 < 3
    assert e.value.state == "scheduled" and isinstance(e.value, TimeoutError)
    with pytest.raises(tq.TaskError) as e2:
        client.result(id)
    assert e2.value.state == "scheduled"


def test_closed_client(worker):
    c = tq.Client()
    c.close()
    c.close()
    with pytest.raises(tq.PermanentError, match="closed"):
        c.submit("tq.echo", b"x")


def test_threads_share_a_client(client):
    ids: list = []
    mu = threading.Lock()

    def run() -> None:
        for i in range(25):
            id = client.submit("tq.echo", b"t")
            with mu:
                ids.append(id)

    ts = [threading.Thread(target=run) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(set(ids)) == 100
    assert client.wait(ids[-1], 30).succeeded


def test_out_of_range_seconds(client):
    for opts, msg in [(dict(delay=-1), "delay -1 is not 0..31536000 seconds"),
                      (dict(delay=4e7), "delay 4e\\+07 is not"),
                      (dict(timeout=dt.timedelta(days=400)), "timeout 3.456e\\+07 is not"),
                      (dict(backoff=-2), "backoff -2,0 is not"),
                      (dict(at=-5), "at -5 is not a time")]:
        with pytest.raises(tq.PermanentError, match=msg):
            client.submit("tq.echo", b"x", **opts)
