"""Jobs as the API sees them: validating and storing a submission, and the public view of a stored job."""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, status

from api import retention, store
from api.execute import capped_scenario
from api.files import path_problems, uploads_named
from api.keys import Caller
from api.schemas import JobAccepted, JobPublic, timestamp
from api.settings import Settings
from api.store import JobRecord
from optimizer.errors import Problem, ScenarioError, raise_if
from optimizer.inputs.geodata import Region, load_region
from optimizer.scenario.format import Scenario, parse_scenario


@dataclass(frozen=True)
class Artefact:
    """A result file a route serves."""

    file: str
    media_type: str


SOLVE_ARTEFACTS = {
    "plan": Artefact("plan.json", "application/json"),
    "plan.geojson": Artefact("plan.geojson", "application/geo+json"),
    "plan.gpkg": Artefact("plan.gpkg", "application/geopackage+sqlite3"),
    "map.html": Artefact("map.html", "text/html; charset=utf-8"),
    "plan.xlsx": Artefact("plan.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "report.pdf": Artefact("report.pdf", "application/pdf"),
}
SWEEP_ARTEFACTS = {
    "frontier": Artefact("frontier.json", "application/json"),
    "frontier.csv": Artefact("frontier.csv", "text/csv; charset=utf-8"),
    "frontier.png": Artefact("frontier.png", "image/png"),
}


def validate_scenario(document: dict[str, Any], *, settings: Settings, conn: sqlite3.Connection,
                      caller: Caller) -> Scenario:
    """The scenario as `read_scenario` validates it."""
    return read_scenario(document, settings=settings, conn=conn, caller=caller)[0]


def read_scenario(document: dict[str, Any], *, settings: Settings, conn: sqlite3.Connection,
                  caller: Caller) -> tuple[Scenario, Region]:
    """The scenario and its layers as the CLI validates and reads them, plus the service's rules: every
    path stays in the data directory and names an upload of the caller's own key.

    Raises `ScenarioError` listing every problem with its JSON path (the CLI's messages). Another
    key's upload gets the message of a file never uploaded: its existence is not revealed.
    """
    scenario, _ = parse_scenario(document, base_dir=settings.data_dir)
    foreign = {location: Problem(location, f"'{text[:120]}' was not uploaded; upload it with POST /v1/files and "
                                 "use the `path` it returns")
               for location, text, upload_id in uploads_named(scenario, data_dir=settings.data_dir)
               if store.get_upload(conn, upload_id=upload_id, owner=caller.id) is None}
    problems = [foreign.pop(p.location, p) for p in path_problems(scenario, data_dir=settings.data_dir)]
    raise_if(problems + list(foreign.values()), ScenarioError)
    # The layers read as a worker will read them, so that bad data (a coordinate outside the CRS's area,
    # a missing or non-finite weight) is a 422 naming the feature now, not a failed job later.
    return scenario, load_region(scenario, settings.data_dir)


def check_storage(conn: sqlite3.Connection, *, caller: Caller, adding: int = 0) -> None:
    """507 when the caller's uploads and results (plus `adding` bytes) exceed its storage quota."""
    used = store.stored_bytes(conn, owner=caller.id)
    if used + adding > caller.max_bytes or used >= caller.max_bytes:
        raise HTTPException(status.HTTP_507_INSUFFICIENT_STORAGE, (
            f"this key's storage quota is full: {used:,} bytes of uploads and results stored"
            f"{f', {adding:,} more sent' if adding else ''}, {caller.max_bytes:,} allowed; delete finished "
            "jobs (DELETE /v1/jobs/{id}) or uploads (DELETE /v1/files/{id}) first"))


def enqueue(conn: sqlite3.Connection, *, settings: Settings, caller: Caller, kind: str, scenario: Scenario,
            request: dict[str, Any]) -> JobAccepted:
    """Store a validated submission as the caller's queued job (committed before returning).

    429 with Retry-After when the server's queue, or the caller's share of it, is full; 507 when the
    caller's storage quota is used up (results of finished jobs count until they are deleted).
    """
    check_storage(conn, caller=caller)
    job_id = uuid.uuid4().hex
    capped, notes = capped_scenario(scenario, settings)
    stored = store.submit_job(conn, job_id=job_id, kind=kind, name=scenario.name, request=request,
                              time_limit_s=capped.solver.time_limit_s, notes=notes,
                              max_queued=settings.max_queued_jobs, now=time.time(), owner=caller.id,
                              owner_max_queued=caller.max_queued)
    if not stored:
        mine = store.count_queued(conn, owner=caller.id) >= caller.max_queued
        detail = (f"this key has {caller.max_queued} jobs queued already, its quota; try again when some have "
                  "run" if mine else f"{settings.max_queued_jobs} jobs are already queued; try again later")
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, detail,
                            headers={"Retry-After": str(settings.retry_after_s)})
    return JobAccepted(id=job_id, kind=kind, status="queued", links=links(job_id, kind))  # type: ignore[arg-type]


