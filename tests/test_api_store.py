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
