"""Scenarios: submit one to be solved (POST /v1/scenarios), check one (POST /v1/scenarios/validate), and the
JSON Schema they follow."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response, status

from api.deps import CallerDep, ConnDep, SettingsDep
from api.examples import SCENARIO_EXAMPLES
from api.jobs import enqueue, read_scenario, validate_scenario
from api.routes.links import LOCATION, SOLVE_LINKS
from api.routes.responses import errors
from api.schemas import JobAccepted, ScenarioRead, TargetRead
from optimizer.inputs.geodata import Region
from optimizer.scenario.format import Scenario
from optimizer.scenario.presets import describe_target

router = APIRouter(prefix="/scenarios", tags=["scenarios"], responses=errors(422))

ScenarioBody = Annotated[dict[str, Any], Body(
    description="A scenario, format 1 (scenarios/schema.json, or GET /v1/scenarios/schema). Layers come "
    "inline (`features`: a GeoJSON FeatureCollection in lon/lat) or as `path`s returned by POST /v1/files.",
    openapi_examples=SCENARIO_EXAMPLES)]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted,
             responses={202: {"links": SOLVE_LINKS, "headers": LOCATION}, **errors(400, 413, 422, 429, 507)},
             summary="Submit a scenario to solve")
def submit_scenario(scenario: ScenarioBody, conn: ConnDep, settings: SettingsDep, caller: CallerDep,
                    response: Response) -> JobAccepted:
    """Validate the scenario at once (422 names each problem's JSON path, with the CLI's message), store it
    in the job store, and answer 202 with the job id; a worker solves it. Poll GET /v1/jobs/{id}.
    Paths name uploads of the same key. 429 when the queue (the server's, or this key's share) is full,
    507 when the key's storage quota is used up."""
    parsed = validate_scenario(scenario, settings=settings, conn=conn, caller=caller)
    accepted = enqueue(conn, settings=settings, caller=caller, kind="solve", scenario=parsed,
                       request={"scenario": scenario})
    response.headers["Location"] = accepted.links["self"]
    return accepted


@router.get("/schema", summary="JSON Schema of the scenario format")
def scenario_schema() -> dict[str, Any]:
    """The published JSON Schema of scenario format 1 (the same as scenarios/schema.json)."""
    from optimizer.scenario.format import scenario_json_schema

    return scenario_json_schema()


@router.post("/validate", response_model=ScenarioRead, responses=errors(400, 413, 422),
             summary="Check a scenario without solving it")
def check_scenario(scenario: ScenarioBody, conn: ConnDep, settings: SettingsDep, caller: CallerDep) -> ScenarioRead:
    """Validate and read the scenario as a submission would (422 with the same problems, each with its JSON
    path and the CLI's message), store nothing, and say what it read: units, sites, groups, zones,
    weights, existing facilities and each target with its policy clause."""
    parsed, region = read_scenario(scenario, settings=settings, conn=conn, caller=caller)
    return scenario_read(parsed, region)


def scenario_read(scenario: Scenario, region: Region) -> ScenarioRead:
    """The summary of a valid scenario and its layers."""
    demand, sites = region.demand, region.sites
    targets = [TargetRead(index=k, kind=t.kind, text=describe_target(t), label=t.label, source=t.source,
                          preset=t.preset, year=t.year) for k, t in enumerate(scenario.targets)]
    reach = "network" if scenario.network else "distances" if scenario.distances else "radius"
    return ScenarioRead(
        name=scenario.name, units=demand.n, sites=sites.n, groups=_counts(demand.group),
        zones=_counts(demand.zone), weights={name: float(values.sum()) for name, values in demand.weights.items()},
        facility_types=list(region.type_names),
        existing={name: int(sites.existing[:, k].sum()) for k, name in enumerate(region.type_names)},
        years=scenario.years, reach=reach, targets=targets, notes=list(region.notes))


def _counts(values: Any) -> dict[str, int]:
    """How often each non-empty value occurs, in first-seen order."""
    counts: dict[str, int] = {}
    for value in values:
        if value != "":
            counts[str(value)] = counts.get(str(value), 0) + 1
    return counts
