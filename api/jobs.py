"""Jobs as the API sees them: validating and storing a submission, and the public view of a stored job."""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, status

from api import store
from api.execute import capped_scenario
from api.files import path_problems
from api.schemas import JobAccepted, JobPublic, timestamp
from api.settings import Settings
from api.store import JobRecord
from optimizer.errors import ScenarioError, raise_if
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
}
SWEEP_ARTEFACTS = {
    "frontier": Artefact("frontier.json", "application/json"),
    "frontier.csv": Artefact("frontier.csv", "text/csv; charset=utf-8"),
    "frontier.png": Artefact("frontier.png", "image/png"),
}


def validate_scenario(document: dict[str, Any], *, settings: Settings) -> Scenario:
    """The scenario as the CLI validates it, plus the service's rule: every path stays in the data directory.

    Raises `ScenarioError` listing every problem with its JSON path (the CLI's messages).
    """
    scenario, _ = parse_scenario(document, base_dir=settings.data_dir)
    raise_if(path_problems(scenario, data_dir=settings.data_dir), ScenarioError)
    return scenario


def enqueue(conn: sqlite3.Connection, *, settings: Settings, kind: str, scenario: Scenario,
            request: dict[str, Any]) -> JobAccepted:
    """Store a validated submission as a queued job (committed before returning); 429 when the queue is full."""
    job_id = uuid.uuid4().hex
    capped, notes = capped_scenario(scenario, settings)
    stored = store.submit_job(conn, job_id=job_id, kind=kind, name=scenario.name, request=request,
                              time_limit_s=capped.solver.time_limit_s, notes=notes,
                              max_queued=settings.max_queued_jobs, now=time.time())
    if not stored:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"{settings.max_queued_jobs} jobs are already queued; try again later",
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
