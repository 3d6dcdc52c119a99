"""The job store: one SQLite file in WAL mode, written before a submission is acknowledged.

Every function takes an open connection and keyword-only arguments; routes and workers call
them, nothing else touches SQL. Workers claim queued jobs with one atomic UPDATE, renew a
heartbeat while they run, and write the outcome guarded by the attempt number that claimed
it, so a worker that lost its job (declared stale, then re-run) can never overwrite the
newer attempt. A running job whose heartbeat went silent is queued again (`requeue_stale`):
that is how jobs interrupted by a killed server run again after a restart.

Every job and upload has an `owner`: the id of the API key that submitted it (``local`` when
the server runs without keys). Reads take the owner, so that one key never sees another's
rows. The ``keys`` table itself is read and written by `api.keys`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATUSES = ("queued", "running", "done", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    name             TEXT NOT NULL,
    request          TEXT NOT NULL,
    time_limit_s     REAL,
    notes            TEXT NOT NULL DEFAULT '[]',
    created_at       REAL NOT NULL,
    started_at       REAL,
    finished_at      REAL,
    heartbeat_at     REAL,
    worker           TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    progress         TEXT,
    result           TEXT,
    error            TEXT,
    owner            TEXT NOT NULL DEFAULT 'local',
    bytes            INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS uploads (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    created_at REAL NOT NULL,
    bytes      INTEGER NOT NULL,
    files      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS keys (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    hash    TEXT NOT NULL,
    created REAL NOT NULL,
    revoked REAL,
    quotas  TEXT NOT NULL DEFAULT '{}'
);
"""

# Columns added to a job store written by an earlier version: (table, column, declaration).
# Jobs from before API keys belong to the local user (the server had no keys then).
_ADDED_COLUMNS = (("jobs", "owner", "TEXT NOT NULL DEFAULT 'local'"), ("jobs", "bytes", "INTEGER NOT NULL DEFAULT 0"))

_INDEXES = """
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, seq);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, status, seq);
CREATE INDEX IF NOT EXISTS uploads_by_owner ON uploads (owner, created_at);
"""
VERSION = 1   # PRAGMA user_version once uploads of an older data directory have been adopted (api.retention)


@dataclass(frozen=True)
class JobRecord:
    """One row of the store, JSON columns decoded (storage, not the wire format)."""

    id: str
    kind: str
    status: str
    name: str
    request: dict[str, Any]
    time_limit_s: float | None
    notes: list[str]
    created_at: float
    started_at: float | None
    finished_at: float | None
    heartbeat_at: float | None
    worker: str | None
    attempts: int
    cancel_requested: bool
    progress: dict[str, Any] | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    owner: str = "local"
    bytes: int = 0


@dataclass(frozen=True)
class UploadRecord:
    """One upload: the files of one POST /v1/files, stored together under ``files/<id>/``."""

    id: str
    owner: str
    created_at: float
    bytes: int
    files: list[dict[str, Any]]


_JSON_COLUMNS = ("request", "notes", "progress", "result", "error")


def _record(row: sqlite3.Row) -> JobRecord:
    values = dict(zip(row.keys(), tuple(row), strict=True))
    del values["seq"]
    for key in _JSON_COLUMNS:
        values[key] = None if values[key] is None else json.loads(values[key])
    values["cancel_requested"] = bool(values["cancel_requested"])
    return JobRecord(**values)


