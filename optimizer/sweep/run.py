"""Budget sweep: the cost–coverage frontier, what each extra million of capital buys.

For each capital budget B the sweep finds the `max_coverage` plan within B (targets as
stated, or elastic), checked by the independent checker like every plan, and it finds the
least capital meeting every target (the least sufficient budget), which is also solved as a
level and marked on the frontier. The model is built once; a level changes the bounds of its
budget's rows only (the capital row, or a phased plan's yearly rows: `optimizer.sweep.phased`),
and starts from the plan of the highest finished level below it (a plan feasible at a lower
budget is feasible at a higher one, so levels run upward). A level the proven unlimited-budget
plan fits is written from it without a solve (`optimizer.sweep.levels.fits`). The frontier
names the saturation budget from the plans found (`optimizer.sweep.frontier.saturation`).
Levels are written as they finish; ``resume`` takes the finished ones from an earlier run.

Python API::

    from optimizer.sweep.run import SweepSettings, sweep_file
    frontier = sweep_file("scenario.json", SweepSettings(Path("out/sweep"), levels=8))
    frontier.document["least_sufficient"], frontier.rows
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.errors import Problem, ScenarioError, TargetInfeasibleError, raise_if
from optimizer.plan import Prepared
from optimizer.scenario.fields import MAX_YUAN
from optimizer.scenario.format import Scenario, load_scenario, solver_with
from optimizer.solvers.base import Status
from optimizer.sweep.chart import write_chart
from optimizer.sweep.frontier import (
    COVERAGE_TOL,
    FRONTIER_FORMAT,
    finish_rows,
    level_row,
    load_json,
    load_level,
    saturation,
    save_json,
    save_level,
    write_frontier,
)
from optimizer.sweep.levels import (
    LEAST,
    LEVEL,
    UNLIMITED,
    CapitalOutcome,
    FloatArray,
    LevelOutcome,
    LevelTask,
    cheapest_facility_cny,
    fits,
    known_infeasible,
    prepare_sweep,
    reused_level,
    start_from_pairs,
)
from optimizer.sweep.phased import BudgetRows, budget_rows, check_phased_options, mode_note
from optimizer.sweep.runners import Runner, open_runner

MAX_LEVELS = 1000


@dataclass(frozen=True)
class SweepSettings:
    """What to sweep and where.

    Attributes
    ----------
    out_dir : Path
        Folder for ``frontier.{csv,json,png}`` and ``levels/budget_<yuan>/plan.json``.
    budgets : tuple of float or None
        Capital budgets (yuan). None: `levels` budgets found automatically.
    levels : int or None
        Number of evenly spaced budgets from the least useful to the least sufficient budget
        (see `automatic_budgets`). Used when `budgets` is None (default 10).
    elastic : bool
        Targets become soft (each level meets as much of each as its budget allows).
    workers : int
        Levels solved at once in local worker processes.
    dask : str or distributed.Client or None
        A Dask scheduler address (``tcp://host:8786``) or client: levels run on that cluster.
    resume : bool
        Take levels already finished in `out_dir` by a run of the same scenario.
    year : int or None
        Phased plans: each budget is this planning year's capital cap (`optimizer.sweep.phased`).
    scale_years : bool
        Phased plans: each budget is the total capital, every year's cap scaled proportionally.
    """

    out_dir: Path
    budgets: tuple[float, ...] | None = None
    levels: int | None = None
    elastic: bool = False
    workers: int = 1
    dask: Any = None
    resume: bool = False
    year: int | None = None
    scale_years: bool = False


@dataclass(frozen=True)
class SweepEvent:
    """Progress, for a progress bar: ``least`` (range solves done), ``started`` or ``level`` (finished).

    ``row`` is the finished level's frontier row; ``running`` the budgets being solved now.
    """

    kind: str
    done: int
    total: int
    running: tuple[float, ...] = ()
    row: dict[str, Any] | None = None
    least_cny: float | None = None


@dataclass(frozen=True)
class Frontier:
    """A finished sweep: the ``frontier.json`` document and the output folder."""

    document: dict[str, Any]
    out_dir: Path

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One row per level, by budget."""
        return list(self.document["levels"])

    @property
    def monotone(self) -> bool:
        """More budget never covered less."""
        return bool(self.document["monotone"])


@dataclass
class _State:
    """One sweep in progress."""

    prep: Prepared
    settings: SweepSettings
    fingerprint: str
    runner: Runner
    emit: Callable[[SweepEvent], None]
    least: CapitalOutcome
    bounds: BudgetRows
    unlimited: CapitalOutcome | None = None
    unlimited_runs: int = 0
    rows: dict[float, dict[str, Any]] = field(default_factory=dict)
    starts: dict[float, FloatArray] = field(default_factory=dict)
    total: int = 0
    began: float = field(default_factory=time.perf_counter)


def parse_budgets(text: str) -> tuple[float, ...]:
    """``"10e6:60e6:5e6"`` (start:stop:step, stop included) or ``"30e6,40e6,50e6"``, in yuan."""
    try:
        if ":" in text:
            start, stop, step = (float(part) for part in text.split(":"))
            if step <= 0 or stop < start:
                raise ValueError("a range needs start <= stop and a positive step")
            count = math.floor((stop - start) / step + 1e-9) + 1
            if count > MAX_LEVELS:
                raise ValueError(f"{count} levels; at most {MAX_LEVELS}")
            values = tuple(start + step * k for k in range(count))
        else:
            values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ScenarioError(f"'{text}' is not START:STOP:STEP or a comma-separated list of yuan ({exc})",
                            "--budgets") from None
    if not values or any(not math.isfinite(v) or not 0 <= v <= MAX_YUAN for v in values):
        raise ScenarioError(f"'{text}': budgets must be finite yuan between 0 and {MAX_YUAN:g}", "--budgets")
    return values


def check_settings(settings: SweepSettings) -> None:
    """Collect every problem with the sweep options, then raise one `ScenarioError`."""
    problems = []
    if settings.budgets is not None and settings.levels is not None:
        problems.append(Problem("--budgets/--levels", "give budgets or a number of levels, not both"))
    if settings.levels is not None and not 1 <= settings.levels <= MAX_LEVELS:
        problems.append(Problem("--levels", f"must be between 1 and {MAX_LEVELS}"))
    if settings.budgets is not None and not settings.budgets:
        problems.append(Problem("--budgets", "no budget given"))
    if settings.workers < 1:
        problems.append(Problem("--workers", "must be at least 1"))
    if settings.workers > 1 and settings.dask is not None:
        problems.append(Problem("--workers/--dask", "levels run either in local workers or on Dask, not both"))
    if settings.year is not None and settings.scale_years:
        problems.append(Problem("--year/--scale-years", "vary one year's budget or scale every year's, not both"))
    raise_if(problems, ScenarioError)


def sweep_file(path: str | Path, settings: SweepSettings, *, solver: dict[str, Any] | None = None,
               on_event: Callable[[SweepEvent], None] | None = None) -> Frontier:
    """`sweep` a scenario file; `solver` overrides its ``solver`` fields (backend, time_limit_s, ...)."""
    scenario, base_dir = load_scenario(path)
    if solver:   # checked by the rules of the scenario's own `solver` fields
        scenario = scenario.model_copy(update={"solver": solver_with(scenario.solver, solver)})
    return sweep(scenario, base_dir, settings, on_event=on_event)


def sweep(scenario: Scenario, base_dir: Path, settings: SweepSettings, *,
          on_event: Callable[[SweepEvent], None] | None = None) -> Frontier:
    """Solve every budget level, write the frontier files, return the frontier."""
    check_settings(settings)
    check_phased_options(scenario, year=settings.year, scale_years=settings.scale_years)
    prep = prepare_sweep(scenario, base_dir, elastic=settings.elastic)
    bounds = budget_rows(prep.scenario, prep.model, year=settings.year, scale_years=settings.scale_years)
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = sweep_fingerprint(prep, bounds)
    with open_runner(prep, workers=settings.workers, dask=settings.dask) as runner:
        least = _capital(prep, runner, LEAST, fingerprint, settings, bounds)
        state = _State(prep, settings, fingerprint, runner, on_event or (lambda event: None), least, bounds)
        budgets = _level_budgets(state)
        state.total = len(budgets)
        state.emit(SweepEvent("least", 0, state.total, least_cny=_least_level(least)))
        _run_levels(state, budgets)
    document = frontier_document(state, complete=True)
    write_frontier(settings.out_dir, document)
    write_chart(document, settings.out_dir / "frontier.png")
    return Frontier(document, settings.out_dir)


def sweep_fingerprint(prep: Prepared, bounds: BudgetRows | None = None) -> str:
    """What a resumed run must share with the first: scenario (less solver and capital), model,
    and the rows the budget bounds (which year, or every year scaled)."""
    scenario = prep.scenario.model_dump(mode="json", exclude={"solver": True, "budget": {"capital"}})
    how = None if bounds is None else [list(bounds.rows), list(bounds.factors), bounds.year, bounds.scale_years]
    digest = hashlib.sha256(json.dumps([scenario, how], sort_keys=True, default=str).encode())
    model, milp = prep.model, prep.model.milp
    for array in (milp.A.data, milp.A.indices, milp.A.indptr, milp.row_lb, milp.lb, milp.ub,
                  model.cost_c, model.coverage_c):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:20]


