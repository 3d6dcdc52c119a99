"""Removing what the service stores: deleted jobs and uploads with their files, and expired jobs.

A job's results live in ``jobs/<id>/``, an upload's files in ``files/<id>/``. Deleting one
removes its row first (the store refuses a running job, or an upload a queued job names,
atomically) and then its folder, so a crash in between leaves at most an orphan folder, which a
later purge removes. The purge runs when the server starts and every `Settings.purge_every_s`:
finished jobs older than `Settings.retention_days` are deleted with their results. Uploads stay
until their owner deletes them (they count against the key's storage quota).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import sqlite3
import time
from pathlib import Path

from api import store
from api.keys import LOCAL
from api.settings import Settings

log = logging.getLogger("eldercare.api")

DAY_S = 86_400.0
ORPHAN_UPLOAD_AGE_S = DAY_S   # an upload folder without a row this old is no upload still being written


def tree_bytes(folder: Path) -> int:
    """Bytes of every file under `folder` (0 when it does not exist)."""
    if not folder.is_dir():
        return 0
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def remove_folder(folder: Path) -> None:
    """Remove `folder` and everything in it; what is already gone (a concurrent delete) is no error."""

    def unless_gone(function: object, path: str, exc_info: tuple[type[BaseException], BaseException, object]) -> None:
        if not isinstance(exc_info[1], FileNotFoundError):
            raise exc_info[1]

    shutil.rmtree(folder, onerror=unless_gone)


def delete_job(conn: sqlite3.Connection, *, settings: Settings, job_id: str, owner: str) -> str:
    """Delete the owner's job and its results: ``"deleted"``, ``"running"`` (nothing done) or ``"missing"``."""
    outcome = store.delete_job(conn, job_id=job_id, owner=owner)
    if outcome == "deleted":
        remove_folder(settings.job_dir(job_id))
    return outcome


def delete_upload(conn: sqlite3.Connection, *, settings: Settings, upload_id: str,
                  owner: str) -> tuple[str, str | None]:
    """Delete the owner's upload and its files unless a queued or running job names it (`store.delete_upload`)."""
    outcome = store.delete_upload(conn, upload_id=upload_id, owner=owner)
    if outcome[0] == "deleted":
        remove_folder(settings.files_dir / upload_id)
    return outcome


def purge_expired(conn: sqlite3.Connection, *, settings: Settings, now: float) -> int:
    """Delete finished jobs older than the retention with their results, and orphan job folders.

    Returns how many jobs were deleted. A folder goes before its row: a purge interrupted in
    between is finished by the next one. Upload folders without a row (a crash while one was
    deleted, or refused) go too, once a day old.
    """
    purged = 0
    if settings.retention_days > 0:
        for job_id in store.finished_before(conn, cutoff=now - settings.retention_days * DAY_S):
            remove_folder(settings.job_dir(job_id))
            purged += store.forget_finished(conn, job_id=job_id)
    jobs_dir = settings.data_dir / "jobs"
    if jobs_dir.is_dir():
        folders = [path for path in jobs_dir.iterdir() if path.is_dir()]
        known = store.job_ids(conn)   # read after listing: a worker makes a folder only for a stored job
        for folder in folders:
            if folder.name not in known:
                remove_folder(folder)
    if settings.files_dir.is_dir():
        folders = [path for path in settings.files_dir.iterdir()
                   if path.is_dir() and path.stat().st_mtime < now - ORPHAN_UPLOAD_AGE_S]
        recorded = store.upload_ids(conn)
        for folder in folders:
            if folder.name not in recorded:
                remove_folder(folder)
    return purged


def adopt_unrecorded_uploads(conn: sqlite3.Connection, *, settings: Settings, now: float) -> int:
    """Record the upload folders of a data directory from before uploads had owners as the local user's.

    Runs when the server starts, before it takes requests, and does something once: on a store
    whose version is still 0 (it then becomes `store.VERSION`). Returns how many were adopted.
    """
    if store.version(conn) >= store.VERSION:
        return 0
    recorded = store.upload_ids(conn)
    adopted = 0
    for folder in sorted(settings.files_dir.iterdir()) if settings.files_dir.is_dir() else []:
        if not folder.is_dir() or folder.name in recorded:
            continue
        files = [{"name": path.name, "path": f"files/{folder.name}/{path.name}", "bytes": path.stat().st_size,
                  "sha256": _sha256(path)}
                 for path in sorted(folder.iterdir()) if path.is_file() and not path.name.startswith(".")]
        store.add_upload(conn, upload_id=folder.name, owner=LOCAL, files=files, now=now)
        adopted += 1
    store.set_version(conn, store.VERSION)
    return adopted


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def purge_once(settings: Settings) -> int:
    """One purge on its own connection (for the server's periodic task)."""
    conn = store.connect(settings.db_path)
    try:
        return purge_expired(conn, settings=settings, now=time.time())
    finally:
        conn.close()


async def purge_periodically(settings: Settings) -> None:
    """Purge now and every `Settings.purge_every_s` until cancelled; a failed purge is logged and retried."""
    while True:
        try:
            purged = await asyncio.to_thread(purge_once, settings)
        except (OSError, sqlite3.Error):
            log.exception("the purge of expired jobs failed; it runs again in %g s", settings.purge_every_s)
        else:
            if purged:
                log.info("deleted %d finished jobs older than %g days", purged, settings.retention_days)
        await asyncio.sleep(settings.purge_every_s)