def links(job_id: str, kind: str) -> dict[str, str]:
    """The job's own URL and its artefacts' URLs."""
    base = f"/v1/{'sweeps' if kind == 'sweep' else 'jobs'}/{job_id}"
    artefacts = SWEEP_ARTEFACTS if kind == "sweep" else SOLVE_ARTEFACTS
    return {"self": base, **{name: f"{base}/{name}" for name in artefacts}}


def job_public(record: JobRecord) -> JobPublic:
    """The wire view of a stored job (the request, worker and heartbeat stay inside)."""
    return JobPublic(
        id=record.id, kind=record.kind, status=record.status, name=record.name,  # type: ignore[arg-type]
        created_at=timestamp(record.created_at), started_at=timestamp(record.started_at),  # type: ignore[arg-type]
        finished_at=timestamp(record.finished_at), attempts=record.attempts,
        cancel_requested=record.cancel_requested, time_limit_s=record.time_limit_s, notes=record.notes,
        progress=record.progress if record.status == "running" else None,  # type: ignore[arg-type]
        result=record.result, error=record.error, links=links(record.id, record.kind))  # type: ignore[arg-type]


def artefact_path(record: JobRecord, name: str, *, settings: Settings) -> tuple[Path, Artefact]:
    """The file behind artefact `name` of a finished job; 409 while it is not done, 404 when it has none."""
    artefacts = SWEEP_ARTEFACTS if record.kind == "sweep" else SOLVE_ARTEFACTS
    artefact = artefacts[name]
    if record.status != "done":
        hint = " (see `error`)" if record.status == "failed" else "; poll the job until its status is done"
        raise HTTPException(status.HTTP_409_CONFLICT, f"job {record.id} is {record.status}{hint}")
    path = settings.job_dir(record.id) / artefact.file
    if not path.exists():
        why = "the solve found no plan" if record.result and not record.result.get("facilities") else \
            "this server does not write it (ELDERCARE_EXPORT_FORMATS)"
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"job {record.id} has no {artefact.file}: {why}")
    return path, artefact


def cancel(conn: sqlite3.Connection, *, job: JobRecord) -> JobRecord:
    """Cancel `job` (`store.cancel_job`: a queued one at once, a running one by its worker); it afterwards.

    404 when it was deleted meanwhile (a concurrent DELETE).
    """
    record = store.cancel_job(conn, job_id=job.id, now=time.time())
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job with id '{job.id}'")
    return record


def delete(conn: sqlite3.Connection, *, job: JobRecord, settings: Settings) -> None:
    """Delete `job` with its results; 409 while it runs (cancel it first), 404 if it went meanwhile."""
    outcome = retention.delete_job(conn, settings=settings, job_id=job.id, owner=job.owner)
    if outcome == "running":
        path = f"/v1/{'sweeps' if job.kind == 'sweep' else 'jobs'}/{job.id}"
        raise HTTPException(status.HTTP_409_CONFLICT, f"{job.kind} {job.id} is running: cancel it first "
                            f"(POST {path}/cancel), then delete it once its status is cancelled")
    if outcome == "missing":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job with id '{job.id}'")


_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")


def job_file(record: JobRecord, name: str, *, settings: Settings) -> Path:
    """A file the finished job lists in its result's `artefacts` (any export: plan.xlsx, report.pdf, ...).

    409 while it is not done; 404 for a name it does not list (no folders, nothing hidden).
    """
    if record.status != "done":
        raise HTTPException(status.HTTP_409_CONFLICT, f"job {record.id} is {record.status}; its files come "
                            "when it is done")
    listed = (record.result or {}).get("artefacts") or []
    path = settings.job_dir(record.id) / name
    if not _FILE_NAME.match(name) or name not in listed or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"job {record.id} has no file '{name[:120]}'; it has: "
                            f"{', '.join(listed)}")
    return path


def sweep_level(record: JobRecord, index: int, *, settings: Settings) -> dict[str, Any]:
    """The plan of level `index` (in frontier order) of a sweep, finished or still running.

    404 when the sweep has no such level yet (or its frontier is not written yet).
    """
    folder = settings.job_dir(record.id)
    try:
        frontier = json.loads((folder / "frontier.json").read_text(encoding="utf-8"))
        row = frontier["levels"][index]
        path = (folder / row["plan"]).resolve()
        if not path.is_relative_to(folder.resolve()):
            raise ValueError(row["plan"])
        plan: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"sweep {record.id} has no level {index} (yet)") from None
    return plan