def _least_level(least: CapitalOutcome) -> float | None:
    """The least sufficient budget as a level: the least capital, rounded up to whole yuan."""
    return None if least.capital_cny is None else float(math.ceil(least.capital_cny - 1e-6))


def _capital(prep: Prepared, runner: Runner, kind: str, fingerprint: str, settings: SweepSettings,
             bounds: BudgetRows, start: FloatArray | None = None) -> CapitalOutcome:
    """The ``least`` or ``unlimited`` solve, from ``least.json`` when resuming the same sweep."""
    saved = _saved_capital(prep, kind, fingerprint, settings)
    if saved is not None:
        return saved
    outcome = runner.submit(LevelTask(kind, start=start, bounds=bounds)).result()
    assert isinstance(outcome, CapitalOutcome)
    _save_capital(outcome, fingerprint, settings)
    return outcome


def _saved_capital(prep: Prepared, kind: str, fingerprint: str, settings: SweepSettings) -> CapitalOutcome | None:
    """A ``least`` or ``unlimited`` solve of the same sweep from ``least.json`` (resume only)."""
    saved = load_json(settings.out_dir / "least.json") or {}
    if not settings.resume or saved.get("fingerprint") != fingerprint or kind not in saved:
        return None
    entry = saved[kind]
    pairs = [tuple(p) for p in entry["pairs"]]
    x = _start_of(prep, pairs)
    return CapitalOutcome(kind, entry["status"], entry["capital"], entry["annual"], entry["bound"], pairs, x,
                          entry["seconds"], entry.get("coverage"), entry.get("coverage_bound"),
                          exact=entry.get("exact", True))


