"""The SQLite job store: exclusive claims, stale jobs run again, an old attempt cannot overwrite a new one."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from api import store
from api.jobs import job_public


@pytest.fixture()
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    opened = store.connect(tmp_path / "jobs.sqlite3")
    store.init_db(opened)
    yield opened
    opened.close()


def _submit(conn: sqlite3.Connection, job_id: str, *, max_queued: int = 10, now: float = 0.0) -> bool:
    return store.submit_job(conn, job_id=job_id, kind="solve", name=job_id, request={"scenario": {}},
                            time_limit_s=60.0, notes=[], max_queued=max_queued, now=now)


def test_store_is_in_wal_mode_and_refuses_beyond_the_queue_limit(conn: sqlite3.Connection) -> None:
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [_submit(conn, f"j{k}", max_queued=2) for k in range(3)] == [True, True, False]
    assert store.count_by_status(conn)["queued"] == 2


def test_two_workers_never_claim_the_same_job(conn: sqlite3.Connection, tmp_path: Path) -> None:
    other = store.connect(tmp_path / "jobs.sqlite3")
    _submit(conn, "first")
    _submit(conn, "second")
    claimed = [store.claim_job(c, worker=name, now=1.0) for c, name in ((conn, "a"), (other, "b"), (conn, "a"))]
    assert [job.id if job else None for job in claimed] == ["first", "second", None]
    other.close()
    assert claimed[0] is not None and claimed[0].attempts == 1 and claimed[0].status == "running"


def test_a_silent_running_job_is_queued_again_then_failed_after_max_attempts(conn: sqlite3.Connection) -> None:
    _submit(conn, "job")
    for attempt in (1, 2):
        job = store.claim_job(conn, worker="w", now=100.0 * attempt)
        assert job is not None and job.attempts == attempt
        assert store.requeue_stale(conn, now=100.0 * attempt + 5, stale_after_s=10, max_attempts=2) == 0
        store.requeue_stale(conn, now=100.0 * attempt + 11, stale_after_s=10, max_attempts=2)
    record = store.get_job(conn, job_id="job")
    assert record is not None and record.status == "failed" and record.error is not None
    assert "interrupted 2 times" in record.error["problems"][0]["message"]
    assert record.notes == ["attempt 1 was interrupted (its worker stopped answering); queued again"]
    assert job_public(record).error is not None   # the stored error is a valid wire error


def test_an_old_attempt_cannot_overwrite_the_new_one(conn: sqlite3.Connection) -> None:
    _submit(conn, "job")
    store.claim_job(conn, worker="old", now=0.0)
    store.requeue_stale(conn, now=100.0, stale_after_s=10, max_attempts=3)
    new = store.claim_job(conn, worker="new", now=100.0)
    assert new is not None and new.attempts == 2
    assert store.heartbeat(conn, job_id="job", attempt=1, now=101.0) == "lost"
    assert not store.finish_job(conn, job_id="job", attempt=1, status="done", now=101.0, result={})
    assert store.heartbeat(conn, job_id="job", attempt=2, now=101.0, progress={"stage": "solving"}) == "ok"
    record = store.get_job(conn, job_id="job")
    assert record is not None and record.status == "running" and record.progress == {"stage": "solving"}


def test_cancel_drops_a_queued_job_and_asks_a_running_one_to_stop(conn: sqlite3.Connection) -> None:
    _submit(conn, "running")
    _submit(conn, "queued")
    store.claim_job(conn, worker="w", now=0.0)
    queued = store.cancel_job(conn, job_id="queued", now=1.0)
    running = store.cancel_job(conn, job_id="running", now=1.0)
    assert queued is not None and queued.status == "cancelled"
    assert running is not None and running.status == "running" and running.cancel_requested
    assert store.heartbeat(conn, job_id="running", attempt=1, now=2.0) == "cancel"
    store.requeue_stale(conn, now=100.0, stale_after_s=10, max_attempts=3)   # its worker died meanwhile
    record = store.get_job(conn, job_id="running")
    assert record is not None and record.status == "cancelled"


def test_an_older_store_gains_owner_and_bytes_and_its_jobs_belong_to_the_local_user(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "old.sqlite3")
    old.executescript("CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, "
                      "kind TEXT NOT NULL, status TEXT NOT NULL, name TEXT NOT NULL, request TEXT NOT NULL, "
                      "time_limit_s REAL, notes TEXT NOT NULL DEFAULT '[]', created_at REAL NOT NULL, started_at REAL, "
                      "finished_at REAL, heartbeat_at REAL, worker TEXT, attempts INTEGER NOT NULL DEFAULT 0, "
                      "cancel_requested INTEGER NOT NULL DEFAULT 0, progress TEXT, result TEXT, error TEXT);"
                      "INSERT INTO jobs (id, kind, status, name, request, created_at) "
                      "VALUES ('before', 'solve', 'done', 'old', '{}', 1.0);")
    old.close()
    conn = store.connect(tmp_path / "old.sqlite3")
    store.init_db(conn)
    store.init_db(conn)   # a second start (or a worker beside the server) finds nothing to add
    record = store.get_job(conn, job_id="before", owner="local")
    assert record is not None and record.owner == "local" and record.bytes == 0
    assert store.get_job(conn, job_id="before", owner="0123456789ab") is None
    conn.close()


def test_jobs_are_read_listed_and_counted_per_owner(conn: sqlite3.Connection) -> None:
    for k, owner in enumerate(("a", "a", "b")):
        assert store.submit_job(conn, job_id=f"j{k}", kind="solve", name="n", request={}, time_limit_s=None,
                                notes=[], max_queued=10, now=float(k), owner=owner, owner_max_queued=2)
    assert not store.submit_job(conn, job_id="j3", kind="solve", name="n", request={}, time_limit_s=None, notes=[],
                                max_queued=10, now=3.0, owner="a", owner_max_queued=2)   # a's share is full
    assert [job.id for job in store.list_jobs(conn, owner="a")] == ["j1", "j0"]
    assert [job.id for job in store.list_jobs(conn, owner="b", status="queued")] == ["j2"]
    assert store.get_job(conn, job_id="j2", owner="a") is None
    assert store.count_queued(conn, owner="a") == 2 and store.count_queued(conn) == 3


def test_a_running_job_is_not_deleted_and_a_queued_one_is(conn: sqlite3.Connection) -> None:
    _submit(conn, "running")
    _submit(conn, "queued")
    store.claim_job(conn, worker="w", now=0.0)
    assert store.delete_job(conn, job_id="running", owner="local") == "running"
    assert store.delete_job(conn, job_id="queued", owner="other") == "missing"
    assert store.delete_job(conn, job_id="queued", owner="local") == "deleted"
    assert store.claim_job(conn, worker="w", now=1.0) is None   # nothing left to claim
    assert store.finish_job(conn, job_id="running", attempt=1, status="done", now=2.0, result={}, stored_bytes=700)
    assert store.stored_bytes(conn, owner="local") == 700
    assert store.finished_before(conn, cutoff=3.0) == ["running"] and store.finished_before(conn, cutoff=1.0) == []


def test_an_upload_named_by_a_queued_job_is_not_deleted(conn: sqlite3.Connection) -> None:
    store.add_upload(conn, upload_id="u1", owner="local", now=0.0,
                     files=[{"name": "d.geojson", "path": "files/u1/d.geojson", "bytes": 300, "sha256": "x"}])
    store.submit_job(conn, job_id="uses", kind="solve", name="n", request={"scenario": {"demand": {
        "path": "files/u1/d.geojson"}}}, time_limit_s=None, notes=[], max_queued=10, now=1.0)
    assert store.stored_bytes(conn, owner="local") == 300
    assert store.delete_upload(conn, upload_id="u1", owner="other") == ("missing", None)
    assert store.delete_upload(conn, upload_id="u1", owner="local") == ("in use", "uses")
    store.cancel_job(conn, job_id="uses", now=2.0)
    assert store.delete_upload(conn, upload_id="u1", owner="local") == ("deleted", None)
    assert store.get_upload(conn, upload_id="u1", owner="local") is None
