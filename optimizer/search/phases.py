"""Run the model through a backend in lexicographic phases and decode the open facilities.

Phases (each a solve of the same arrays with another objective):
0. `min_radius`: the least radius (`optimizer.search.radius`); its covering rows stay in the
   model for the phases after it;
1. elastic mode: least weighted shortfall; the shortfall level row (C9) is then fixed;
2. `max_coverage`: most weighted coverage; the coverage level row (C8) is then fixed;
   `min_distance` (without a yuan price): least weighted distance; row (C10) is then fixed (a
   p-median goes to the p-median engine, `optimizer.search.pmedian_phase`);
3. least total cost.
Each phase starts from the previous phase's solution, which is feasible for it. The caller's
``options.presolve`` applies to the first phase, the one given the caller's start; later phases
always presolve (without it HiGHS spends a short remaining limit completing its start and
overruns the limit).
A branch-and-bound backend on a large model (`Tuning.greedy_start_size`) starts from the greedy
plan and gets `1 - Tuning.polish_share` of a phase: a plan it leaves unproven is improved by the
shared search in the rest (`optimizer.search.polish`). A model whose set-up a backend with the
`slow_set_up` capability could not finish in its time is planned by the hand-over strategy
instead (`_beyond_set_up`), and a solver that returns no plan leaves the phase its feasible
start (`_start_if_none`). Every decision here asks for a capability, not a backend's name.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.model.build import PlanModel
from optimizer.model.milp import Milp
from optimizer.progress import Progress, Throttle
from optimizer.search.backends import capabilities, handover_strategy, run_backend
from optimizer.search.decompose import solve_in_parts
from optimizer.search.greedy import greedy_plan, handles
from optimizer.search.phased_start import phased_start
from optimizer.search.pmedian_phase import BACKEND as PMEDIAN_BACKEND
from optimizer.search.pmedian_phase import pmedian_phase, with_phase_note
from optimizer.search.polish import polish, with_covering_bound
from optimizer.search.radius import radius_phase
from optimizer.solvers.base import BRANCH_AND_BOUND, SLOW_SET_UP, SolveOptions, SolveResult, Status, relative_gap
from optimizer.tuning import TUNING, Tuning

# A later phase that ends with one of these keeps the earlier phase's plan (CP-SAT reports a stop
# inside a short remaining limit as UNKNOWN).
_OUT_OF_TIME = (Status.TIME_LIMIT_NO_SOLUTION, Status.UNKNOWN)
HINT = "hint: "   # the start of a solver note the CLI prints under the status line


@dataclass(frozen=True)
class Phase:
    """One solve of the sequence."""

    name: str
    result: SolveResult


@dataclass(frozen=True)
class Solution:
    """What the phases produced: the last solution vector, and every phase's result."""

    x: npt.NDArray[np.float64] | None
    phases: tuple[Phase, ...]

    @property
    def time_limited(self) -> bool:
        """Whether any phase stopped on its time limit."""
        return any(p.result.time_limited for p in self.phases)

    @property
    def status(self) -> Status:
        """The weakest status of the sequence."""
        for phase in self.phases:
            if not phase.result.status.has_solution:
                if self.x is not None and phase.result.status in _OUT_OF_TIME:
                    return Status.TIME_LIMIT_FEASIBLE   # an earlier phase's plan stands
                return phase.result.status
        if self.time_limited:
            return Status.TIME_LIMIT_FEASIBLE
        if any(p.result.status == Status.HEURISTIC for p in self.phases):
            return Status.HEURISTIC
        return Status.OPTIMAL

    def phase(self, name: str) -> Phase | None:
        """The phase called `name`, if it ran."""
        return next((p for p in self.phases if p.name == name), None)


