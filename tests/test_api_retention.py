"""Deleting and purging with files (`api.retention`), on a job store and data directory in a temporary folder."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from api import retention, store
from api.settings import Settings, prepare_data_dir

DAY_S = 86_400.0


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return prepare_data_dir(Settings(data_dir=tmp_path / "data", retention_days=2))


@pytest.fixture()
def conn(settings: Settings) -> Iterator[sqlite3.Connection]:
    opened = store.connect(settings.db_path)
    store.init_db(opened)
    yield opened
    opened.close()


def _finished_job(conn: sqlite3.Connection, settings: Settings, job_id: str, *, finished_at: float) -> Path:
    """A done job with a result file, finished at `finished_at`."""
    store.submit_job(conn, job_id=job_id, kind="solve", name=job_id, request={}, time_limit_s=None, notes=[],
                     max_queued=100, now=finished_at - 10)
    claimed = store.claim_job(conn, worker="w", now=finished_at - 5)
    assert claimed is not None and claimed.id == job_id
    folder = settings.job_dir(job_id)
    folder.mkdir(parents=True)
    (folder / "plan.json").write_text("{}", encoding="utf-8")
    store.finish_job(conn, job_id=job_id, attempt=1, status="done", now=finished_at, result={},
                     stored_bytes=retention.tree_bytes(folder))
    return folder


def test_purge_deletes_finished_jobs_older_than_the_retention_with_their_folders(conn: sqlite3.Connection,
                                                                                 settings: Settings) -> None:
    now = 100 * DAY_S
    old = _finished_job(conn, settings, "old", finished_at=now - 3 * DAY_S)
    recent = _finished_job(conn, settings, "recent", finished_at=now - 1 * DAY_S)
    orphan = settings.job_dir("orphan")
    orphan.mkdir()
    assert retention.purge_expired(conn, settings=settings, now=now) == 1
    assert not old.exists() and store.get_job(conn, job_id="old") is None
    assert recent.is_dir() and store.get_job(conn, job_id="recent") is not None
    assert not orphan.exists()   # a folder whose job is gone
    keep_all = settings.model_copy(update={"retention_days": 0})
    assert retention.purge_expired(conn, settings=keep_all, now=now + 10 * DAY_S) == 0


def test_an_orphan_upload_folder_goes_once_a_day_old_and_a_recorded_one_stays(conn: sqlite3.Connection,
                                                                              settings: Settings) -> None:
    recorded, orphan, fresh = (settings.files_dir / name for name in ("recorded", "orphan", "fresh"))
    for folder in (recorded, orphan, fresh):
        folder.mkdir()
        (folder / "demand.geojson").write_bytes(b"{}")
    store.add_upload(conn, upload_id="recorded", owner="k", now=0.0,
                     files=[{"name": "demand.geojson", "path": "files/recorded/demand.geojson", "bytes": 2,
                             "sha256": "x"}])
    day_old = orphan.stat().st_mtime - 2 * DAY_S
    for folder in (recorded, orphan):
        os.utime(folder, (day_old, day_old))
    retention.purge_expired(conn, settings=settings, now=fresh.stat().st_mtime + 60)
    assert recorded.is_dir() and not orphan.exists() and fresh.is_dir()   # fresh: maybe still being written


def test_uploads_of_an_older_data_directory_are_adopted_once_as_the_local_users(conn: sqlite3.Connection,
                                                                                 settings: Settings) -> None:
    legacy = settings.files_dir / "legacy"
    legacy.mkdir()
    (legacy / "demand.geojson").write_bytes(b"{}")
    assert retention.adopt_unrecorded_uploads(conn, settings=settings, now=1.0) == 1
    upload = store.get_upload(conn, upload_id="legacy", owner="local")
    assert upload is not None and upload.bytes == 2 and upload.files[0]["path"] == "files/legacy/demand.geojson"
    (settings.files_dir / "later").mkdir()   # e.g. left by a crash: never adopted, the purge removes it
    assert retention.adopt_unrecorded_uploads(conn, settings=settings, now=2.0) == 0
    assert store.get_upload(conn, upload_id="later", owner="local") is None