def connect(db_path: Path) -> sqlite3.Connection:
    """Open the store (autocommit; explicit transactions where several statements must agree).

    ``synchronous=FULL``: a committed submission survives a power cut, not only a killed process.
    """
    conn = sqlite3.connect(str(db_path), timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def init_db(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL mode (persistent), create the tables if new, add columns an older store lacks."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise RuntimeError(f"the job store cannot use WAL mode (got '{mode}'); is the data directory on a "
                           "network file system?")
    conn.executescript(_SCHEMA)
    with _immediate(conn):   # the server and its workers may start at once: one of them migrates
        for table, column, declaration in _ADDED_COLUMNS:
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    conn.executescript(_INDEXES)


def version(conn: sqlite3.Connection) -> int:
    """The store's version (``PRAGMA user_version``; 0 for a store from before it was kept)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def set_version(conn: sqlite3.Connection, value: int) -> None:
    """Record the store's version."""
    conn.execute(f"PRAGMA user_version = {int(value)}")


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction taken at once, so that a read and the write after it agree."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def submit_job(conn: sqlite3.Connection, *, job_id: str, kind: str, name: str, request: dict[str, Any],
               time_limit_s: float | None, notes: list[str], max_queued: int, now: float, owner: str = "local",
               owner_max_queued: int | None = None) -> bool:
    """Store a new queued job of `owner` unless `max_queued` jobs in all, or `owner_max_queued` of this
    owner's, are already queued; True when stored (committed)."""
    with _immediate(conn):
        cursor = conn.execute(
            "INSERT INTO jobs (id, kind, status, name, request, time_limit_s, notes, created_at, owner) "
            "SELECT ?, ?, 'queued', ?, ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM jobs WHERE status = 'queued') < ? "
            "AND (SELECT count(*) FROM jobs WHERE status = 'queued' AND owner = ?) < ?",
            (job_id, kind, name, json.dumps(request, ensure_ascii=False), time_limit_s, json.dumps(notes), now,
             owner, max_queued, owner, max_queued if owner_max_queued is None else owner_max_queued))
    return cursor.rowcount == 1


def get_job(conn: sqlite3.Connection, *, job_id: str, owner: str | None = None) -> JobRecord | None:
    """The job with this id (of this `owner`, when given), or None."""
    if owner is None:
        row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    else:
        row = conn.execute("SELECT * FROM jobs WHERE id = ? AND owner = ?", (job_id, owner)).fetchone()
    return None if row is None else _record(row)


def list_jobs(conn: sqlite3.Connection, *, owner: str, kind: str | None = None, status: str | None = None,
              limit: int = 100) -> list[JobRecord]:
    """The owner's jobs, newest first, optionally of one kind and status."""
    rows = conn.execute(
        "SELECT * FROM jobs WHERE owner = :owner AND (:kind IS NULL OR kind = :kind) "
        "AND (:status IS NULL OR status = :status) ORDER BY seq DESC LIMIT :limit",
        {"owner": owner, "kind": kind, "status": status, "limit": limit}).fetchall()
    return [_record(row) for row in rows]


def count_queued(conn: sqlite3.Connection, *, owner: str | None = None) -> int:
    """Queued jobs, of one owner or of all."""
    if owner is None:
        return int(conn.execute("SELECT count(*) FROM jobs WHERE status = 'queued'").fetchone()[0])
    return int(conn.execute("SELECT count(*) FROM jobs WHERE status = 'queued' AND owner = ?", (owner,)).fetchone()[0])


def stored_bytes(conn: sqlite3.Connection, *, owner: str) -> int:
    """Bytes the owner stores: its uploads and its jobs' results (as recorded when each job ended)."""
    row = conn.execute("SELECT (SELECT coalesce(sum(bytes), 0) FROM jobs WHERE owner = ?1) + "
                       "(SELECT coalesce(sum(bytes), 0) FROM uploads WHERE owner = ?1)", (owner,)).fetchone()
    return int(row[0])


def delete_job(conn: sqlite3.Connection, *, job_id: str, owner: str) -> str:
    """Remove the owner's job row unless it is running: ``"deleted"``, ``"running"`` or ``"missing"``.

    One statement, so that a worker cannot claim the job between the check and the delete.
    """
    row = conn.execute("DELETE FROM jobs WHERE id = ? AND owner = ? AND status != 'running' RETURNING id",
                       (job_id, owner)).fetchone()
    if row is not None:
        return "deleted"
    return "missing" if get_job(conn, job_id=job_id, owner=owner) is None else "running"


def finished_before(conn: sqlite3.Connection, *, cutoff: float) -> list[str]:
    """Ids of the jobs that finished (done, failed, cancelled) before `cutoff` (seconds since the epoch)."""
    rows = conn.execute("SELECT id FROM jobs WHERE status IN ('done', 'failed', 'cancelled') AND finished_at < ? "
                        "ORDER BY seq", (cutoff,))
    return [row[0] for row in rows]