def _start_of(prep: Prepared, pairs: list[tuple[Any, str]]) -> FloatArray | None:
    """A warm start from a resumed plan's open facilities (one-year models; a phased plan's
    opening years are not rebuilt from them: its levels start cold)."""
    return start_from_pairs(prep, pairs) if pairs and prep.model.schedule is None else None


def _save_capital(outcome: CapitalOutcome, fingerprint: str, settings: SweepSettings) -> None:
    path = settings.out_dir / "least.json"
    saved = load_json(path) or {}
    kept: dict[str, Any] = saved if saved.get("fingerprint") == fingerprint else {"fingerprint": fingerprint}
    kept[outcome.kind] = _capital_entry(outcome)
    save_json(path, kept)


def _capital_entry(outcome: CapitalOutcome) -> dict[str, Any]:
    return {"status": outcome.status, "capital": outcome.capital_cny, "annual": outcome.annual_cny,
            "bound": outcome.bound_cny, "proven": outcome.proven, "seconds": round(outcome.seconds, 3),
            "coverage": outcome.coverage, "coverage_bound": outcome.coverage_bound, "exact": outcome.exact,
            "pairs": [list(p) for p in outcome.pairs]}


def _level_budgets(state: _State) -> list[float]:
    """The levels: given or automatic, plus the least sufficient budget, distinct and ascending."""
    settings = state.settings
    budgets = list(settings.budgets) if settings.budgets is not None else automatic_budgets(state)
    least = _least_level(state.least)
    if least is not None:
        budgets.append(least)
    distinct: dict[int, float] = {}
    for budget in sorted(budgets):
        distinct.setdefault(math.ceil(budget - 1e-6), budget)
    return list(distinct.values())


