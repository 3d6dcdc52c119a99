"""The Python API: scenario in, checked plan out (what the CLI and the service call).

`solve()` loads the region, builds reach and the model, runs the phases, decodes the open
facilities, re-checks them with `optimizer.check.plan`, and when targets cannot be met explains
why (data causes, the budget that would suffice, the best elastic plan).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.check.explain import has_data_cause, target_limits, uncoverable_units
from optimizer.check.plan import CheckedPlan, check_plan
from optimizer.check.years import check_phased
from optimizer.errors import CheckFailedError, Problem
from optimizer.inputs.geodata import Region, load_region, region_from_frames
from optimizer.model.build import PlanModel, build_model, objective_weight
from optimizer.model.milp import CONTINUOUS
from optimizer.model.reduce import Reductions, reduce_model
from optimizer.model.years import build_phased_model
from optimizer.progress import Progress, stage
from optimizer.reach.base import Reach
from optimizer.reach.build import build_reach
from optimizer.scenario.fields import SolverSpec
from optimizer.scenario.format import Scenario, load_scenario, parse_scenario, solver_with
from optimizer.search.backends import check_backend, with_continuous
from optimizer.search.phases import Solution, assignments, open_facilities, run_phases
from optimizer.solvers.base import SolveOptions, Status


@dataclass(frozen=True)
class Prepared:
    """A scenario with its region, reach and model, ready to solve (and re-solve).

    `model` is the reduced model (`optimizer.model.reduce`) unless prepared with ``reduce=False``;
    `reductions` says what the reductions did (None when not applied).
    """

    scenario: Scenario
    base_dir: Path
    region: Region
    reach: Reach
    model: PlanModel
    reductions: Reductions | None = None


@dataclass(frozen=True)
class PlanResult:
    """A solved scenario: the checked plan and how it was obtained."""

    prepared: Prepared
    solution: Solution
    checked: CheckedPlan | None
    status: str
    explanation: dict[str, Any] | None

    @property
    def all_targets_met(self) -> bool:
        """True when a plan exists and the checker finds every target met."""
        return self.checked is not None and self.checked.feasible


def prepare(scenario: Scenario, base_dir: Path, *, reduce: bool = True, progress: Progress | None = None) -> Prepared:
    """Load geodata, build reach and the model, reduced unless `reduce` is False (no solve).

    `progress` hears the stages ``read``, ``reach`` and ``model`` (`optimizer.progress`).

    Returns
    -------
    Prepared
        What `solve_prepared` solves, as often as needed (a sweep re-uses one).
    """
    with stage(progress, "read") as done:
        region = load_region(scenario, base_dir)
        done |= {"units": region.demand.n, "sites": region.sites.n}
    with stage(progress, "reach") as done:
        reach = build_reach(scenario, region, base_dir)
        done["pairs"] = int(sum(matrix.nnz for matrix in reach.by_type))
    with stage(progress, "model") as done:
        prepared = _prepared(scenario, base_dir, region, reach, reduce)
        done |= {"variables": prepared.model.milp.n_vars, "rows": prepared.model.milp.n_rows}
    return prepared


def _prepared(scenario: Scenario, base_dir: Path, region: Region, reach: Reach, reduce: bool) -> Prepared:
    if scenario.extended:   # years, beds or sharper targets: the phased model, as built
        note = ("years, beds or sharper targets: the phased model is solved as built (the exact reductions "
                "are defined for the single-year model and are not applied)")
        region = replace(region, notes=(*region.notes, note))
        return Prepared(scenario, base_dir, region, reach, build_phased_model(scenario, region, reach))
    model = build_model(scenario, region, reach)
    if not reduce or scenario.objective == "min_radius":   # the reductions know nothing of radii
        return Prepared(scenario, base_dir, region, reach, model)
    model, reductions = reduce_model(model, scenario, region, reach)
    return Prepared(scenario, base_dir, region, reach, model, reductions)


def prepare_tables(scenario: Scenario | dict[str, Any], demand: pd.DataFrame, sites: pd.DataFrame,
                   distances: pd.DataFrame | None = None, *, reduce: bool = True) -> Prepared:
    """Prepare a scenario whose data are in-memory tables (no files, geometry optional).

    Parameters
    ----------
    scenario : Scenario or dict
        Format 1; `demand.path` / `sites.path` may be omitted (the tables replace them).
    demand, sites : DataFrame or GeoDataFrame
        Columns as the scenario names them (ids, group, zone, weights; allowed, existing,
        costs, capacities).
    distances : DataFrame, optional
        Long form (demand id, site id, value), columns as `scenario.distances` names them
        (defaults: demand_id, site_id, distance). Required when the tables have no geometry.
    reduce : bool
        Apply the exact reductions of `optimizer.model.reduce` (default).
    """
    if isinstance(scenario, dict):
        scenario, _ = parse_scenario(scenario)
    region = region_from_frames(scenario, demand, sites, distances)
    return _prepared(scenario, Path.cwd(), region, build_reach(scenario, region, Path.cwd()), reduce)


def solve_tables(scenario: Scenario | dict[str, Any], demand: pd.DataFrame, sites: pd.DataFrame,
                 distances: pd.DataFrame | None = None) -> PlanResult:
    """`prepare_tables` then solve: how the benchmark readers feed instances in."""
    return solve_prepared(prepare_tables(scenario, demand, sites, distances))


def solve_file(path: str | Path, **overrides: Any) -> PlanResult:
    """`solve` a scenario file (see `solve` for `overrides`)."""
    scenario, base_dir = load_scenario(path)
    return solve(scenario, base_dir, **overrides)


def solve(scenario: Scenario, base_dir: Path, *, backend: str | None = None,
          time_limit_s: float | None = None, mip_gap: float | None = None, threads: int | None = None,
          reduce: bool = True, progress: Progress | None = None) -> PlanResult:
    """Solve a validated scenario; overrides replace the scenario's `solver` settings.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (`optimizer.scenario.format.load_scenario`).
    base_dir : Path
        The folder the scenario's relative paths refer to.
    backend, time_limit_s, mip_gap, threads : optional
        Replace the scenario's ``solver`` fields of the same names, checked by the same rules.
    reduce : bool
        Apply the exact reductions of `optimizer.model.reduce` (default); False solves the
        model as built.
    progress : callable, optional
        Hears each stage (read, reach, model, solve with the best plan and bound as they
        improve, check) as `optimizer.progress` describes.

    Returns
    -------
    PlanResult
        The checked plan (``checked`` is None when no plan was found) and how it was obtained;
        when no plan meets the targets, ``explanation`` says why.

    Raises
    ------
    OptimizerError
        `ScenarioError` for a bad override, `GeodataError` for a bad data file, `BackendError` for
        an unknown, missing or failing backend (unknown and missing ones before any data is read),
        `CheckFailedError` when the independent checker disagrees with the solver.
    """
    solver = solver_with(scenario.solver, {"backend": backend, "time_limit_s": time_limit_s,
                                           "mip_gap": mip_gap, "threads": threads})
    check_backend(solver.backend)
    scenario = scenario.model_copy(update={"solver": solver})
    return solve_prepared(prepare(scenario, base_dir, reduce=reduce, progress=progress), progress=progress)


def solve_prepared(prep: Prepared, *, start: np.ndarray | None = None, presolve: bool = True,
                   progress: Progress | None = None) -> PlanResult:
    """Solve an already prepared scenario (a sweep re-uses one `Prepared`).

    `presolve=False` skips the solver's presolve in the first phase (`SolveOptions.presolve`);
    `progress` hears the stages ``solve`` and ``check`` (`optimizer.progress`).
    """
    with stage(progress, "solve", objective_kind=prep.scenario.objective,
               time_limit_s=prep.scenario.solver.time_limit_s) as done:
        solution = _run(prep, prep.model, prep.scenario.elastic, start, presolve=presolve, progress=progress)
        done["status"] = solution.status.value
    if solution.x is None:
        if solution.status == Status.INFEASIBLE and not prep.scenario.elastic:
            with stage(progress, "check", note="no plan meets every target: finding why"):
                return _explain_infeasible(prep, solution)
        return PlanResult(prep, solution, None, solution.status.value, None)
    with stage(progress, "check") as done:
        checked = checked_plan(prep, solution)
        done["feasible"] = checked.feasible
    status = solution.status.value
    return PlanResult(prep, solution, checked, status, None)


def _run(prep: Prepared, model: PlanModel, elastic: bool, start: np.ndarray | None,
         objective: str | None = None, *, presolve: bool = True, progress: Progress | None = None) -> Solution:
    solver = prep.scenario.solver
    options, notes = solve_options(solver, start=start, presolve=presolve)
    objective = objective or prep.scenario.objective
    spec = prep.scenario.min_distance
    if objective == "min_distance" and spec is not None and spec.yuan_per_unit is not None:
        objective = "min_cost"   # distance is priced into the cost objective: one phase
    solution = run_phases(model, backend=solver.backend, objective=objective, elastic=elastic, options=options,
                          progress=progress)
    if not notes or not solution.phases:
        return solution
    first = solution.phases[0]
    noted = replace(first, result=replace(first.result, notes=(*notes, *first.result.notes)))
    return replace(solution, phases=(noted, *solution.phases[1:]))


def solve_options(solver: SolverSpec, *, start: np.ndarray | None = None,
                  presolve: bool = True) -> tuple[SolveOptions, list[str]]:
    """Return the backend options of a scenario's `solver`, threads capped at this process's cores.

    Returns
    -------
    options : SolveOptions
    notes : list of str
        Says so when `solver.threads` was capped (a solver given more threads than cores only
        slows down, and a huge count aborts some).
    """
    cores = usable_cores()
    threads, notes = solver.threads, []
    if threads > cores:
        threads = cores
        notes.append(f"solver.threads {solver.threads} capped at {cores}: the cores this machine gives the solver")
    return SolveOptions(time_limit_s=solver.time_limit_s, mip_gap=solver.mip_gap, threads=threads,
                        start=start, presolve=presolve), notes


def usable_cores() -> int:
    """Return the CPU cores this process may run on (its affinity where the OS says, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def decode_pairs(prep: Prepared, model: PlanModel, x: np.ndarray) -> list[tuple[Any, str]]:
    """(site id, facility type) of every facility open in solution `x` (phased: in the last year)."""
    if model.schedule is not None:
        opening = model.schedule.opening(x)
        return [(prep.region.sites.ids[s], prep.region.type_names[t])
                for s, t in zip(model.schedule.pair_site[opening >= 0], model.schedule.pair_type[opening >= 0])]
    sites, types = open_facilities(model, x)
    return [(prep.region.sites.ids[s], prep.region.type_names[t]) for s, t in zip(sites, types)]


def decode_schedule(prep: Prepared, model: PlanModel, x: np.ndarray) -> tuple[
        list[tuple[Any, str, int | None]], list[tuple[Any, str, int, int | None]]]:
    """Decode a phased solution as the plan states it.

    Returns new facilities with their opening year, and the beds taken by each action at each
    site in each year (years None without `years`).
    """
    schedule = model.schedule
    assert schedule is not None
    phased = bool(prep.scenario.years)
    opening = schedule.opening(x)
    new = np.flatnonzero((opening >= 0) & ~prep.region.sites.existing[schedule.pair_site, schedule.pair_type])
    facilities = [(prep.region.sites.ids[schedule.pair_site[j]], prep.region.type_names[schedule.pair_type[j]],
                   schedule.years[opening[j]] if phased else None) for j in new]
    beds = np.round(x[schedule.b_var]).astype(np.int64)
    taken = np.flatnonzero(beds > 0)
    actions = [(prep.region.sites.ids[schedule.b_site[v]], schedule.actions[schedule.b_action[v]], int(beds[v]),
                schedule.years[schedule.b_period[v]] if phased else None) for v in taken]
    return facilities, actions


def decode_assignments(prep: Prepared, model: PlanModel, x: np.ndarray) -> pd.DataFrame:
    """Positive assignments in `x` as a table: demand id, site id, facility type, share."""
    unit, site, t, share = assignments(model, x)
    return pd.DataFrame({"demand": prep.region.demand.ids[unit], "site": prep.region.sites.ids[site],
                         "type": np.array(prep.region.type_names, dtype=object)[t], "share": share})


def checked_plan(prep: Prepared, solution: Solution, model: PlanModel | None = None) -> CheckedPlan:
    """Decode `solution`, check it independently, and fail loudly if solver and checker differ."""
    model = model or prep.model
    assert solution.x is not None
    if model.schedule is not None:
        checked = check_phased(prep.scenario, prep.region, prep.base_dir, *decode_schedule(prep, model, solution.x))
    else:
        checked = check_plan(prep.scenario, prep.region, prep.base_dir, decode_pairs(prep, model, solution.x),
                             decode_assignments(prep, model, solution.x))
    _agree(prep, model, solution, checked)
    return checked


def money_objective(prep: Prepared, checked: CheckedPlan) -> float:
    """Total cost, plus the priced weighted distance when `min_distance.yuan_per_unit` is set."""
    spec = prep.scenario.min_distance
    priced = prep.scenario.objective == "min_distance" and spec is not None and spec.yuan_per_unit is not None
    extra = spec.yuan_per_unit * sum(checked.distance.values()) if priced and spec and spec.yuan_per_unit else 0.0
    return checked.cost["total"] + extra


def _not_above(name: str, model_value: float, true_value: float, optimal: bool, gap: float) -> list[str]:
    """List a disagreement when the model's figure is below the checker's, or too far above it.

    The model's figure may exceed the truth for a loose incumbent, never fall below it; at an
    optimum, by no more than the relative `gap` the optimum is proven to.
    """
    tol = 1e-6 * max(1.0, abs(true_value))
    above = tol + (gap * abs(true_value) if optimal else np.inf)
    if model_value < true_value - tol or model_value > true_value + above:
        return [f"solver {name} {model_value:,.2f} but checker {name} {true_value:,.2f}"]
    return []


def _agree(prep: Prepared, model: PlanModel, solution: Solution, checked: CheckedPlan) -> None:
    """Solver and checker must tell the same story; a difference is a bug, never a plan."""
    assert solution.x is not None
    x = solution.x
    problems = list(checked.violations)
    # A time-limited incumbent may leave a co-location saving unclaimed or an assignment
    # longer than the nearest (model figure above the truth); never below. An optimum is one to
    # the solver's relative gap: within it, HiGHS may leave a saving unclaimed too (the checker's
    # figure, reported as the plan's cost, claims it); beyond it is a bug.
    optimal, gap = solution.status == Status.OPTIMAL, prep.scenario.solver.mip_gap
    problems += _not_above("cost", float(model.cost_c @ x), money_objective(prep, checked), optimal, gap)
    if prep.scenario.objective == "min_distance":
        problems += _not_above("weighted distance", float(model.distance_c @ x),
                               sum(checked.distance.values()), optimal, gap)
    if prep.scenario.objective == "min_radius":
        problems += _radius_problems(solution, checked)
    block = model.milp.var_block("x" if model.schedule is None else "xp")
    claimed = x[block.start:block.stop] > 0.5   # phased: covered in some year, so in the last
    names = prep.region.type_names
    for t, name in enumerate(names):
        units = model.x_unit[claimed & (model.x_type == t)]
        if not checked.covered[name][units].all():
            problems.append(f"solver counts units as covered by '{name}' that the checker does not")
    if not prep.scenario.elastic and not checked.targets_met:
        problems.append("solver plan meets every target row but the checker finds a target unmet: "
                        + ", ".join(str(t["index"]) for t in checked.targets if not t["met"]))
    if problems:
        raise CheckFailedError([Problem("checker", text) for text in problems])


def _radius_problems(solution: Solution, checked: CheckedPlan) -> list[str]:
    """List a disagreement: the checker's radius above the radius phase's, or below it when proven."""
    phase = solution.phase("radius")
    if phase is None or phase.result.objective is None:
        return []
    upper, worst = phase.result.objective, max(checked.radius.values(), default=0.0)
    tol = 1e-6 * max(1.0, abs(upper))
    if worst > upper + tol or (phase.result.status == Status.OPTIMAL and worst < upper - tol):
        return [f"solver radius {upper:,.2f} but checker radius {worst:,.2f}"]
    return []


def _explain_infeasible(prep: Prepared, solution: Solution) -> PlanResult:
    """No plan meets every target: find why, and return the best elastic plan."""
    scenario, region, reach = prep.scenario, prep.region, prep.reach
    limits = target_limits(scenario, region, reach)
    explanation: dict[str, Any] = {"targets": limits,
                                   "uncoverable": uncoverable_units(scenario, region, reach)}
    if not has_data_cause(limits):
        explanation["budget"] = _budget_needed(prep)
    elastic_scenario = scenario.model_copy(update={"elastic": True})
    elastic_model = (build_phased_model if scenario.extended else build_model)(elastic_scenario, region, reach)
    elastic_scenario, how = _explanation_solver(elastic_scenario, elastic_model)
    elastic_prep = replace(prep, scenario=elastic_scenario, model=elastic_model)
    best = _run(elastic_prep, elastic_model, True, None)
    checked = checked_plan(elastic_prep, best, elastic_model) if best.x is not None else None
    explanation["best_plan"] = "elastic re-solve: each target's shortfall minimised, then cost" + how
    merged = Solution(best.x, solution.phases + best.phases)
    return PlanResult(prep, merged, checked, Status.INFEASIBLE.value, explanation)


def _explanation_solver(scenario: Scenario, model: PlanModel) -> tuple[Scenario, str]:
    """Return the elastic re-solve's scenario and how its solver is worded in the explanation.

    Where the model has continuous columns and the scenario's backend does not take them, the
    re-solve runs on a solver that does: a shortfall of a target over fractional weights (grown
    ones, say) is continuous, and declared integer its least value would round up. The wording
    is "" when the backend is kept.
    """
    backend = scenario.solver.backend
    if not (model.milp.integrality == CONTINUOUS).any():
        return scenario, ""
    other = with_continuous(backend)
    if other == backend:
        return scenario, ""
    solver = scenario.solver.model_copy(update={"backend": other})
    return (scenario.model_copy(update={"solver": solver}),
            f" (by {other}: a shortfall is fractional, and {backend} has integer variables only)")


def _budget_needed(prep: Prepared) -> dict[str, Any]:
    """Find the least capital (and annual) cost meeting every target, budget rows lifted."""
    model = prep.model
    row_ub = model.milp.row_ub.copy()
    row_ub[[model.capital_row, model.annual_row]] = np.inf
    if model.schedule is not None:
        row_ub[model.schedule.capital_year_rows] = np.inf
    capital_c = np.asarray(model.milp.A[[model.capital_row], :].toarray()[0])
    free = replace(model, milp=model.milp.with_row_bounds(model.milp.row_lb, row_ub), cost_c=capital_c)
    result = _run(prep, free, False, None, objective="min_cost")
    if result.x is None:
        return {"cause": None, "note": f"targets cannot be met even without a budget ({result.status.value})"}
    assert result.x is not None
    free_budget = prep.scenario.budget.model_copy(update={"capital": None, "annual": None})
    free_scenario = prep.scenario.model_copy(update={"budget": free_budget})
    if free.schedule is not None:
        free_scenario = free_scenario.model_copy(update={"budget": free_budget.model_copy(
            update={"capital_by_year": None})})
        checked = check_phased(free_scenario, prep.region, prep.base_dir, *decode_schedule(prep, free, result.x))
    else:
        checked = check_plan(free_scenario, prep.region, prep.base_dir, decode_pairs(prep, free, result.x),
                             decode_assignments(prep, free, result.x))
    budget = prep.scenario.budget
    return {"cause": "budget", "least_capital": checked.cost["capital"],
            "annual_of_that_plan": checked.cost["annual"],
            "capital_budget": budget.capital, "annual_budget": budget.annual,
            **({"capital_by_year": budget.capital_by_year} if budget.capital_by_year else {}),
            **({"by_year": _years_needed(prep)} if budget.capital_by_year and model.schedule is not None else {}),
            "proven": result.status == Status.OPTIMAL}


def _years_needed(prep: Prepared) -> list[dict[str, Any]]:
    """Per capped planning year, a proven least capital that year needs, every other budget kept.

    Each year's capital row is lifted in turn and that year's spending minimised, in a tenth of
    the time limit (at least 5 s): the solver's bound is a proven lower bound on the need even
    when stopped. A year whose need exceeds its `capital_by_year` is a year whose budget stops
    the plan; None when no capital in that year alone lets every target be met.
    """
    model, caps, solver = prep.model, prep.scenario.budget.capital_by_year or {}, prep.scenario.solver
    assert model.schedule is not None
    quick = solver.model_copy(update={"time_limit_s": max(5.0, 0.1 * solver.time_limit_s), "mip_gap": 1e-3})
    year_prep = replace(prep, scenario=prep.scenario.model_copy(update={"solver": quick}))
    found = []
    for p, year in enumerate(prep.scenario.years or []):
        if str(year) not in caps:
            continue
        row = int(model.schedule.capital_year_rows[p])
        row_ub = model.milp.row_ub.copy()
        row_ub[row] = np.inf
        spend_c = np.asarray(model.milp.A[[row], :].toarray()[0])
        lifted = replace(model, milp=model.milp.with_row_bounds(model.milp.row_lb, row_ub), cost_c=spend_c)
        cost = _run(year_prep, lifted, False, None, objective="min_cost").phase("cost")
        bound = None if cost is None or cost.result.x is None else cost.result.bound
        found.append({"year": year, "capital_budget": caps[str(year)], "least_capital_at_least": bound,
                      "short": bound is not None and bound > caps[str(year)] * (1 + 1e-9) + 1e-6})
    return found

def weighted_coverage(prep: Prepared, checked: CheckedPlan) -> float:
    """sum_t sum_{i served by t} w_i covered(i,t): the `max_coverage` objective, recomputed."""
    w = objective_weight(prep.region)
    return float(sum(w[covered].sum() for covered in checked.covered.values()))