def forget_finished(conn: sqlite3.Connection, *, job_id: str) -> bool:
    """Remove a finished job's row (its files are already gone); False if it is not finished or not there."""
    cursor = conn.execute("DELETE FROM jobs WHERE id = ? AND status IN ('done', 'failed', 'cancelled')", (job_id,))
    return cursor.rowcount == 1


def job_ids(conn: sqlite3.Connection) -> set[str]:
    """The id of every job in the store."""
    return {row[0] for row in conn.execute("SELECT id FROM jobs")}


def count_by_status(conn: sqlite3.Connection) -> dict[str, int]:
    """Number of jobs in each status (every status present, zeros included)."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in conn.execute("SELECT status, count(*) FROM jobs GROUP BY status"):
        counts[status] = count
    return counts


def claim_job(conn: sqlite3.Connection, *, worker: str, now: float) -> JobRecord | None:
    """Take the oldest queued job for `worker` (one atomic UPDATE); None when the queue is empty."""
    row = conn.execute(
        "UPDATE jobs SET status = 'running', worker = ?, attempts = attempts + 1, started_at = ?, "
        "heartbeat_at = ?, progress = NULL "
        "WHERE seq = (SELECT seq FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1) AND status = 'queued' "
        "RETURNING *", (worker, now, now)).fetchone()
    return None if row is None else _record(row)


def heartbeat(conn: sqlite3.Connection, *, job_id: str, attempt: int, now: float,
              progress: dict[str, Any] | None = None) -> str:
    """Renew the claim of a running job: ``"ok"``, ``"cancel"`` (cancel requested) or ``"lost"``.

    ``"lost"``: the job is no longer this attempt's (declared stale and re-queued, or finished).
    """
    args: list[float | str]
    sets, args = "heartbeat_at = ?", [now]
    if progress is not None:
        sets, args = sets + ", progress = ?", [now, json.dumps(progress)]
    row = conn.execute(f"UPDATE jobs SET {sets} WHERE id = ? AND attempts = ? AND status = 'running' "
                       "RETURNING cancel_requested", (*args, job_id, attempt)).fetchone()
    if row is None:
        return "lost"
    return "cancel" if row[0] else "ok"


def finish_job(conn: sqlite3.Connection, *, job_id: str, attempt: int, status: str, now: float,
               result: dict[str, Any] | None = None, error: dict[str, Any] | None = None,
               stored_bytes: int = 0) -> bool:
    """Record the outcome of a running attempt (done, failed or cancelled) and the bytes of its results;
    False if it was lost."""
    cursor = conn.execute(
        "UPDATE jobs SET status = ?, finished_at = ?, heartbeat_at = ?, result = ?, error = ?, bytes = ? "
        "WHERE id = ? AND attempts = ? AND status = 'running'",
        (status, now, now, None if result is None else json.dumps(result),
         None if error is None else json.dumps(error), stored_bytes, job_id, attempt))
    return cursor.rowcount == 1


def release_job(conn: sqlite3.Connection, *, job_id: str, attempt: int) -> bool:
    """Put a running attempt back in the queue (the worker is shutting down); not counted as a try."""
    cursor = conn.execute(
        "UPDATE jobs SET status = 'queued', worker = NULL, attempts = attempts - 1, progress = NULL "
        "WHERE id = ? AND attempts = ? AND status = 'running'", (job_id, attempt))
    return cursor.rowcount == 1


def cancel_job(conn: sqlite3.Connection, *, job_id: str, now: float) -> JobRecord | None:
    """Cancel a queued job at once, or ask the worker of a running job to stop it.

    Returns the job as it is afterwards (None if there is no such job); a finished job is unchanged.
    """
    with _immediate(conn):
        conn.execute("UPDATE jobs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'queued'",
                     (now, job_id))
        conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'running'", (job_id,))
    return get_job(conn, job_id=job_id)


def requeue_stale(conn: sqlite3.Connection, *, now: float, stale_after_s: float, max_attempts: int) -> int:
    """Run again the running jobs whose worker went silent (killed server, crashed worker).

    A job whose cancellation was requested is cancelled instead; one interrupted `max_attempts`
    times fails (so that a job that kills its worker cannot loop forever). Returns how many
    jobs changed.
    """
    cutoff = now - stale_after_s
    error = json.dumps({"kind": "Interrupted", "problems": [{"location": "job", "message": (
        f"the job was interrupted {max_attempts} times (its worker stopped answering); it is not run again")}]})
    with _immediate(conn):
        changed = conn.execute(
            "UPDATE jobs SET status = 'cancelled', finished_at = ? "
            "WHERE status = 'running' AND heartbeat_at < ? AND cancel_requested = 1", (now, cutoff)).rowcount
        changed += conn.execute(
            "UPDATE jobs SET status = 'failed', finished_at = ?, error = ? "
            "WHERE status = 'running' AND heartbeat_at < ? AND attempts >= ?",
            (now, error, cutoff, max_attempts)).rowcount
        changed += conn.execute(
            "UPDATE jobs SET status = 'queued', worker = NULL, progress = NULL, notes = json_insert(notes, '$[#]', "
            "'attempt ' || attempts || ' was interrupted (its worker stopped answering); queued again') "
            "WHERE status = 'running' AND heartbeat_at < ?", (cutoff,)).rowcount
    return changed


def _upload(row: sqlite3.Row) -> UploadRecord:
    return UploadRecord(id=row["id"], owner=row["owner"], created_at=row["created_at"], bytes=row["bytes"],
                        files=json.loads(row["files"]))


def add_upload(conn: sqlite3.Connection, *, upload_id: str, owner: str, files: list[dict[str, Any]],
               now: float) -> UploadRecord:
    """Record an upload whose files are already written; `files` are ``{name, path, bytes, sha256}``."""
    size = sum(int(file["bytes"]) for file in files)
    conn.execute("INSERT INTO uploads (id, owner, created_at, bytes, files) VALUES (?, ?, ?, ?, ?)",
                 (upload_id, owner, now, size, json.dumps(files, ensure_ascii=False)))
    return UploadRecord(upload_id, owner, now, size, files)


def get_upload(conn: sqlite3.Connection, *, upload_id: str, owner: str) -> UploadRecord | None:
    """The owner's upload with this id, or None."""
    row = conn.execute("SELECT * FROM uploads WHERE id = ? AND owner = ?", (upload_id, owner)).fetchone()
    return None if row is None else _upload(row)