def run_phases(pm: PlanModel, *, backend: str, objective: str, elastic: bool,
               options: SolveOptions, progress: Progress | None = None) -> Solution:
    """Solve `pm` lexicographically: shortfall (elastic), coverage (max_coverage), cost.

    `progress` hears each phase start and its best plan and bound as they improve
    (`optimizer.progress`: stage ``solve``, state ``update``), in the planner's terms.
    """
    deadline = time.perf_counter() + options.time_limit_s
    milp, start, tuning = pm.milp, options.start, options.tuning
    abilities = capabilities(backend)
    phases: list[Phase] = []
    if objective == "min_radius":   # the least radius first; later phases keep its covering rows
        share = 1.0 - tuning.radius_cost_share if np.any(pm.cost_c) else 1.0
        radius_deadline = time.perf_counter() + share * (deadline - time.perf_counter())
        radius = radius_phase(pm, milp, backend, options, radius_deadline)
        phases.append(Phase("radius", radius.result))
        if radius.result.x is None:
            return Solution(None, tuple(phases))
        milp, start = radius.milp, radius.result.x
    plan = _phase_plan(pm, objective=objective, elastic=elastic)
    large = BRANCH_AND_BOUND in abilities and milp.n_vars + milp.n_rows >= tuning.greedy_start_size
    for k, (name, c) in enumerate(plan):
        phase_milp = milp.with_objective(c, 0.0)
        phase_deadline = _phase_deadline(deadline, last=k == len(plan) - 1, tuning=tuning)
        phase_options = replace(options, start=start)
        if progress is not None:
            progress({"stage": "solve", "state": "update", "phase": name})
            phase_options = replace(phase_options, on_incumbent=Throttle(_planner_terms(progress, name)))
        result = _start_kept(phase_milp, start, backend)
        if result is None and name == "distance":   # the engine keeps its own share for a cost phase
            result = _pmedian(pm, phase_milp, backend, phase_options, deadline, cost_follows=bool(np.any(pm.cost_c)))
        by_engine = result is not None and result.backend == PMEDIAN_BACKEND
        if result is None and large:
            result = _beyond_set_up(phase_milp, backend, abilities, phase_options, phase_deadline,
                                    last=name == plan[-1][0])
        if result is None:
            start, result = _solver_phase(pm, phase_milp, backend, phase_options, phase_deadline, large,
                                          presolve=options.presolve or bool(phases))
        if large and not by_engine:   # a useless bound first (it sets the polish's goal), then the polish
            result, reduced_costs = with_covering_bound(phase_milp, result, options.time_limit_s, phase_deadline,
                                                        tuning=tuning)
            result = polish(phase_milp, result, phase_deadline, options.mip_gap, tuning=tuning,
                            reduced_costs=reduced_costs)
            result = with_backend_hint(phase_milp, result, abilities, tuning=tuning)
        phases.append(Phase(name, result))
        if progress is not None:
            _planner_terms(progress, name, ended=True)(result.objective, result.bound)
        if not result.status.has_solution or result.x is None:
            # A later phase out of time keeps the earlier phase's plan (its start, feasible here).
            kept = start if len(phases) > 1 and result.status in _OUT_OF_TIME else None
            return Solution(kept, tuple(phases))
        start = result.x
        milp = _fix_phase(milp, pm, name, result.x)
    return Solution(start, tuple(phases))


def _phase_plan(pm: PlanModel, *, objective: str, elastic: bool) -> list[tuple[str, Any]]:
    """The phases after any radius phase, each with its objective, in lexicographic order."""
    plan: list[tuple[str, Any]] = []
    if elastic:
        plan.append(("shortfall", pm.shortfall_c))
    if objective == "max_coverage":
        plan.append(("coverage", pm.coverage_c))
    if objective == "min_distance":
        plan.append(("distance", pm.distance_c))
    plan.append(("cost", pm.cost_c))
    return plan


def _planner_terms(progress: Progress, phase: str, *,
                   ended: bool = False) -> Callable[[float | None, float | None], None]:
    """Report a phase's (objective, bound) as the planner reads them: coverage phases maximise
    coverage (the model minimises minus coverage); the others minimise what they name. `ended`:
    the phase's result (``"ended": true``), not a report from its search."""
    sign = -1.0 if phase == "coverage" else 1.0

    def report(objective: float | None, bound: float | None) -> None:
        best = None if objective is None else sign * objective
        limit = None if bound is None else sign * bound
        progress({"stage": "solve", "state": "update", "phase": phase, "objective": best, "bound": limit,
                  "gap": None if best is None or limit is None else relative_gap(best, limit), "ended": ended})

    return report


def _pmedian(pm: PlanModel, milp: Milp, backend: str, options: SolveOptions, deadline: float, *,
             cost_follows: bool) -> SolveResult | None:
    """A distance phase that is a p-median, by the p-median engine (`optimizer.search.pmedian`),
    leaving `Tuning.pmedian_cost_share` of the time to a cost phase that has costs to weigh."""
    share = 1.0 - options.tuning.pmedian_cost_share if cost_follows else 1.0
    result = pmedian_phase(pm, milp, options, time.perf_counter() + share * (deadline - time.perf_counter()))
    return None if result is None else with_phase_note(result, backend)


def with_backend_hint(milp: Milp, result: SolveResult, abilities: frozenset[str], *,
                      tuning: Tuning = TUNING) -> SolveResult:
    """`result` with a note naming the `lagrangian` backend where a branch-and-bound solver (its
    `abilities`) stopped at its limit more than `tuning.hint_gap` from its bound on a model the
    lagrangian strategy plans: without branch and bound it usually ends much closer in the same
    time on large covering models (`bench/RESULTS.md`, synthetic cities)."""
    unproven = (result.status == Status.TIME_LIMIT_FEASIBLE and result.gap is not None
                and result.gap > tuning.hint_gap)
    if not unproven or BRANCH_AND_BOUND not in abilities or not handles(milp):
        return result
    assert result.gap is not None   # `unproven` says so
    hint = (f"{HINT}{result.backend} ended at its time limit {100 * result.gap:.1f}% from its bound. On large "
            "covering models the lagrangian backend (--backend lagrangian, or \"backend\": \"lagrangian\" under "
            "\"solver\" in the scenario) searches without branch and bound and usually ends much closer in "
            "the same time (see bench/RESULTS.md)")
    return replace(result, notes=(*result.notes, hint))


