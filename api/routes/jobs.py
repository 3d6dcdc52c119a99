"""Jobs: the caller's list, status and progress, cancelling, deleting, and a finished solve's plan and exports."""

from __future__ import annotations

import mimetypes
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import FileResponse

from api import store
from api.deps import AnyJobDep, CallerDep, ConnDep, SettingsDep, SolveJobDep
from api.jobs import SOLVE_ARTEFACTS, artefact_path, cancel, delete, job_file, job_public
from api.routes.responses import errors
from api.schemas import JobKind, JobList, JobPublic, JobStatus

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=errors(422))


@router.get("", response_model=JobList, summary="The caller's jobs")
def list_jobs(conn: ConnDep, caller: CallerDep,
              kind: Annotated[JobKind | None, Query(description="Only solves or only sweeps.")] = None,
              job_status: Annotated[JobStatus | None, Query(alias="status", description="Only jobs in this "
                                                            "status.")] = None,
              limit: Annotated[int, Query(ge=1, le=1000, description="At most this many.")] = 100) -> JobList:
    """The jobs (solves and sweeps) submitted with this key, newest first; never another key's."""
    records = store.list_jobs(conn, owner=caller.id, kind=kind, status=job_status, limit=limit)
    return JobList(jobs=[job_public(record) for record in records])


@router.get("/{job_id}", response_model=JobPublic, responses=errors(404), summary="Status of a job")
def read_job(job: AnyJobDep) -> JobPublic:
    """queued, running (with progress), done (solver status, objective, bound and gap), failed (each
    problem with its location) or cancelled. Sweeps are jobs too."""
    return job_public(job)


@router.post("/{job_id}/cancel", response_model=JobPublic, responses=errors(404), summary="Cancel a job")
def cancel_job(job: AnyJobDep, conn: ConnDep) -> JobPublic:
    """A queued job is cancelled at once; a running one is stopped by its worker within about a second
    (`cancel_requested` is true until then). A finished job is left as it is. The job and its results
    stay until deleted (DELETE) or expired."""
    return job_public(cancel(conn, job=job))


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses=errors(404, 409), summary="Delete a job and its results")
def delete_job(job: AnyJobDep, conn: ConnDep, settings: SettingsDep) -> Response:
    """Remove the job (queued or finished) with its results; afterwards it is 404. A running job is not
    deleted: 409; cancel it (POST .../cancel), then delete it once its status is cancelled. Sweeps too."""
    delete(conn, job=job, settings=settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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
_artefact("plan.xlsx", "The plan as a workbook", "plan.xlsx: the build list and the figures, for the finance bureau.")
_artefact("report.pdf", "The plan's report", "report.pdf: the plan for the file, printed by headless Chromium.")


@router.get("/{job_id}/files/{name}", response_class=FileResponse, responses=errors(404, 409),
            summary="Any file of a finished job")
def read_job_file(job: AnyJobDep, settings: SettingsDep,
                  name: Annotated[str, Path(max_length=120, examples=["plan.csv"],
                                            description="A name from the job's `result.artefacts`.")]) -> FileResponse:
    """Each file the job wrote, by the name its `result.artefacts` lists (plan.csv, targets.png, and for
    a sweep frontier.csv; any export this server writes), as a download."""
    path = job_file(job, name, settings=settings)
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, filename=f"{job.id}-{name}")


@router.get("/{job_id}/scenario", responses=errors(404), summary="The scenario a job was submitted with")
def read_job_scenario(job: AnyJobDep) -> dict[str, Any]:
    """The scenario JSON exactly as submitted (for a sweep, the scenario it varies): the contract to keep,
    change and submit again."""
    scenario: dict[str, Any] = job.request["scenario"]
    return scenario
