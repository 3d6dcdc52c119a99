"""`create_app(settings)`: the FastAPI application of the scenario service.

Nothing is created at import: the settings are validated, the data directory and the job store
prepared when the app is created, and the solve workers and the purge of expired jobs start and
stop with the app.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from api import retention, store
from api.middleware import AllowedMethods, BodyLimit, ErrorIds
from api.pool import WorkerPool
from api.routes import api_router
from api.settings import Settings, prepare_data_dir
from api.web import SecurityHeaders, mount_web
from optimizer.errors import OptimizerError
from optimizer.scenario.fields import json_path

DESCRIPTION = """\
Submit elder-care planning scenarios (format 1, as for `eldercare solve`) and budget sweeps; each
is validated at once, stored in the job store before the answer, and solved by a worker process.
Poll the job, then fetch the plan (plan.json), its GeoJSON and GeoPackage layers and the offline
web map, or a sweep's frontier. Jobs survive a restart of the server: interrupted ones run again.

**API keys.** Every request but `GET /v1/health` needs a key, sent as `Authorization: Bearer <key>`
or `X-API-Key: <key>`; the server's administrator creates them with `eldercare keys create NAME`.
Without a valid key the answer is 401. A key sees only its own jobs, sweeps and uploads: another
key's are 404, as if they did not exist. Each key has quotas: queued jobs (429 with Retry-After
beyond) and stored bytes, uploads plus results (507 beyond; delete finished jobs and uploads).

**Deleting.** `DELETE` removes a job, sweep or upload with its files; a running job must be
cancelled first (`POST .../cancel`; deleting it is 409), an upload a queued or running job names
too. Finished jobs are deleted with their results after the server's retention period.

Every error answer is `{"detail": ..., "problems": [{"location": <JSON path>, "message": ...}]}`;
an unexpected error is a 500 with an `error_id` that the server log records.
"""


def _operation_id(route: APIRoute) -> str:
    """OpenAPI operationIds are the route functions' names (``read_job``), which links refer to."""
    return route.name


def create_app(settings: Settings) -> FastAPI:
    """The service on `settings`: prepares the data directory and job store, starts workers on startup."""
    settings = prepare_data_dir(settings)
    conn = store.connect(settings.db_path)
    store.init_db(conn)
    retention.adopt_unrecorded_uploads(conn, settings=settings, now=time.time())
    conn.close()
    pool = WorkerPool(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool.start()
        purge = asyncio.get_running_loop().create_task(retention.purge_periodically(settings))
        try:
            yield
        finally:
            purge.cancel()
            with suppress(asyncio.CancelledError):
                await purge
            await pool.stop()

    description = DESCRIPTION + ("\n**This server runs with ELDERCARE_AUTH=off** (local development): no key is "
                                 "needed, every request acts as one local user.\n" if settings.auth == "off" else "")
    app = FastAPI(title="eldercare scenario service", version="1", description=description, lifespan=lifespan,
                  openapi_url="/v1/openapi.json", docs_url=None, redoc_url=None,
                  generate_unique_id_function=_operation_id)
    app.state.settings = settings
    app.state.pool = pool
    app.include_router(api_router)
    mount_web(app)   # the workbench at /, the API docs at /v1/docs and /v1/redoc (all offline)
    app.add_exception_handler(OptimizerError, _optimizer_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(AllowedMethods, paths=lambda: app.openapi()["paths"])
    app.add_middleware(ErrorIds)
    app.add_middleware(BodyLimit, default_bytes=settings.max_body_bytes,
                       limits={"/v1/files": settings.max_upload_bytes})
    app.add_middleware(SecurityHeaders)   # outermost: every answer, errors too, carries the policy
    return app


async def _optimizer_error(request: Request, exc: Exception) -> JSONResponse:
    """Engine errors at submission (a bad scenario): 422 with each problem's location and message."""
    assert isinstance(exc, OptimizerError)
    problems = [{"location": p.location, "message": p.message} for p in exc.problems]
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return JSONResponse({"detail": f"the request is not valid ({count})", "problems": problems}, status_code=422)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own request validation, in the same shape: JSON paths, not tuples."""
    assert isinstance(exc, RequestValidationError)
    problems = [{"location": _location(error["loc"]), "message": _message(error)} for error in exc.errors()]
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return JSONResponse({"detail": f"the request is not valid ({count})", "problems": problems}, status_code=422)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
        return json_path(tuple(parts)) if parts else "(body)"
    return json_path(tuple(parts))


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if error.get("type") == "json_invalid":
        message = f"not valid JSON: {error.get('ctx', {}).get('error', 'decode error')}"
    return message