def _start_kept(milp: Milp, start: npt.NDArray[np.float64] | None, backend: str) -> SolveResult | None:
    """A phase with nothing to optimise (every objective coefficient zero, as the cost phase of a
    maximal-covering plan whose sites cost nothing) keeps its start when that is feasible: no
    solver call, not even the backend's LP for a bound of 0."""
    if start is None or np.any(milp.c) or not milp.is_feasible(start):
        return None
    return SolveResult(Status.OPTIMAL, start, milp.offset, milp.offset, 0.0, 0.0, None, False, backend,
                       "every objective coefficient is zero: the start is optimal")


def _solver_phase(pm: PlanModel, milp: Milp, backend: str, options: SolveOptions, deadline: float, large: bool, *,
                  presolve: bool) -> tuple[npt.NDArray[np.float64] | None, SolveResult]:
    """(start, result) of one phase by `backend`: a large model gets the greedy plan as its start
    where it has none (`Tuning.greedy_start_swap_share` of the time for swaps; a phased model the
    scheduled plan of `optimizer.search.phased_start`) and the solver `1 - Tuning.polish_share`
    of the time left; a solver that returns no plan leaves the phase that start (`_start_if_none`)."""
    start, tuning = options.start, options.tuning
    if start is None and large:   # None if outside the heuristic
        swaps_s = tuning.greedy_start_swap_share * options.time_limit_s
        start = (greedy_plan(milp, time_limit_s=swaps_s) if pm.schedule is None
                 else phased_start(milp, pm.schedule, pm.x_type, time_limit_s=swaps_s))
    phase_options = replace(options, time_limit_s=_solver_seconds(deadline, large, tuning, phased=_phased(pm)),
                            start=start,
                            presolve=presolve)
    return start, _start_if_none(milp, _solve(backend, milp, phase_options), start)


def _beyond_set_up(milp: Milp, backend: str, abilities: frozenset[str], options: SolveOptions, deadline: float,
                   *, last: bool) -> SolveResult | None:
    """A large model whose set-up would take a backend with the `slow_set_up` capability more
    than `Tuning.set_up_share` of the time it would get (`_set_up_seconds`), planned by the
    hand-over strategy instead (`optimizer.search.backends.handover_strategy`), from
    `options.start` where given (its core and window MIPs are small and run on HiGHS). The last
    phase's search takes all the time left (nothing polishes after it), an earlier phase the
    solver's share; no greedy start is built first, since the strategy builds its own. None
    where the solver is expected to start its search in time, or the model is outside the
    strategy."""
    tuning = options.tuning
    if SLOW_SET_UP not in abilities or not handles(milp):
        return None
    left, solver_s = deadline - time.perf_counter(), _solver_seconds(deadline, True, tuning)
    expected = _set_up_seconds(milp, tuning)
    if expected <= tuning.set_up_share * solver_s:
        return None
    strategy = handover_strategy()
    result = strategy.solve(milp, replace(options, time_limit_s=left if last else solver_s))
    note = (f"{backend} was not run: setting up this model ({milp.A.nnz:,} nonzeros) takes it about "
            f"{expected:.0f} s, out of reach of its time limit, and would leave its search little or nothing "
            f"of its {solver_s:.0f} s; the {strategy.name} backend planned it instead (its core and window MIPs "
            "run on HiGHS)")
    return replace(result, notes=(note, *result.notes))


def _phase_deadline(deadline: float, *, last: bool, tuning: Tuning) -> float:
    """When a phase must end: the last at the deadline; an earlier one leaves the later phases
    `Tuning.later_phases_share` of the time left."""
    if last:
        return deadline
    now = time.perf_counter()
    return now + max(0.0, deadline - now) * (1.0 - tuning.later_phases_share)


def _solver_seconds(deadline: float, large: bool, tuning: Tuning, *, phased: bool = False) -> float:
    """A phase's time for its solver: all that is left, less the polish's share on a large model
    (`Tuning.phased_polish_share` where it is planned over several years)."""
    held = tuning.phased_polish_share if phased else tuning.polish_share
    return max(1.0, (deadline - time.perf_counter()) * (1.0 - held if large else 1.0))


def _phased(pm: PlanModel) -> bool:
    """Whether `pm` is planned over several years."""
    return pm.schedule is not None and len(pm.schedule.years) > 1


