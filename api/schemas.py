"""Wire schemas: what the API accepts and returns (storage records live in `api.store`)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemOut(_Wire):
    """One thing wrong, where (a JSON path such as ``targets[2].min_share``) and what to do."""

    location: str
    message: str


class ErrorOut(_Wire):
    """Every 4xx/5xx body: a sentence, the problems one by one, and for a 500 the error id in the server log."""

    detail: str
    problems: list[ProblemOut] = Field(default_factory=list)
    error_id: str | None = None


class Progress(_Wire):
    """Where a running job is."""

    stage: str = Field(description="Solve: read, reach, model, solve, check or export (in that order); sweep: "
                       "least sufficient budget, budget levels.")
    state: str | None = Field(None, description="Solve: start, update (the solver's best plan and bound) or done.")
    stages_done: list[str] | None = Field(None, description="Solve: the stages finished so far.")
    phase: str | None = Field(None, description="Solve: the phase running (shortfall, coverage, distance, cost).")
    objective: float | None = Field(None, description="Solve: the phase's best plan so far, in its own terms "
                                    "(weighted coverage, yuan, distance).")
    bound: float | None = Field(None, description="Solve: the phase's proven bound so far.")
    gap: float | None = Field(None, description="Solve: relative gap between them.")
    done: int | None = Field(None, description="Sweep: budget levels finished.")
    total: int | None = Field(None, description="Sweep: budget levels in all.")
    running: list[float] | None = Field(None, description="Sweep: budgets being solved now.")
    variables: int | None = Field(None, description="Solve: variables of the model.")
    rows: int | None = Field(None, description="Solve: constraint rows of the model.")
    time_limit_s: float | None = Field(None, description="Solve: the time limit applied.")
    elapsed_s: float | None = Field(None, description="Seconds since this attempt started.")


class SolveSummary(_Wire):
    """A finished solve, from its plan.json (every figure re-checked by the independent checker)."""

    solver_status: str = Field(
        description="optimal, time_limit_feasible, heuristic, infeasible or time_limit_no_solution.")
    all_targets_met: bool
    objective_kind: str
    objective: float | None
    bound: float | None
    gap: float | None
    cost: dict[str, float] | None
    facilities: int
    time_limited: bool | None
    solver_seconds: float | None
    artefacts: list[str]


class SweepSummary(_Wire):
    """A finished sweep, from its frontier.json."""

    levels: int
    least_sufficient: dict[str, Any]
    monotone: bool
    notes: list[str]
    artefacts: list[str]


class JobError(_Wire):
    """Why a job failed: the engine's problems (data file, check) or an internal error's id."""

    kind: str
    problems: list[ProblemOut]
    error_id: str | None = None


JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
JobKind = Literal["solve", "sweep"]


class JobPublic(_Wire):
    """A job: a submitted scenario (``solve``) or budget sweep (``sweep``), and what became of it."""

    id: str
    kind: Literal["solve", "sweep"]
    status: JobStatus
    name: str = Field(description="The scenario's name.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int = Field(description="Runs started; above 1 after an interrupted run (e.g. a server restart).")
    cancel_requested: bool
    time_limit_s: float | None = Field(description="Solver time limit applied (the scenario's, within the cap).")
    notes: list[str]
    progress: Progress | None
    result: SolveSummary | SweepSummary | None
    error: JobError | None
    links: dict[str, str] = Field(description="Where to poll, and the artefacts once done.")


class JobList(_Wire):
    """The caller's own jobs, newest first (another key's jobs are never listed)."""

    jobs: list[JobPublic]


class JobAccepted(_Wire):
    """A stored submission (written to the job store before this answer)."""

    id: str
    kind: Literal["solve", "sweep"]
    status: JobStatus
    links: dict[str, str]


# Exactly one way of choosing the levels: given `budgets`, or (`levels` or not) automatic levels.
_ONE_WAY: JsonDict = {"oneOf": [
    {"title": "Given budgets", "required": ["budgets"],
     "properties": {"budgets": {"type": "array"}, "levels": {"type": "null"}}},
    {"title": "Automatic levels", "properties": {"budgets": {"type": "null"}}},
]}


class SweepRequest(_Wire):
    """A budget sweep, as ``eldercare sweep``: the most coverage each capital budget buys.

    Give `budgets` or `levels` (or neither: 10 automatic levels), never both.
    """

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_ONE_WAY)

    scenario: dict[str, Any] = Field(description="A scenario, format 1 (as for POST /v1/scenarios).")
    budgets: list[Annotated[float, Field(ge=0)]] | None = Field(
        None, min_length=1, description="Capital budgets in yuan (the CLI's --budgets); not with `levels`.")
    levels: int | None = Field(None, ge=1, description="Instead of budgets: this many levels up to the least "
                               "sufficient budget (the CLI's --levels; default 10); not with `budgets`.")
    elastic: bool = Field(False, description="Targets become soft (the CLI's --elastic).")
    year: int | None = Field(None, description="Phased scenarios: each budget is this planning year's capital "
                             "cap (the CLI's --year); not with `scale_years`.")
    scale_years: bool = Field(False, description="Phased scenarios: each budget is the total capital, every "
                              "year's cap scaled in proportion (the CLI's --scale-years).")

    @field_validator("budgets")
    @classmethod
    def _finite(cls, budgets: list[float] | None) -> list[float] | None:
        if budgets is not None and (not budgets or any(not math.isfinite(b) or b < 0 for b in budgets)):
            raise ValueError("give at least one budget; budgets are finite, non-negative yuan")
        return budgets

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if self.budgets is not None and self.levels is not None:
            raise ValueError("give `budgets` or `levels`, not both")
        return self


class UploadedFile(_Wire):
    """One stored file; name it in a scenario by its `path`."""

    name: str
    path: str = Field(description="Relative to the data directory, e.g. files/<upload id>/demand.geojson.")
    bytes: int
    sha256: str


class UploadPublic(_Wire):
    """The files of one upload, stored together (a shapefile with its sidecars)."""

    id: str
    files: list[UploadedFile]
    bytes: int = Field(description="All its files together; they count against the key's storage quota.")
    created_at: datetime


class UploadList(_Wire):
    """The caller's own uploads, newest first."""

    uploads: list[UploadPublic]


