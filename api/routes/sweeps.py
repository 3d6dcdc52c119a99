"""Budget sweeps: the cost–coverage frontier, as ``eldercare sweep`` computes it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response, status
from fastapi.responses import FileResponse

from api.deps import CallerDep, ConnDep, SettingsDep, SweepJobDep
from api.examples import SWEEP_EXAMPLES
from api.jobs import SWEEP_ARTEFACTS, artefact_path, cancel, delete, enqueue, job_public, sweep_level, validate_scenario
from api.routes.links import LOCATION, SWEEP_LINKS
from api.routes.responses import errors
from api.schemas import JobAccepted, JobPublic, SweepRequest
from optimizer.errors import ScenarioError
from optimizer.sweep.phased import check_phased_options

router = APIRouter(prefix="/sweeps", tags=["sweeps"], responses=errors(422))


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted,
             responses={202: {"links": SWEEP_LINKS, "headers": LOCATION}, **errors(400, 413, 422, 429, 507)},
             summary="Submit a budget sweep")
def submit_sweep(request: Annotated[SweepRequest, Body(openapi_examples=SWEEP_EXAMPLES)], conn: ConnDep,
                 settings: SettingsDep, caller: CallerDep, response: Response) -> JobAccepted:
    """For each capital budget, the plan with the most coverage; and the least budget meeting every
    target. Validated at once like a scenario; poll GET /v1/sweeps/{id}, then read its frontier."""
    levels = len(request.budgets) if request.budgets is not None else (request.levels or 10)
    if levels > settings.max_sweep_levels:
        where = "budgets" if request.budgets is not None else "levels"
        raise ScenarioError(f"{levels} levels; this server solves at most {settings.max_sweep_levels} per sweep",
                            where)
    parsed = validate_scenario(request.scenario, settings=settings, conn=conn, caller=caller)
    check_phased_options(parsed, year=request.year, scale_years=request.scale_years, names=("year", "scale_years"))
    accepted = enqueue(conn, settings=settings, caller=caller, kind="sweep", scenario=parsed,
                       request={"scenario": request.scenario,
                                "sweep": request.model_dump(exclude={"scenario"})})
    response.headers["Location"] = accepted.links["self"]
    return accepted


@router.get("/{job_id}", response_model=JobPublic, responses=errors(404), summary="Status of a sweep")
def read_sweep(job: SweepJobDep) -> JobPublic:
    """As GET /v1/jobs/{id}; `progress` counts the budget levels solved."""
    return job_public(job)


@router.post("/{job_id}/cancel", response_model=JobPublic, responses=errors(404), summary="Cancel a sweep")
def cancel_sweep(job: SweepJobDep, conn: ConnDep) -> JobPublic:
    """As POST /v1/jobs/{id}/cancel: the levels solved so far stay until the sweep is deleted."""
    return job_public(cancel(conn, job=job))


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses=errors(404, 409), summary="Delete a sweep and its results")
def delete_sweep(job: SweepJobDep, conn: ConnDep, settings: SettingsDep) -> Response:
    """As DELETE /v1/jobs/{id}: 204, then 404; a running sweep is 409 until cancelled."""
    delete(conn, job=job, settings=settings)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _artefact(name: str, summary: str) -> None:
    artefact = SWEEP_ARTEFACTS[name]

    @router.get(f"/{{job_id}}/{name}", response_class=FileResponse, summary=summary,
                responses={200: {"content": {artefact.media_type.split(";")[0]: {}}}, **errors(404, 409)},
                operation_id=f"read_sweep_{name.replace('.', '_')}")
    def read_artefact(job: SweepJobDep, settings: SettingsDep) -> FileResponse:
        path, found = artefact_path(job, name, settings=settings)
        return FileResponse(path, media_type=found.media_type, filename=f"{job.id}-{found.file}",
                            content_disposition_type="inline")


_artefact("frontier", "The frontier (frontier.json): each level's coverage, cost, status and gap")
_artefact("frontier.csv", "The frontier as a table")
_artefact("frontier.png", "The frontier chart")


@router.get("/{job_id}/levels/{index}", responses=errors(404), summary="The plan of one budget level")
def read_sweep_level(job: SweepJobDep, settings: SettingsDep,
                     index: Annotated[int, Path(ge=0, le=1000, description="The level's place in the "
                                                "frontier's `levels` (0: the lowest budget).")]) -> dict[str, Any]:
    """The level's plan.json (as GET /v1/jobs/{id}/plan for a solve); levels appear as the sweep solves them."""
    return sweep_level(job, index, settings=settings)
