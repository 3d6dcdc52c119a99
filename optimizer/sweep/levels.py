"""What a sweep worker computes: one capital budget level, or one of the two capital solves.

A sweep prepares the scenario once (`prepare_sweep`: objective `max_coverage`); every task
below receives that `Prepared` and changes row bounds only (`Milp.with_row_bounds`). The rows a
budget B bounds are the task's `BudgetRows` (`optimizer.sweep.phased`): the capital row (C6),
one planning year's (C6y), or every year's scaled together with the total.

- ``level``: the `max_coverage` plan within budget B, its rows ``<= factor × B``, checked by
  the independent checker like every plan (`optimizer.plan.solve_prepared`);
- ``least``: the least budget meeting every target, the budget's rows lifted, shortfall level
  (C9) ``<= 0`` in elastic mode, objective = the last budget row's coefficients;
- ``unlimited``: the level's own phases with the budget's rows lifted (most coverage, then
  least total cost): the *unlimited-budget plan*. When proven optimal it is the answer of every
  level whose budget it fits (`fits`): such a level is checked and written, not solved
  (`reused_level`).

Tasks are plain records, so they travel to a process pool or a Dask worker unchanged.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.check.explain import target_limits
from optimizer.check.plan import CheckedPlan, check_plan
from optimizer.check.years import check_phased
from optimizer.errors import CheckFailedError, Problem
from optimizer.model.build import PlanModel
from optimizer.plan import (
    PlanResult,
    Prepared,
    checked_plan,
    decode_pairs,
    decode_schedule,
    money_objective,
    prepare,
    solve_options,
    solve_prepared,
    weighted_coverage,
)
from optimizer.report.document import plan_document
from optimizer.scenario.format import Scenario
from optimizer.search.greedy import greedy_plan
from optimizer.search.phases import Solution, run_phases
from optimizer.solvers.base import Status
from optimizer.sweep.phased import BudgetRows
from optimizer.sweep.warm import greedy_fill, start_from_open
from optimizer.tuning import TUNING

FloatArray = npt.NDArray[np.float64]
LEVEL, LEAST, UNLIMITED = "level", "least", "unlimited"


@dataclass(frozen=True)
class LevelTask:
    """One solve for a worker.

    Attributes
    ----------
    kind : str
        ``"level"``, ``"least"`` or ``"unlimited"``.
    budget_cny : float or None
        The capital budget of a ``level`` task.
    start : float array or None
        A solution vector feasible at this budget (a lower level's plan): the warm start.
    greedy : bool
        Top the start up to the budget greedily before solving (`optimizer.sweep.warm.greedy_fill`).
    fresh : bool
        The start is not a finished level's plan (the least-capital plan, or none): the level
        also builds the greedy plan of `optimizer.search.greedy` for its own budget and starts from
        whichever of the two covers more.
    bounds : BudgetRows or None
        The rows the budget bounds (`optimizer.sweep.phased`); None: the capital row (C6).
    """

    kind: str
    budget_cny: float | None = None
    start: FloatArray | None = None
    greedy: bool = True
    fresh: bool = False
    bounds: BudgetRows | None = None


@dataclass(frozen=True)
class LevelOutcome:
    """A finished ``level`` task: its plan document and the solution to start higher levels from.

    Attributes
    ----------
    budget_cny : float
    document : dict
        The level's ``plan.json`` (every figure from the checker).
    x : float array or None
        The solution vector when the level has a plan that a higher budget can start from.
    seconds : float
        Wall time of the level on its worker.
    """

    budget_cny: float
    document: dict[str, Any]
    x: FloatArray | None
    seconds: float


@dataclass(frozen=True)
class CapitalOutcome:
    """A finished ``least`` or ``unlimited`` task.

    Attributes
    ----------
    kind : str
        ``"least"`` or ``"unlimited"``.
    status : str
        The solve's status (`optimizer.solvers.base.Status` value).
    capital_cny, annual_cny : float or None
        The checker's capital and annual cost of the plan found (None when none was found).
    bound_cny : float or None
        Proven lower bound on the least capital (``least`` only).
    pairs : list of (site id, type)
        The plan's open facilities (a warm start, also after a resume).
    x : float array or None
        The solution vector.
    seconds : float
    coverage : float or None
        The checker's weighted coverage of the plan (the `max_coverage` objective; phased: summed
        over the planning years).
    coverage_bound : float or None
        Proven upper bound on the weighted coverage any budget buys (``unlimited`` only).
    solution : Solution or None
        The phases as solved (``unlimited``, this run only: a resumed one has none), from which
        a level it fits is written without a solve (`reused_level`).
    """

    kind: str
    status: str
    capital_cny: float | None
    annual_cny: float | None
    bound_cny: float | None
    pairs: list[tuple[Any, str]]
    x: FloatArray | None
    seconds: float
    coverage: float | None = None
    coverage_bound: float | None = None
    solution: Solution | None = None
    exact: bool = True

    @property
    def proven(self) -> bool:
        """Whether the solve proved what it was asked (within the MIP gap). A least-capital solve
        of scaled yearly caps proves the least total capital only (``exact`` False unless its plan
        fits the caps scaled to that total)."""
        return self.status == Status.OPTIMAL.value and self.exact


def prepare_sweep(scenario: Scenario, base_dir: Any, *, elastic: bool) -> Prepared:
    """Load and build once, as `max_coverage` (and elastic when asked): every level re-uses it."""
    update: dict[str, Any] = {"objective": "max_coverage", "elastic": elastic or scenario.elastic}
    return prepare(scenario.model_copy(update=update), base_dir)


def run_task(prep: Prepared, task: LevelTask) -> LevelOutcome | CapitalOutcome:
    """Run one task on `prep` (the function process pools and Dask workers call)."""
    if task.kind == LEVEL:
        assert task.budget_cny is not None
        return run_level(prep, task.budget_cny, task.start, greedy=task.greedy, fresh=task.fresh, bounds=task.bounds)
    if task.kind in (LEAST, UNLIMITED):
        return capital_solve(prep, task.kind, task.start, bounds=task.bounds)
    raise ValueError(f"`task.kind`: unknown sweep task '{task.kind}'")


def one_year(prep: Prepared) -> BudgetRows:
    """The budget bounds the capital row (C6) alone: a sweep without `years`."""
    return BudgetRows((prep.model.capital_row,), (1.0,))


def at_budget(prep: Prepared, budget_cny: float, bounds: BudgetRows | None = None) -> Prepared:
    """`prep` with budget `budget_cny`: its rows (`bounds`, default the capital row C6) and the
    scenario the checker reads."""
    bounds = bounds or one_year(prep)
    model = prep.model
    milp = model.milp.with_row_bounds(model.milp.row_lb, bounds.row_bounds(model.milp.row_ub, budget_cny))
    return replace(prep, scenario=bounds.scenario_at(prep.scenario, budget_cny), model=replace(model, milp=milp))


def run_level(prep: Prepared, budget_cny: float, start: FloatArray | None, *,
              greedy: bool = True, fresh: bool = False, bounds: BudgetRows | None = None) -> LevelOutcome:
    """The `max_coverage` plan within `budget_cny`, checked, as a plan document.

    With `greedy`, the start (a lower level's plan; in elastic mode also none) is first topped
    up to the budget by `optimizer.sweep.warm.greedy_fill`; with `fresh` (the start is not a
    level's plan), the greedy plan of `optimizer.search.greedy` for this budget replaces it when it
    covers more (the least-capital plan places its required facilities for capital alone, and
    can leave the lowest level far below the greedy plan's coverage). A start feasible at this
    budget skips presolve in the first phase: on large models HiGHS presolve can run well past a
    short level's limit and stop unfinished, leaving the start unimproved and without a bound;
    without presolve the run keeps to its limit (its bound may then be only the one HiGHS has
    before the root LP, hence a wide gap, reported as it is).

    The level keeps to its time limit (``solver.time_limit_s``) as a whole: the solve gets what
    the start left, less `Tuning.level_finish_share` of the limit for the check and the document.
    The greedy top-up and start are one-year heuristics: a phased model (`bounds` of a phased
    plan) starts from the lower level's plan as it is.
    """
    began = time.perf_counter()
    one_snapshot = prep.model.schedule is None
    if greedy and one_snapshot and (start is not None or prep.scenario.elastic):
        start = greedy_fill(prep, start, budget_cny)
    level = at_budget(prep, budget_cny, bounds)
    if fresh and one_snapshot:
        start = better_start(level, start)
    warm = start is not None and level.model.milp.is_feasible(start)
    level = _within_limit(level, began)
    result = solve_prepared(level, start=start, presolve=not warm)
    kept = _start_as_plan(level, result, start)
    document = plan_document(kept or result)
    if kept is not None:
        document["notes"].append("the solver found no plan within the time limit: this is the warm start "
                                 "(a lower level's plan topped up greedily), checked like every plan")
        result = kept
    has_plan = result.checked is not None and result.status != Status.INFEASIBLE.value
    x = result.solution.x if has_plan else None
    return LevelOutcome(budget_cny, document, x, time.perf_counter() - began)


def _within_limit(level: Prepared, began: float) -> Prepared:
    """`level` with the solver time its limit leaves after the start, less the finishing share."""
    solver = level.scenario.solver
    spent = time.perf_counter() - began
    left = max(1.0, solver.time_limit_s * (1.0 - TUNING.level_finish_share) - spent)
    if left >= solver.time_limit_s:
        return level
    update = {"solver": solver.model_copy(update={"time_limit_s": left})}
    return replace(level, scenario=level.scenario.model_copy(update=update))


def better_start(level: Prepared, start: FloatArray | None) -> FloatArray | None:
    """`start` or the greedy plan of `optimizer.search.greedy` at this level, whichever covers more
    (feasible ones only; the greedy plan is None for models outside the heuristic, e.g. elastic)."""
    model = level.model
    plan = greedy_plan(model.milp.with_objective(model.coverage_c, 0.0))
    if plan is None or not model.milp.is_feasible(plan):
        return start
    if start is not None and model.milp.is_feasible(start) and model.coverage_c @ start <= model.coverage_c @ plan:
        return start
    return plan


def _start_as_plan(level: Prepared, result: PlanResult, start: FloatArray | None) -> PlanResult | None:
    """When the solver stopped without a plan, the warm start is one, if it is feasible here."""
    if result.checked is not None or result.status != Status.TIME_LIMIT_NO_SOLUTION.value or start is None:
        return None
    if not level.model.milp.is_feasible(start):
        return None
    solution = Solution(start, result.solution.phases)
    return PlanResult(level, solution, checked_plan(level, solution), solution.status.value, None)


def known_infeasible(prep: Prepared, budget_cny: float, least: CapitalOutcome,
                     bounds: BudgetRows | None = None) -> LevelOutcome:
    """A level below the proven least capital: no plan meets the targets, so no solve is run."""
    level = at_budget(prep, budget_cny, bounds)
    if least.status == Status.INFEASIBLE.value:
        budget: dict[str, Any] = {"cause": None, "note": "the targets cannot be met even without a budget"}
    else:
        budget = {"cause": "budget", "least_capital": least.capital_cny, "least_capital_bound": least.bound_cny,
                  "capital_budget": budget_cny, "proven": least.proven}
    explanation = {"targets": target_limits(level.scenario, level.region, level.reach), "budget": budget,
                   "best_plan": "none: a sweep level below the least sufficient budget is not solved"}
    result = PlanResult(level, Solution(None, ()), None, Status.INFEASIBLE.value, explanation)
    return LevelOutcome(budget_cny, plan_document(result), None, 0.0)


def capital_solve(prep: Prepared, kind: str, start: FloatArray | None,
                  bounds: BudgetRows | None = None) -> CapitalOutcome:
    """The least budget meeting every target (``least``), or the unlimited-budget plan (``unlimited``).

    The budget's rows (`bounds`, default the capital row C6) are lifted. ``least`` minimises the
    last of them (the capital row, a year's, or with scaled years the total), ``unlimited`` runs the
    levels' own phases. The outcome's capital is the least budget its plan fits (`BudgetRows.needed`).
    """
    began = time.perf_counter()
    bounds = bounds or one_year(prep)
    free = _capital_model(prep.model, bounds, every_target=kind == LEAST, least_capital=kind == LEAST)
    # No greedy top-up without a cap here: from a start that opens nearly every site, HiGHS 1.15.1
    # returned a cost phase labelled optimal far above plans the levels then found (5,000-unit city).
    solver = prep.scenario.solver
    options, _ = solve_options(solver, start=start)   # each level's plan notes a cap on threads
    objective = "min_cost" if kind == LEAST else "max_coverage"
    elastic = prep.scenario.elastic and kind == UNLIMITED
    solution = run_phases(free, backend=solver.backend, objective=objective, elastic=elastic, options=options)
    cost_phase, coverage_phase = solution.phase("cost"), solution.phase("coverage")
    bound = cost_phase.result.bound if kind == LEAST and cost_phase is not None else None
    if solution.x is None:
        return CapitalOutcome(kind, solution.status.value, None, None, bound, [], None,
                              time.perf_counter() - began)
    pairs = decode_pairs(prep, free, solution.x)
    lifted = replace(prep, scenario=bounds.scenario_lifted(prep.scenario))
    checked = _checked(lifted, free, solution.x, every_target=kind == LEAST)
    coverage_bound = None
    if coverage_phase is not None and coverage_phase.result.bound is not None:
        coverage_bound = -float(coverage_phase.result.bound)   # the phase minimises minus coverage
    needed = _needed(bounds, checked)
    exact = kind != LEAST or not bounds.scale_years or needed <= float(checked.cost["capital"]) + 1e-6
    least_of = needed if bounds.year is not None else float(checked.cost["capital"])   # what `least` minimised
    truth = least_of if kind == LEAST else money_objective(prep, checked)
    exact = exact and _claim_holds(free, solution.x, truth, prep.scenario.solver.mip_gap)
    return CapitalOutcome(kind, solution.status.value, needed, checked.cost["annual"], bound,
                          pairs, solution.x, time.perf_counter() - began, _coverage(lifted, checked),
                          coverage_bound, solution if kind == UNLIMITED else None, exact)


def _claim_holds(free: PlanModel, x: FloatArray, truth: float, mip_gap: float) -> bool:
    """Whether the solver's cost of its plan agrees with the checker's (`truth`) as an optimum to
    `mip_gap` must, the rule of `optimizer.plan`'s final check: never below it, above it by at most
    a saving the solver may leave unclaimed within its gap. Otherwise the outcome is not `proven`
    and never reused."""
    model = float(free.cost_c @ x)
    tol = 1e-6 * max(1.0, abs(truth))
    return truth - tol <= model <= truth + tol + mip_gap * abs(truth)


def _needed(bounds: BudgetRows, checked: CheckedPlan) -> float:
    """The least budget the checked plan fits, from the checker's spending: the capital, the
    swept year's, or the largest of the total and each year's spending over its share."""
    if not bounds.phased:
        return float(checked.cost["capital"])
    spent = {int(year): float(entry["capital"]) for year, entry in (checked.years or {}).items()}
    if bounds.year is not None:
        return spent[bounds.year]
    shares = bounds.factors[:-1]
    return max(float(checked.cost["capital"]), *(spent[y] / f for y, f in zip(bounds.years, shares, strict=True)))


def _coverage(prep: Prepared, checked: CheckedPlan) -> float:
    """The `max_coverage` objective of a checked plan: phased, summed over the planning years."""
    if checked.years:
        return float(sum(entry["weighted_coverage"] for entry in checked.years.values()))
    return weighted_coverage(prep, checked)


def _capital_model(model: PlanModel, bounds: BudgetRows, *, every_target: bool, least_capital: bool) -> PlanModel:
    """The budget's rows lifted; with `least_capital` the objective is the last of them; with
    `every_target`, shortfall (C9) <= 0. Without `least_capital` the cost objective stays the
    levels' own (total cost)."""
    row_ub = bounds.lifted(model.milp.row_ub)
    if every_target:
        row_ub[model.shortfall_row] = 0.0
    lifted = replace(model, milp=model.milp.with_row_bounds(model.milp.row_lb, row_ub))
    if not least_capital:
        return lifted
    capital_c = np.asarray(model.milp.A[[bounds.rows[-1]], :].toarray()[0], dtype=np.float64)
    return replace(lifted, cost_c=capital_c)


def _checked(lifted: Prepared, free: PlanModel, x: FloatArray, *, every_target: bool) -> CheckedPlan:
    """The checker on a capital solve's plan (its budget's caps lifted); it must meet every target
    when asked to."""
    scenario, region, base_dir = lifted.scenario, lifted.region, lifted.base_dir
    if free.schedule is not None:
        checked = check_phased(scenario, region, base_dir, *decode_schedule(lifted, free, x))
    else:
        checked = check_plan(scenario, region, base_dir, decode_pairs(lifted, free, x))
    problems = list(checked.violations)
    if every_target and not checked.targets_met:
        problems.append("the least-capital plan meets every target row but the checker finds a target "
                        "unmet: " + ", ".join(str(t["index"]) for t in checked.targets if not t["met"]))
    if problems:
        raise CheckFailedError([Problem("sweep least sufficient budget", text) for text in problems])
    return checked


def fits(outcome: CapitalOutcome | None, budget_cny: float) -> bool:
    """Whether the unlimited-budget plan `outcome` is, provably, the plan of the level at `budget_cny`.

    The level's phases are the unlimited solve's, with the budget's rows ``<= factor × budget``
    added, so every plan of the level is a plan of the unlimited solve. When the unlimited plan
    Q fits the budget (`BudgetRows.needed`), Q is also one of the level's plans. Q was proven
    optimal, phase by phase, over the larger set: least shortfall (``--elastic``), then most
    coverage (nothing covers more at any budget), then least cost at that coverage. Being a plan
    of the smaller set, it is optimal there too, phase by phase, within the same MIP gap, and the
    unlimited solve's bounds hold for the level. A plan only found by a time-limited solve proves
    nothing, and is not used.
    """
    if outcome is None or outcome.kind != UNLIMITED or outcome.solution is None or outcome.capital_cny is None:
        return False
    return outcome.proven and outcome.capital_cny <= budget_cny + 1e-6


def reused_level(prep: Prepared, budget_cny: float, unlimited: CapitalOutcome,
                 bounds: BudgetRows | None = None) -> LevelOutcome:
    """The level at `budget_cny` from the unlimited-budget plan that `fits` it: checked, not solved."""
    began = time.perf_counter()
    assert fits(unlimited, budget_cny) and unlimited.solution is not None
    level = at_budget(prep, budget_cny, bounds)
    solution = unlimited.solution
    result = PlanResult(level, solution, checked_plan(level, solution), solution.status.value, None)
    document = plan_document(result)
    document["reused"] = True
    document["notes"].append(
        f"not solved again: the unlimited-budget plan (capital {unlimited.capital_cny:,.0f} yuan), proven optimal "
        "with no capital cap, fits this budget, so it is this level's optimum too (the solver figures are that "
        "solve's); checked at this budget like every plan")
    return LevelOutcome(budget_cny, document, solution.x, time.perf_counter() - began)


def cheapest_facility_cny(prep: Prepared, bounds: BudgetRows | None = None) -> float:
    """Capital of the cheapest thing the budget buys (a new facility; phased, also beds): a smaller
    budget buys nothing new. The last of the budget's rows (default the capital row C6)."""
    bounds = bounds or one_year(prep)
    row = prep.model.milp.A[[bounds.rows[-1]], :].toarray()[0] / bounds.factors[-1]
    priced = row[row > 0]
    return float(priced.min()) if len(priced) else 0.0


def start_from_pairs(prep: Prepared, pairs: list[tuple[Any, str]]) -> FloatArray:
    """A start vector from open (site id, type) pairs, e.g. a finished level's ``plan.json``."""
    model, region = prep.model, prep.region
    index = np.full((region.sites.n, len(region.type_names)), -1, dtype=np.int64)
    index[model.y_site, model.y_type] = np.arange(len(model.y_site))
    position = {str(site_id): s for s, site_id in enumerate(region.sites.ids)}
    y_values = np.zeros(len(model.y_site))
    for site_id, type_name in pairs:
        s = position.get(str(site_id))
        t = region.type_names.index(type_name) if type_name in region.type_names else -1
        if s is not None and t >= 0 and index[s, t] >= 0:
            y_values[index[s, t]] = 1.0
    return start_from_open(prep, y_values)


def budget_label(budget_cny: float) -> str:
    """Folder name of a level: whole yuan, rounded up so that it never understates the budget."""
    return f"budget_{math.ceil(budget_cny - 1e-6):d}"