class WorkersOut(_Wire):
    """Solve worker processes of this server."""

    configured: int
    alive: int


class Health(_Wire):
    """The service is up, its job store opens, and its workers; open to all, so nothing about anyone's jobs."""

    status: Literal["ok"]
    version: str
    workers: WorkersOut
    max_time_limit_s: float


class PresetTargetSummary(_Wire):
    """One target of a preset, in words, with the clause it comes from."""

    id: str
    label: str
    target: str
    year: int | None
    applies_to: str
    clause: str


class PresetSummary(_Wire):
    """A preset: the targets of one planning document (GET /v1/presets/{id}: quotes and readings too)."""

    id: str
    title: str
    document: str
    issued: str
    region: str
    level: str
    horizon: str
    facilities: dict[str, str] = Field(description="Roles the targets name -> what the plan calls them.")
    targets: list[PresetTargetSummary]
    out_of_scope: int = Field(description="Quoted figures no site choice expresses (listed in full by id).")


class PresetList(_Wire):
    """Policy presets shipped with the optimizer (as ``eldercare presets`` lists them)."""

    presets: list[PresetSummary]


def timestamp(value: float | None) -> datetime | None:
    """Seconds since the epoch -> an aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


class RegionPublic(_Wire):
    """A shipped demonstration scenario (its layers ship with the optimizer)."""

    id: str
    name: str
    description: str
    years: list[int] | None = Field(description="Planning years of a phased scenario.")
    files: list[str] = Field(description="The layer files it names.")
    bytes: int = Field(description="Their size: a copy counts against the key's storage quota.")


class RegionList(_Wire):
    """Shipped regions."""

    regions: list[RegionPublic]


class RegionCopy(_Wire):
    """A region copied into an upload of the caller: the scenario names the upload's files."""

    region: str
    upload: UploadPublic
    scenario: dict[str, Any] = Field(description="The region's scenario, paths pointing into the upload.")


class TargetRead(_Wire):
    """One target as the scenario reads it (preset entries expanded), with where it comes from."""

    index: int
    kind: str
    text: str = Field(description="The target in one line, e.g. 'coverage station [urban] >= 100% of units'.")
    label: str | None
    source: str | None = Field(description="The policy clause (document, clause, quote) of a preset target.")
    preset: str | None = Field(description="`<preset>/<target id>` for a preset target.")
    year: int | None


class ScenarioRead(_Wire):
    """What a valid scenario holds: its layers' counts, groups and zones, its targets."""

    name: str
    units: int = Field(description="Demand units (communities, villages, buildings).")
    sites: int = Field(description="Candidate and existing sites.")
    groups: dict[str, int] = Field(description="Demand units per group.")
    zones: dict[str, int] = Field(description="Demand units per zone (township, street).")
    weights: dict[str, float] = Field(description="Each named weight summed over the units.")
    facility_types: list[str]
    existing: dict[str, int] = Field(description="Existing facilities per type.")
    years: list[int] | None
    reach: str = Field(description="How reach is measured: network, distances or radius.")
    targets: list[TargetRead]
    notes: list[str]
