"""The job store: one SQLite file in WAL mode, written before a submission is acknowledged.

Every function takes an open connection and keyword-only arguments; routes and workers call
them, nothing else touches SQL. Workers claim queued jobs with one atomic UPDATE, renew a
heartbeat while they run, and write the outcome guarded by the attempt number that claimed
it, so a worker that lost its job (declared stale, then re-run) can never overwrite the
newer attempt. A running job whose heartbeat went silent is queued again (`requeue_stale`):
that is how jobs interrupted by a killed server run again after a restart.
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
    error            TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, seq);
"""


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
    """Switch the file to WAL mode (persistent) and create the table if it is new."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise RuntimeError(f"the job store cannot use WAL mode (got '{mode}'); is the data directory on a "
                           "network file system?")
    conn.executescript(_SCHEMA)


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
               time_limit_s: float | None, notes: list[str], max_queued: int, now: float) -> bool:
    """Store a new queued job unless `max_queued` jobs are already queued; True when stored (committed)."""
    with _immediate(conn):
        cursor = conn.execute(
            "INSERT INTO jobs (id, kind, status, name, request, time_limit_s, notes, created_at) "
            "SELECT ?, ?, 'queued', ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM jobs WHERE status = 'queued') < ?",
            (job_id, kind, name, json.dumps(request, ensure_ascii=False), time_limit_s, json.dumps(notes), now,
             max_queued))
    return cursor.rowcount == 1


def get_job(conn: sqlite3.Connection, *, job_id: str) -> JobRecord | None:
    """The job with this id, or None."""
    row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return None if row is None else _record(row)


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
               result: dict[str, Any] | None = None, error: dict[str, Any] | None = None) -> bool:
    """Record the outcome of a running attempt (done, failed or cancelled); False if it was lost."""
    cursor = conn.execute(
        "UPDATE jobs SET status = ?, finished_at = ?, heartbeat_at = ?, result = ?, error = ? "
        "WHERE id = ? AND attempts = ? AND status = 'running'",
        (status, now, now, None if result is None else json.dumps(result),
         None if error is None else json.dumps(error), job_id, attempt))
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