def list_uploads(conn: sqlite3.Connection, *, owner: str, limit: int = 100) -> list[UploadRecord]:
    """The owner's uploads, newest first."""
    rows = conn.execute("SELECT * FROM uploads WHERE owner = ? ORDER BY created_at DESC, id LIMIT ?",
                        (owner, limit)).fetchall()
    return [_upload(row) for row in rows]


def upload_ids(conn: sqlite3.Connection) -> set[str]:
    """The id of every recorded upload."""
    return {row[0] for row in conn.execute("SELECT id FROM uploads")}


def delete_upload(conn: sqlite3.Connection, *, upload_id: str, owner: str) -> tuple[str, str | None]:
    """Remove the owner's upload row unless a queued or running job names it.

    Returns ``("deleted", None)``, ``("missing", None)`` or ``("in use", <id of such a job>)``.
    """
    with _immediate(conn):
        if conn.execute("SELECT 1 FROM uploads WHERE id = ? AND owner = ?", (upload_id, owner)).fetchone() is None:
            return "missing", None
        user = conn.execute("SELECT id FROM jobs WHERE owner = ? AND status IN ('queued', 'running') "
                            "AND instr(request, ?) > 0 ORDER BY seq LIMIT 1", (owner, upload_id)).fetchone()
        if user is not None:
            return "in use", str(user[0])
        conn.execute("DELETE FROM uploads WHERE id = ?", (upload_id,))
    return "deleted", None