def automatic_budgets(state: _State) -> list[float]:
    """``levels`` budgets evenly spaced from the least useful to the least sufficient budget.

    Elastic targets: from the cheapest new facility (less buys nothing) to the least
    capital meeting every target. Targets as stated: no plan exists below the least
    sufficient budget, so the levels run from it up to the capital of the unlimited-budget plan
    (the most coverage any budget buys, at least cost): every budget above buys that plan.
    """
    count = state.settings.levels or 10
    least = state.least.capital_cny
    if state.prep.scenario.elastic:
        low = cheapest_facility_cny(state.prep, state.bounds)
        high = least if least is not None else _unlimited(state)
    else:
        if least is None:
            raise TargetInfeasibleError(
                f"no plan meets every target at any budget (least capital solve: {state.least.status}), so "
                "there is no least sufficient budget; sweep with --elastic, or give --budgets", "--levels")
        low, high = least, _unlimited(state)
    if high is None or high <= low or count == 1:
        return [float(math.ceil(low - 1e-6))]
    return [float(math.ceil(b - 1e-6)) for b in np.linspace(low, high, count)]


def _unlimited(state: _State) -> float | None:
    state.unlimited_runs += 1
    state.unlimited = _capital(state.prep, state.runner, UNLIMITED, state.fingerprint, state.settings,
                               state.bounds, start=state.least.x)
    return state.unlimited.capital_cny


def _run_levels(state: _State, budgets: list[float]) -> None:
    """Resume finished levels, settle the provably infeasible ones, solve the rest upward."""
    pending = []
    least = _least_level(state.least)
    if least is not None and state.least.x is not None:
        state.starts[least - 0.25] = state.least.x    # just below its level: a level's own plan wins
    for budget in budgets:
        loaded = load_level(state.settings.out_dir, budget, state.fingerprint) if state.settings.resume else None
        if loaded is not None:
            _resumed(state, budget, *loaded)
        elif _below_least(state, budget):
            _record(state, known_infeasible(state.prep, budget, state.least, state.bounds))
        else:
            pending.append(budget)
    _solve_pending(state, pending)


def _resumed(state: _State, budget: float, row: dict[str, Any], document: dict[str, Any]) -> None:
    state.rows[budget] = row
    if row["coverage"] is not None:
        pairs = [(f["site"], f["type"]) for f in document.get("facilities") or []]
        if (start := _start_of(state.prep, pairs)) is not None:
            state.starts[budget] = start
    state.emit(SweepEvent("level", len(state.rows), state.total, row=row))


def _below_least(state: _State, budget: float) -> bool:
    """Targets as stated and the budget below what the least capital solve proved necessary."""
    least = state.least
    if state.prep.scenario.elastic:
        return False
    if least.status == Status.INFEASIBLE.value:
        return True
    return least.bound_cny is not None and budget < least.bound_cny * (1 - 1e-9) - 1e-6


def _solve_pending(state: _State, pending: list[float]) -> None:
    """Keep the runner full; each level starts from the best finished plan below it.

    A level the proven unlimited-budget plan fits is written from that plan, not solved
    (`optimizer.sweep.levels.fits`). That plan is solved up front for automatic levels, and
    otherwise once a proven level leaves unspent budget that would buy a facility (coverage no
    longer follows the budget there), started from that level's plan.
    """
    running: dict[Any, float | None] = {}   # future -> its level's budget (None: the unlimited solve)
    while pending or running:
        while pending and _reusable(state, pending[0], pending, running):   # upward, as levels finish
            assert state.unlimited is not None   # `fits` says so
            budget = pending.pop(0)
            _record(state, reused_level(state.prep, budget, state.unlimited, state.bounds), _running(running))
        while pending and len(running) < state.runner.capacity:
            if (start := _unlimited_start(state, pending)) is not None:
                state.unlimited_runs += 1
                running[state.runner.submit(LevelTask(UNLIMITED, start=start, bounds=state.bounds))] = None
                continue
            budget = pending.pop(0)
            state.emit(SweepEvent("started", len(state.rows), state.total, (*_running(running), budget)))
            task = LevelTask(LEVEL, budget, _start_below(state, budget), fresh=not _from_level(state, budget),
                             bounds=state.bounds)
            running[state.runner.submit(task)] = budget
        if not running:
            continue
        for future in state.runner.wait_any(list(running)):
            running.pop(future)
            outcome = future.result()
            if isinstance(outcome, CapitalOutcome):
                state.unlimited = outcome
                _save_capital(outcome, state.fingerprint, state.settings)
                continue
            assert isinstance(outcome, LevelOutcome)
            _record(state, outcome, _running(running))


