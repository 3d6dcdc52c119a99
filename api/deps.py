"""Route dependencies as `Annotated` aliases: routes declare only what they use."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status

from api import store
from api.pool import WorkerPool
from api.settings import Settings
from api.store import JobRecord


def get_settings(request: Request) -> Settings:
    """The settings `create_app` was given."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_conn(settings: SettingsDep) -> Iterator[sqlite3.Connection]:
    """A job-store connection for one request."""
    conn = store.connect(settings.db_path)
    try:
        yield conn
    finally:
        conn.close()


ConnDep = Annotated[sqlite3.Connection, Depends(get_conn)]


def get_pool(request: Request) -> WorkerPool:
    """The server's solve workers."""
    pool: WorkerPool = request.app.state.pool
    return pool


PoolDep = Annotated[WorkerPool, Depends(get_pool)]

JobId = Annotated[str, Path(description="The id POST /v1/scenarios or POST /v1/sweeps returned.",
                            examples=["3f2b9c0e5d4a4f7e8a1b2c3d4e5f6a7b"], max_length=64)]


def _job(conn: sqlite3.Connection, job_id: str, kind: str | None) -> JobRecord:
    record = store.get_job(conn, job_id=job_id)
    if record is None or kind not in (None, record.kind):
        what = "sweep" if kind == "sweep" else "job"
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {what} with id '{job_id[:64]}'")
    return record


def get_any_job(job_id: JobId, conn: ConnDep) -> JobRecord:
    """The job in the path, a solve or a sweep; 404 when there is none."""
    return _job(conn, job_id, None)


def get_solve_job(job_id: JobId, conn: ConnDep) -> JobRecord:
    """The solve job in the path; 404 when there is none."""
    return _job(conn, job_id, "solve")


def get_sweep_job(job_id: JobId, conn: ConnDep) -> JobRecord:
    """The sweep job in the path; 404 when there is none."""
    return _job(conn, job_id, "sweep")


AnyJobDep = Annotated[JobRecord, Depends(get_any_job)]
SolveJobDep = Annotated[JobRecord, Depends(get_solve_job)]
SweepJobDep = Annotated[JobRecord, Depends(get_sweep_job)]
