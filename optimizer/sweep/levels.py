"""What a sweep worker computes: one capital budget level, or one of the two capital solves.

A sweep prepares the scenario once (`prepare_sweep`: objective `max_coverage`); every task
below receives that `Prepared` and changes row bounds only (`Milp.with_row_bounds`):

- ``level``: the `max_coverage` plan within capital budget B, row (C6) ``<= B``, checked
  by the independent checker like every plan (`optimizer.plan.solve_prepared`);
- ``least``: the least capital meeting every target, row (C6) lifted, shortfall level (C9)
  ``<= 0`` in elastic mode, objective = the capital row's coefficients;
- ``unlimited``: the level's own phases with row (C6) lifted (most coverage, then least total
  cost): the *unlimited-budget plan*. When proven optimal it is the answer of every level whose
  budget it fits (`reused_level`): such a level is not solved again (see `reused_level`).

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
from optimizer.errors import CheckFailedError, Problem
from optimizer.model.build import PlanModel
from optimizer.plan import (
    PlanResult,
    Prepared,
    checked_plan,
    decode_pairs,
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
    """

    kind: str
    budget_cny: float | None = None
    start: FloatArray | None = None
    greedy: bool = True
    fresh: bool = False


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
        The checker's weighted coverage of the plan (the `max_coverage` objective).
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

    @property
    def proven(self) -> bool:
        """Whether the solve proved its capital least (within the MIP gap)."""
        return self.status == Status.OPTIMAL.value


def prepare_sweep(scenario: Scenario, base_dir: Any, *, elastic: bool) -> Prepared:
    """Load and build once, as `max_coverage` (and elastic when asked): every level re-uses it."""
    update: dict[str, Any] = {"objective": "max_coverage", "elastic": elastic or scenario.elastic}
    return prepare(scenario.model_copy(update=update), base_dir)


def run_task(prep: Prepared, task: LevelTask) -> LevelOutcome | CapitalOutcome:
    """Run one task on `prep` (the function process pools and Dask workers call)."""
    if task.kind == LEVEL:
        assert task.budget_cny is not None
        return run_level(prep, task.budget_cny, task.start, greedy=task.greedy, fresh=task.fresh)
    if task.kind in (LEAST, UNLIMITED):
        return capital_solve(prep, task.kind, task.start)
    raise ValueError(f"`task.kind`: unknown sweep task '{task.kind}'")


def at_budget(prep: Prepared, budget_cny: float) -> Prepared:
    """`prep` with capital budget `budget_cny`: row (C6) and the scenario the checker reads."""
    model = prep.model
    row_ub = model.milp.row_ub.copy()
    row_ub[model.capital_row] = budget_cny
    budget = prep.scenario.budget.model_copy(update={"capital": budget_cny})
    scenario = prep.scenario.model_copy(update={"budget": budget})
    milp = model.milp.with_row_bounds(model.milp.row_lb, row_ub)
    return replace(prep, scenario=scenario, model=replace(model, milp=milp))


def run_level(prep: Prepared, budget_cny: float, start: FloatArray | None, *,
              greedy: bool = True, fresh: bool = False) -> LevelOutcome:
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
    """
    began = time.perf_counter()
    if greedy and (start is not None or prep.scenario.elastic):
        start = greedy_fill(prep, start, budget_cny)
    level = at_budget(prep, budget_cny)
    if fresh:
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


def known_infeasible(prep: Prepared, budget_cny: float, least: CapitalOutcome) -> LevelOutcome:
    """A level below the proven least capital: no plan meets the targets, so no solve is run."""
    level = at_budget(prep, budget_cny)
    if least.status == Status.INFEASIBLE.value:
        budget: dict[str, Any] = {"cause": None, "note": "the targets cannot be met even without a budget"}
    else:
        budget = {"cause": "budget", "least_capital": least.capital_cny, "least_capital_bound": least.bound_cny,
                  "capital_budget": budget_cny, "proven": least.proven}
    explanation = {"targets": target_limits(level.scenario, level.region, level.reach), "budget": budget,
                   "best_plan": "none: a sweep level below the least sufficient budget is not solved"}
    result = PlanResult(level, Solution(None, ()), None, Status.INFEASIBLE.value, explanation)
    return LevelOutcome(budget_cny, plan_document(result), None, 0.0)


def capital_solve(prep: Prepared, kind: str, start: FloatArray | None) -> CapitalOutcome:
    """The least capital meeting every target (``least``), or the unlimited-budget plan (``unlimited``)."""
    began = time.perf_counter()
    free = _capital_model(prep.model, every_target=kind == LEAST, least_capital=kind == LEAST)
    if kind == UNLIMITED and not prep.scenario.elastic:
        # Topped up greedily without a cap, the start covers what any budget covers (on most models)
        # at a modest capital: the cost phase then starts near the least cost, not from a plan that
        # opens every site (a time-limited cost phase can leave such a plan almost unchanged).
        start = greedy_fill(prep, start, math.inf)
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
    checked = _checked(prep, pairs, every_target=kind == LEAST)
    coverage_bound = None
    if coverage_phase is not None and coverage_phase.result.bound is not None:
        coverage_bound = -float(coverage_phase.result.bound)   # the phase minimises minus coverage
    return CapitalOutcome(kind, solution.status.value, checked.cost["capital"], checked.cost["annual"], bound,
                          pairs, solution.x, time.perf_counter() - began, weighted_coverage(prep, checked),
                          coverage_bound, solution if kind == UNLIMITED else None)


def _capital_model(model: PlanModel, *, every_target: bool, least_capital: bool) -> PlanModel:
    """Capital row (C6) lifted; with `least_capital` objective = capital; with `every_target`,
    shortfall (C9) <= 0. Without `least_capital` the cost objective stays the levels' own (total cost)."""
    row_ub = model.milp.row_ub.copy()
    row_ub[model.capital_row] = np.inf
    if every_target:
        row_ub[model.shortfall_row] = 0.0
    lifted = replace(model, milp=model.milp.with_row_bounds(model.milp.row_lb, row_ub))
    if not least_capital:
        return lifted
    capital_c = np.asarray(model.milp.A[[model.capital_row], :].toarray()[0], dtype=np.float64)
    return replace(lifted, cost_c=capital_c)


