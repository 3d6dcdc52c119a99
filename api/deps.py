"""Route dependencies as `Annotated` aliases: routes declare only what they use."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api import keys, store
from api.keys import Caller
from api.pool import WorkerPool
from api.settings import Settings
from api.store import JobRecord, UploadRecord


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

KEY_HELP = "An API key from `eldercare keys create` (the administrator of this server gives it out)."
bearer_key = HTTPBearer(scheme_name="bearerKey", bearerFormat="eck_<id>_<secret>", auto_error=False,
                        description=f"`Authorization: Bearer <key>`. {KEY_HELP}")
header_key = APIKeyHeader(name="X-API-Key", scheme_name="apiKeyHeader", auto_error=False,
                          description=f"`X-API-Key: <key>`, the same key in a header of its own. {KEY_HELP}")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="eldercare"'}


def get_caller(settings: SettingsDep, conn: ConnDep,
               bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_key)],
               header: Annotated[str | None, Depends(header_key)]) -> Caller:
    """Who the request acts for: the key in `Authorization: Bearer` or `X-API-Key`; 401 without a valid one.

    With ELDERCARE_AUTH=off every request acts for the one local user.
    """
    if settings.auth == "off":
        return keys.local_caller(settings)
    given = {token for token in (bearer.credentials if bearer else None, header) if token}
    if not given:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this service needs an API key: send it as "
                            "`Authorization: Bearer <key>` or `X-API-Key: <key>`", headers=CHALLENGE)
    callers = {keys.authenticate(conn, token=token, settings=settings) for token in given}
    if len(callers) != 1 or None in callers:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the API key is not valid: unknown, mistyped or "
                            "revoked (two different keys in one request are refused too)", headers=CHALLENGE)
    caller = callers.pop()
    assert caller is not None
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]

JobId = Annotated[str, Path(description="The id POST /v1/scenarios or POST /v1/sweeps returned.",
                            examples=["3f2b9c0e5d4a4f7e8a1b2c3d4e5f6a7b"], max_length=64)]


def _job(conn: sqlite3.Connection, job_id: str, kind: str | None, caller: Caller) -> JobRecord:
    """The caller's job; another key's job is 404 like a missing one (its existence is not revealed)."""
    record = store.get_job(conn, job_id=job_id, owner=caller.id)
    if record is None or kind not in (None, record.kind):
        what = "sweep" if kind == "sweep" else "job"
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {what} with id '{job_id[:64]}'")
    return record


def get_any_job(job_id: JobId, conn: ConnDep, caller: CallerDep) -> JobRecord:
    """The caller's job in the path, a solve or a sweep; 404 when there is none."""
    return _job(conn, job_id, None, caller)


def get_solve_job(job_id: JobId, conn: ConnDep, caller: CallerDep) -> JobRecord:
    """The caller's solve job in the path; 404 when there is none."""
    return _job(conn, job_id, "solve", caller)


def get_sweep_job(job_id: JobId, conn: ConnDep, caller: CallerDep) -> JobRecord:
    """The caller's sweep job in the path; 404 when there is none."""
    return _job(conn, job_id, "sweep", caller)


AnyJobDep = Annotated[JobRecord, Depends(get_any_job)]
SolveJobDep = Annotated[JobRecord, Depends(get_solve_job)]
SweepJobDep = Annotated[JobRecord, Depends(get_sweep_job)]

UploadId = Annotated[str, Path(description="The id POST /v1/files returned.",
                               examples=["9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"], max_length=64)]


def get_upload(upload_id: UploadId, conn: ConnDep, caller: CallerDep) -> UploadRecord:
    """The caller's upload in the path; 404 when there is none (or it is another key's)."""
    record = store.get_upload(conn, upload_id=upload_id, owner=caller.id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no upload with id '{upload_id[:64]}'")
    return record


UploadDep = Annotated[UploadRecord, Depends(get_upload)]
