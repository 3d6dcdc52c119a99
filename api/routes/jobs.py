"""Jobs: status and progress, cancelling, and a finished solve's plan and exports."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api import store
from api.deps import AnyJobDep, ConnDep, SettingsDep, SolveJobDep
from api.jobs import SOLVE_ARTEFACTS, artefact_path, job_public
from api.routes.responses import errors
from api.schemas import JobPublic

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=errors(422))


@router.get("/{job_id}", response_model=JobPublic, responses=errors(404), summary="Status of a job")
def read_job(job: AnyJobDep) -> JobPublic:
    """queued, running (with progress), done (solver status, objective, bound and gap), failed (each
    problem with its location) or cancelled. Sweeps are jobs too."""
    return job_public(job)


@router.delete("/{job_id}", response_model=JobPublic, responses=errors(404), summary="Cancel a job")
def cancel_job(job: AnyJobDep, conn: ConnDep) -> JobPublic:
    """A queued job is cancelled at once; a running one is stopped by its worker within about a second
    (`cancel_requested` is true until then). A finished job is left as it is."""
    record = store.cancel_job(conn, job_id=job.id, now=time.time())
    assert record is not None
    return job_public(record)


def _artefact(name: str, summary: str, description: str) -> None:
    artefact = SOLVE_ARTEFACTS[name]

    @router.get(f"/{{job_id}}/{name}", response_class=FileResponse, summary=summary, description=description,
                responses={200: {"content": {artefact.media_type.split(";")[0]: {}}}, **errors(404, 409)},
                operation_id=f"read_job_{name.replace('.', '_')}")
    def read_artefact(job: SolveJobDep, settings: SettingsDep) -> FileResponse:
        path, found = artefact_path(job, name, settings=settings)
        return FileResponse(path, media_type=found.media_type, filename=f"{job.id}-{found.file}",
                            content_disposition_type="inline")


_artefact("plan", "The plan (plan.json)", "The plan.json contract: status, objective, bound, gap, cost, "
          "facilities, targets, coverage, zones; every figure re-checked by the independent checker.")
_artefact("plan.geojson", "Facilities as GeoJSON", "The plan's facilities in EPSG:4326 (RFC 7946).")
_artefact("plan.gpkg", "The plan as a GeoPackage", "Styled GIS layers: facilities, demand, service areas, "
          "zones, targets, plan info.")
_artefact("map.html", "Offline web map", "One self-contained HTML file (Leaflet and the data inlined).")