def _checked(prep: Prepared, pairs: list[tuple[Any, str]], *, every_target: bool) -> CheckedPlan:
    """The checker on a capital solve's plan (no capital budget); it must meet every target when asked to."""
    budget = prep.scenario.budget.model_copy(update={"capital": None})
    scenario = prep.scenario.model_copy(update={"budget": budget})
    checked = check_plan(scenario, prep.region, prep.base_dir, pairs)
    problems = list(checked.violations)
    if every_target and not checked.targets_met:
        problems.append("the least-capital plan meets every target row but the checker finds a target "
                        "unmet: " + ", ".join(str(t["index"]) for t in checked.targets if not t["met"]))
    if problems:
        raise CheckFailedError([Problem("sweep least sufficient budget", text) for text in problems])
    return checked


def fits(outcome: CapitalOutcome | None, budget_cny: float) -> bool:
    """Whether the unlimited-budget plan `outcome` is the plan of the level at `budget_cny`, by proof.

    The level's phases are the unlimited solve's, with capital row (C6) ``<= budget_cny`` added,
    so every plan of the level is a plan of the unlimited solve. When the unlimited plan Q's
    capital fits the budget, Q is also one of the level's plans. Then, phase by phase:

    - every phase before the last that the unlimited solve proved optimal (least shortfall with
      ``--elastic``, most coverage) is optimal for the level too: nothing does better at any
      budget, and Q reaches it here; so the level fixes the same levels as the unlimited solve;
    - the last phase (least cost at that coverage): the unlimited solve's proven bound is a bound
      for the level (its plans are a subset), so Q is optimal for the level when proven optimal
      there, and otherwise within the same proven gap as the unlimited solve (its status says
      so, as a level solve stopped by its time limit would).

    Used only when every phase before the last was proven optimal: otherwise the level could
    cover more than Q and is solved.
    """
    if outcome is None or outcome.kind != UNLIMITED or outcome.solution is None or outcome.capital_cny is None:
        return False
    phases = outcome.solution.phases
    earlier_proven = bool(phases) and all(p.result.status == Status.OPTIMAL for p in phases[:-1])
    return earlier_proven and phases[-1].result.status.has_solution and outcome.capital_cny <= budget_cny + 1e-6


def reused_level(prep: Prepared, budget_cny: float, unlimited: CapitalOutcome) -> LevelOutcome:
    """The level at `budget_cny` from the unlimited-budget plan that `fits` it: checked, not solved."""
    began = time.perf_counter()
    assert fits(unlimited, budget_cny) and unlimited.solution is not None
    level = at_budget(prep, budget_cny)
    solution = unlimited.solution
    result = PlanResult(level, solution, checked_plan(level, solution), solution.status.value, None)
    document = plan_document(result)
    document["reused"] = True
    cost = solution.phases[-1].result
    why = ("proven optimal with no capital cap, so it is this level's optimum too" if unlimited.proven else
           f"its coverage proven the most any budget buys; its cost within that solve's proven bound (gap "
           f"{100 * (cost.gap or 0.0):.2f}%), which bounds this level too")
    document["notes"].append(
        f"not solved again: the unlimited-budget plan (capital {unlimited.capital_cny:,.0f} yuan) fits this budget, "
        f"{why} (the solver figures are that solve's); checked at this budget like every plan")
    return LevelOutcome(budget_cny, document, solution.x, time.perf_counter() - began)


def cheapest_facility_cny(prep: Prepared) -> float:
    """Capital of the cheapest new facility: a smaller budget buys nothing new."""
    model = prep.model
    y = model.milp.var_block("y")
    row = model.milp.A[[model.capital_row], :].toarray()[0][y.start:y.stop]
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