def _set_up_seconds(milp: Milp, tuning: Tuning) -> float:
    """A guess at the seconds a `slow_set_up` backend spends on `milp` before its search starts:
    ``Tuning.set_up_seconds * (nonzeros / 10^6) ** Tuning.set_up_power``."""
    return float(tuning.set_up_seconds * (milp.A.nnz / 1e6) ** tuning.set_up_power)


def _start_if_none(milp: Milp, result: SolveResult, start: npt.NDArray[np.float64] | None) -> SolveResult:
    """A solver out of time before it had a plan of its own leaves the phase the feasible start it
    was given, with its bound where it had one (HiGHS can spend a short limit completing the
    start's continuous columns and return nothing): a checked plan is never dropped. The polish
    then improves it."""
    if result.status not in _OUT_OF_TIME or start is None or not milp.is_feasible(start):
        return result
    objective = float(milp.c @ start + milp.offset)
    bound = result.bound if result.bound is not None and np.isfinite(result.bound) else None
    note = f"{result.backend} found no plan in its {result.seconds:.0f} s: the plan it started from is kept"
    return replace(result, status=Status.TIME_LIMIT_FEASIBLE, x=np.asarray(start, dtype=np.float64),
                   objective=objective, bound=bound, gap=relative_gap(objective, bound), time_limited=True,
                   notes=(*result.notes, note))


def _solve(backend: str, milp: Milp, options: SolveOptions) -> SolveResult:
    """One phase: part by part when the model falls apart (`optimizer.search.decompose`), else whole."""
    parts = solve_in_parts(lambda m, o: run_backend(backend, m, o), milp, options)
    return parts if parts is not None else run_backend(backend, milp, options)


def _fix_phase(milp: Milp, pm: PlanModel, name: str, x: npt.NDArray[np.float64]) -> Milp:
    """Keep what a phase achieved while later phases optimise something else."""
    row_lb, row_ub = milp.row_lb.copy(), milp.row_ub.copy()
    if name == "shortfall":
        level = float(pm.shortfall_c @ x)
        if level < 1e-7:   # every target met: hold each shortfall at zero by its bound
            # (HiGHS 1.15.1 presolve declared "sum p_k sf_k <= 1e-6" with p_k up to 1e6
            # infeasible on a model whose zero-shortfall plan it had just found.)
            return replace(milp, ub=np.where(pm.shortfall_c > 0, 0.0, milp.ub))
        row_ub[pm.shortfall_row] = level + 1e-9 * (1.0 + abs(level))   # weights are >= 1e-6
    elif name == "coverage":
        row_lb[pm.coverage_row] = _coverage_floor(pm.coverage_c, x)
    elif name == "distance":
        level = float(pm.distance_c @ x)
        row_ub[pm.distance_row] = level + _slack(level)
    return milp.with_row_bounds(row_lb, row_ub)


def _coverage_floor(coverage_c: npt.NDArray[np.float64], x: npt.NDArray[np.float64]) -> float:
    """The lower side of the coverage level row (C8) once the coverage phase reached `x`.

    Integer weights (unit counts, head counts) make every plan's coverage an integer: half a
    unit below the level keeps exactly the plans of equal coverage, whatever the solver's noise
    in `x`. A side a hair below the level is not safe: on the Pingyin county (level 219,728,
    weights up to 10,036) HiGHS 1.15.1 given 1e-6 to 1e-3 below it called the cost phase
    infeasible or proved dearer plans optimal (254.3 M and 150.9 M yuan "optimal" where
    147.2 M exists; tests/test_coverage_level.py), exact or 0.01 below it solved right.
    Other weights keep the tiny slack of `_slack`: no margin is exact for them.
    """
    weights = -coverage_c[coverage_c != 0]
    level = float(-coverage_c @ x)
    if np.array_equal(weights, np.round(weights)):
        return round(level) - 0.5
    return level - _slack(level)


def _slack(level: float) -> float:
    """Room left when a phase's level is fixed: solver noise only, never a whole unit of anything
    (the relative part is kept tiny: on a large level a looser one lets HiGHS trade away a
    covered person)."""
    return 1e-6 + 1e-9 * abs(level)


def open_facilities(pm: PlanModel, x: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(site index, type index) of every facility open in solution `x`."""
    y = x[pm.milp.var_block("y").start:pm.milp.var_block("y").stop]
    chosen = y > 0.5
    return pm.y_site[chosen], pm.y_type[chosen]


def assignments(pm: PlanModel, x: npt.NDArray[np.float64]) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(unit, site, type) index arrays and shares of every positive assignment in `x`."""
    z = x[pm.z_var]
    live = z > 1e-9
    return pm.z_unit[live], pm.z_site[live], pm.z_type[live], z[live]