def _reusable(state: _State, budget: float, pending: list[float], running: dict[Any, float | None]) -> bool:
    """Whether the level at `budget` is written from the unlimited-budget plan now: it `fits`, every
    lower level has finished (so `_consistent` has heard from them all), and none contradicts it."""
    lower = [b for b in pending if b < budget] + [b for b in running.values() if b is None or b < budget]
    return not lower and fits(state.unlimited, budget) and _consistent(state)


def _consistent(state: _State) -> bool:
    """No finished level contradicts the unlimited solve: a level plan is a plan of the unlimited
    problem, so none may cover more, or as much for less total cost. (A contradiction means the
    solver's claim was wrong; the levels are then solved, not written from that plan.)"""
    unlimited = state.unlimited
    if unlimited is None or unlimited.coverage is None or unlimited.solution is None:
        return False
    cost = float(state.prep.model.cost_c @ unlimited.solution.x) if unlimited.solution.x is not None else None
    for row in state.rows.values():
        if row["coverage"] is None or row["reused"] or cost is None:
            continue
        more = row["coverage"] > unlimited.coverage * (1 + COVERAGE_TOL) + COVERAGE_TOL
        cheaper = row["coverage"] >= unlimited.coverage * (1 - COVERAGE_TOL) - COVERAGE_TOL and (
            row["total"] is not None and row["total"] < cost * (1 - 1e-6) - 1.0)
        if more or cheaper:
            return False
    return True


def _running(running: dict[Any, float | None]) -> tuple[float, ...]:
    return tuple(b for b in running.values() if b is not None)


def _unlimited_start(state: _State, pending: list[float]) -> FloatArray | None:
    """A proven level's plan to start the unlimited solve from, when that solve is worth running now.

    Worth it when levels remain above a level proven optimal whose plan left unspent at least the
    capital of the cheapest new facility (more budget there may buy nothing more), and no proven
    unlimited plan is at hand: once, or a second time after an unproven one (the automatic levels'
    first run starts from the least-capital plan; a proven level's plan is a far better start).
    """
    proven = state.unlimited is not None and state.unlimited.proven
    if proven or state.unlimited_runs >= 2 or not pending:
        return None
    cheapest = cheapest_facility_cny(state.prep, state.bounds)
    for budget, row in sorted(state.rows.items(), reverse=True):
        slack = budget - (row["capital"] or 0.0)
        if row["status"] == Status.OPTIMAL.value and row["coverage"] is not None and budget in state.starts and (
                slack >= cheapest - 1e-6 and max(pending) > budget):
            return state.starts[budget]
    return None


def _start_below(state: _State, budget: float) -> FloatArray | None:
    """The plan of the highest finished level at or below `budget` (feasible here)."""
    below = [b for b in state.starts if b <= budget + 1e-6]
    return state.starts[max(below)] if below else None


def _from_level(state: _State, budget: float) -> bool:
    """Whether `_start_below` gives a finished level's plan (not the least-capital plan, or none)."""
    below = [b for b in state.starts if b <= budget + 1e-6]
    return bool(below) and max(below) in state.rows


def _record(state: _State, outcome: LevelOutcome, running: tuple[float, ...] = ()) -> None:
    """Write a finished level and the frontier so far; keep its plan as a start for higher levels."""
    weight = next(iter(state.prep.scenario.demand.weights), None)
    row = level_row(outcome.document, budget_cny=outcome.budget_cny, seconds=outcome.seconds, weight=weight)
    if state.bounds.phased:
        row["capital_by_year"] = state.bounds.caps_at(state.prep.scenario, outcome.budget_cny)
        row["capital_spent_by_year"] = {y: e["capital"] for y, e in (outcome.document.get("years") or {}).items()}
    save_level(state.settings.out_dir, outcome.document, row, state.fingerprint)
    state.rows[outcome.budget_cny] = row
    if outcome.x is not None:
        state.starts[outcome.budget_cny] = outcome.x
    write_frontier(state.settings.out_dir, frontier_document(state, complete=False))
    state.emit(SweepEvent("level", len(state.rows), state.total, running, row))


def frontier_document(state: _State, *, complete: bool) -> dict[str, Any]:
    """``frontier.json``: the levels so far, the least sufficient budget, and notes."""
    scenario, bounds = state.prep.scenario, state.bounds
    rows = finish_rows(list(state.rows.values()), _least_level(state.least))
    budget: dict[str, Any] = {"annual": scenario.budget.annual, "horizon_years": scenario.budget.horizon_years}
    phased = {}
    if bounds.phased:
        budget |= {"capital": scenario.budget.capital, "capital_by_year": scenario.budget.capital_by_year}
        phased = {"phased": {"years": list(scenario.years or []), "year": bounds.year,
                             "scale_years": bounds.scale_years,
                             "coverage": "covered elderly-years: each year's weighted coverage, summed"}}
    return {
        "format": FRONTIER_FORMAT, "scenario": scenario.name, "objective": "max_coverage",
        "elastic": scenario.elastic, "weight": next(iter(scenario.demand.weights), None),
        "budget": budget, **phased,
        "solver": {"backend": scenario.solver.backend, "time_limit_s": scenario.solver.time_limit_s,
                   "mip_gap": scenario.solver.mip_gap},
        "least_sufficient": _least_document(state.least),
        "unlimited": None if state.unlimited is None else _unlimited_summary(state.unlimited),
        "saturation": saturation(rows, None if state.unlimited is None else _unlimited_summary(state.unlimited)),
        "complete": complete and len(rows) == state.total, "monotone": all(r["monotone"] for r in rows),
        "levels": rows, "notes": _notes(rows, state),
        "seconds": round(time.perf_counter() - state.began, 3),
    }


def _least_document(least: CapitalOutcome) -> dict[str, Any]:
    entry = _capital_summary(least)
    entry["budget"] = _least_level(least)
    if least.capital_cny is None:
        entry["note"] = ("no plan meets every target at any budget" if least.status == Status.INFEASIBLE.value
                         else f"no plan meeting every target was found ({least.status})")
    elif not least.proven:
        entry["note"] = (f"not proven least: the least sufficient capital lies between "
                         f"{least.bound_cny or 0:,.0f} and {least.capital_cny:,.0f} yuan")
    return entry


def _unlimited_summary(outcome: CapitalOutcome) -> dict[str, Any]:
    """The unlimited-budget solve: its plan's capital and coverage, and the proven most coverage."""
    return _capital_summary(outcome) | {"coverage": outcome.coverage, "coverage_bound": outcome.coverage_bound}


def _capital_summary(outcome: CapitalOutcome) -> dict[str, Any]:
    return {"capital": outcome.capital_cny, "annual": outcome.annual_cny, "bound": outcome.bound_cny,
            "proven": outcome.proven, "status": outcome.status, "seconds": round(outcome.seconds, 3)}


def _notes(rows: list[dict[str, Any]], state: _State) -> list[str]:
    notes = [note] if (note := mode_note(state.bounds)) else []
    for row in rows:
        if not row["monotone"]:
            why = ("stopped by the time limit" if row["time_limited"] else
                   "elastic: meeting more of the targets comes before coverage" if state.prep.scenario.elastic
                   else row["status"])
            notes.append(f"budget {row['budget']:,.0f}: covers less than a lower budget's level ({why}); "
                         "shown as solved, not corrected")
        if row["time_limited"]:
            gap = "no bound" if row["gap"] is None else f"gap {100 * row['gap']:.2f}%"
            notes.append(f"budget {row['budget']:,.0f}: stopped by the time limit ({gap})")
    infeasible = [r for r in rows if r["status"] == Status.INFEASIBLE.value]
    if infeasible and not state.prep.scenario.elastic:
        notes.append(f"{len(infeasible)} level(s) below the least sufficient budget meet no plan with the "
                     "targets as stated; sweep with --elastic to see what they buy")
    return notes
