"""Run the model through a backend in lexicographic phases and decode the open facilities.

Phases (each a solve of the same arrays with another objective):
1. elastic mode: least weighted shortfall; the shortfall level row (C9) is then fixed;
2. `max_coverage`: most weighted coverage; the coverage level row (C8) is then fixed;
   `min_distance` (without a yuan price): least weighted distance; row (C10) is then fixed;
3. least total cost.
Each phase starts from the previous phase's solution, which is feasible for it. The caller's
``options.presolve`` applies to the first phase, the one given the caller's start; later phases
always presolve (HiGHS without presolve spends a short remaining limit completing its start, then
overruns the limit: 10-16 s against 1 s at 20,000 x 3,000; with presolve it stops on time).
Large models (`GREEDY_START_SIZE`) start from the greedy plan, and the solver gets half of a
phase's time (`_POLISH_SHARE`): a plan it leaves unproven at its limit is improved by core and
window re-solves in the rest (`_polished`), against the best bound. A model HiGHS or CP-SAT would
spend most of its time setting up is planned by the `lagrangian` backend instead (`_beyond_set_up`), and a solver that
returns no plan leaves the phase its feasible start (`_start_if_none`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.backends.base import SolveOptions, SolveResult, Status, gap_goal, relative_gap
from optimizer.backends.registry import run_backend
from optimizer.core_search import core_search, site_rank
from optimizer.decompose import solve_in_parts
from optimizer.dual_ascent import covering_bound
from optimizer.heuristic import greedy_plan, handles
from optimizer.lagrangian import evaluate, integral_bound
from optimizer.lns import improve
from optimizer.lp_relaxation import lp_method, solve_by
from optimizer.milp import Milp
from optimizer.model import PlanModel

# A later phase that ends with one of these keeps the earlier phase's plan. CP-SAT reports a
# stop inside a short remaining limit as UNKNOWN (seen at 50,000 x 5,000 MCLP).
_OUT_OF_TIME = (Status.TIME_LIMIT_NO_SOLUTION, Status.UNKNOWN)
# From this size (variables + rows) a solver gets the greedy plan (`optimizer.heuristic`) as its start:
# branch and bound on large covering models otherwise spends its time finding a first plan
# (HiGHS at 20,000 x 3,000 returned a plan 70% dearer than the greedy one after 120 s). Below
# it, solvers find plans at once and the greedy's second or so is not worth spending.
GREEDY_START_SIZE = 5_000
# Large models: the share of a phase's time held back from the solver, to polish a plan it leaves
# unproven by window re-solves (`optimizer.lns`); a solver that proves its plan sooner leaves it unused.
# Half: on the 20,000-unit city at 60 s HiGHS reached the same plan in 27 s as in 38 s, and the
# polish's extra 9 s fit the first-order LP (5.39% -> 1.35%); 5,000-unit city at 20 s 0.66% ->
# 0.28%, at 60 s 0.37% -> 0.32%; 20,000 x 3,000 set covering 411 / 390 either way, MCLP 2.32% -> 2.27%.
_POLISH_SHARE = 0.5
# A time-limited solver's own bound counts as useless beyond this gap; then the covering dual
# ascent's bound is computed (seconds at 20,000 x 3,000) and kept when better.
_USEFUL_GAP = 0.05
# Of the polish's time, the most its LP relaxation may be expected to take (`_lp_rank`)
_POLISH_LP_SHARE = 0.5
# The set-up of a large model with a start, before any search, which no time limit interrupts
# (`_set_up_seconds`). HiGHS completes the start's continuous columns, then presolves: 2.4 s at
# 977,434 nonzeros (the 20,000-unit city's main part, limit 1 s), 149 s at 14.7 million (the
# 100,000-unit city's, limit 30 s: presolve alone 120 s). CP-SAT: 1.7 s and 29 s to build its
# model, and at 14.7 million no plan of its own in the 26 s left of 55 s.
_SET_UP_SECONDS, _SET_UP_POWER = 2.4, 1.5
_SET_UP_BACKENDS = ("highs", "cpsat")
# The most of its time a solver's set-up may be expected to take; beyond, its search has too little
# left: 100,000 x 10,000 set covering (5.1 million nonzeros, about 27 s of HiGHS's 30) ended at
# 415 / 256 with HiGHS and 408 / 343 handed over; 100,000 x 10,000 MCLP 53.6 s unproven, and
# proven optimal in 14.6 s handed over.
_SET_UP_SHARE = 0.5


# A plan of a large model that `highs`, `cpsat` or a PuLP solver leaves further than this from its
# bound at the time limit gets a hint naming the `lagrangian` backend (`with_backend_hint`).
_HINT_GAP = 0.01
HINT = "hint: "   # the start of a solver note the CLI prints under the status line
# where the polish's bound came from, by `lp_relaxation.lp_method`'s method
_LP_SOURCE = {"interior": "the LP relaxation",
              "first-order": "the first-order LP (L at its duals: at most the LP relaxation's bound)"}


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
               options: SolveOptions) -> Solution:
    """Solve `pm` lexicographically: shortfall (elastic), coverage (max_coverage), cost."""
    deadline = time.perf_counter() + options.time_limit_s
    milp, start = pm.milp, options.start
    phases: list[Phase] = []
    plan: list[tuple[str, Any]] = []
    if elastic:
        plan.append(("shortfall", pm.shortfall_c))
    if objective == "max_coverage":
        plan.append(("coverage", pm.coverage_c))
    if objective == "min_distance":
        plan.append(("distance", pm.distance_c))
    plan.append(("cost", pm.cost_c))
    large = backend != "lagrangian" and milp.n_vars + milp.n_rows >= GREEDY_START_SIZE
    for name, c in plan:
        phase_milp = milp.with_objective(c, 0.0)
        result = _start_kept(phase_milp, start, backend) or (
            _beyond_set_up(phase_milp, backend, replace(options, start=start), deadline, last=name == plan[-1][0])
            if large else None)
        if result is None:
            start, result = _solver_phase(phase_milp, backend, replace(options, start=start), deadline, large,
                                          presolve=options.presolve or bool(phases))
        if large:   # a useless bound first (it sets the polish's goal), then the polish in the time left
            result, reduced_costs = _with_covering_bound(phase_milp, result, options.time_limit_s, deadline)
            result = with_backend_hint(phase_milp, _polished(phase_milp, result, deadline, options.mip_gap,
                                                             reduced_costs))
        phases.append(Phase(name, result))
        if not result.status.has_solution or result.x is None:
            # A later phase out of time keeps the earlier phase's plan (its start, feasible here).
            kept = start if len(phases) > 1 and result.status in _OUT_OF_TIME else None
            return Solution(kept, tuple(phases))
        start = result.x
        milp = _fix_phase(milp, pm, name, result.x)
    return Solution(start, tuple(phases))


def with_backend_hint(milp: Milp, result: SolveResult) -> SolveResult:
    """`result` with a note naming the `lagrangian` backend where a branch-and-bound solver
    stopped at its limit more than `_HINT_GAP` from its bound on a model the lagrangian backend
    plans. On the 20,000-unit benchmark city at 60 s `highs` ends 1.35% from its bound (5.3% with
    70% of the time for branch and bound) and `lagrangian` 0.9%. (At 100,000 units HiGHS cannot set
    the model up in time and `lagrangian` plans it: `_beyond_set_up`.)"""
    unproven = result.status == Status.TIME_LIMIT_FEASIBLE and result.gap is not None and result.gap > _HINT_GAP
    if not unproven or result.backend == "lagrangian" or not handles(milp):
        return result
    hint = (f"{HINT}{result.backend} ended at its time limit {100 * result.gap:.1f}% from its bound. On large "
            "covering models the lagrangian backend (--backend lagrangian, or \"backend\": \"lagrangian\" under "
            "\"solver\" in the scenario) searches without branch and bound and usually ends much closer in "
            "the same time: the 20,000-unit benchmark city at 60 s, 0.9% against 1.35% with highs")
    return replace(result, notes=(*result.notes, hint))


def _start_kept(milp: Milp, start: npt.NDArray[np.float64] | None, backend: str) -> SolveResult | None:
    """A phase with nothing to optimise (every objective coefficient zero, as the cost phase of a
    maximal-covering plan whose sites cost nothing) keeps its start when that is feasible: no
    solver call. The backend's LP for a bound of 0 took 0.3 s of a 2 s solve at 5,000 x 1,000."""
    if start is None or np.any(milp.c) or not milp.is_feasible(start):
        return None
    return SolveResult(Status.OPTIMAL, start, milp.offset, milp.offset, 0.0, 0.0, None, False, backend,
                       "every objective coefficient is zero: the start is optimal")


def _solver_phase(milp: Milp, backend: str, options: SolveOptions, deadline: float, large: bool, *,
                  presolve: bool) -> tuple[npt.NDArray[np.float64] | None, SolveResult]:
    """(start, result) of one phase by `backend`: a large model gets the greedy plan as its start
    where it has none (a tenth of the time for swaps) and the solver `1 - _POLISH_SHARE` of the
    time left; a solver that returns no plan leaves the phase that start (`_start_if_none`)."""
    start = options.start
    if start is None and large:   # None if outside the heuristic
        start = greedy_plan(milp, time_limit_s=0.1 * options.time_limit_s)
    phase_options = replace(options, time_limit_s=_solver_seconds(deadline, large), start=start, presolve=presolve)
    return start, _start_if_none(milp, _solve(backend, milp, phase_options), start)


def _beyond_set_up(milp: Milp, backend: str, options: SolveOptions, deadline: float, *,
                   last: bool) -> SolveResult | None:
    """A large model whose set-up would take HiGHS or CP-SAT more than `_SET_UP_SHARE` of the time
    it would get (`_set_up_seconds`), planned by the `lagrangian` backend instead, from `options.start` where
    given (its core and window MIPs run on HiGHS): on the 100,000-unit city at 60 s HiGHS, given
    33 s, spent 145 s setting up and returned its start, CP-SAT returned none. The last phase's
    search takes all the time left (nothing polishes after it), an earlier phase the solver's
    share; no greedy start is built first (at 100,000 units 6-9 s that `lagrangian` repeats).
    None where the solver is expected to start its search in time, or the model is outside
    `lagrangian`."""
    if backend not in _SET_UP_BACKENDS or not handles(milp):
        return None
    left, solver_s = deadline - time.perf_counter(), _solver_seconds(deadline, large=True)
    expected = _set_up_seconds(milp)
    if expected <= _SET_UP_SHARE * solver_s:
        return None
    result = run_backend("lagrangian", milp, replace(options, time_limit_s=left if last else solver_s))
    note = (f"{backend} was not run: setting up this model ({milp.A.nnz:,} nonzeros) takes it about "
            f"{expected:.0f} s, out of reach of its time limit, and would leave its search little or nothing "
            f"of its {solver_s:.0f} s; the lagrangian backend planned it instead (its core and window MIPs "
            "run on HiGHS)")
    return replace(result, notes=(note, *result.notes))


def _solver_seconds(deadline: float, large: bool) -> float:
    """A phase's time for its solver: all that is left, less the polish's share on a large model."""
    return max(1.0, (deadline - time.perf_counter()) * (1.0 - _POLISH_SHARE if large else 1.0))


def _set_up_seconds(milp: Milp) -> float:
    """A guess at the seconds HiGHS or CP-SAT spends on `milp` before its search starts
    (`_SET_UP_SECONDS`): about 2.4 s x (nonzeros / 10^6)^1.5."""
    return _SET_UP_SECONDS * (milp.A.nnz / 1e6) ** _SET_UP_POWER


def _start_if_none(milp: Milp, result: SolveResult, start: npt.NDArray[np.float64] | None) -> SolveResult:
    """A solver out of time before it had a plan of its own leaves the phase the feasible start it
    was given, with its bound where it had one: HiGHS given 23 s on the 100,000-unit city spent
    them completing the greedy start's continuous columns and returned nothing, and the whole
    solve reported no plan although a checked one was in hand. The polish then improves it."""
    if result.status not in _OUT_OF_TIME or start is None or not milp.is_feasible(start):
        return result
    objective = float(milp.c @ start + milp.offset)
    bound = result.bound if result.bound is not None and np.isfinite(result.bound) else None
    note = f"{result.backend} found no plan in its {result.seconds:.0f} s: the plan it started from is kept"
    return replace(result, status=Status.TIME_LIMIT_FEASIBLE, x=np.asarray(start, dtype=np.float64),
                   objective=objective, bound=bound, gap=relative_gap(objective, bound), time_limited=True,
                   notes=(*result.notes, note))


def _solve(backend: str, milp: Milp, options: SolveOptions) -> SolveResult:
    """One phase: part by part when the model falls apart (`optimizer.decompose`), else whole."""
    parts = solve_in_parts(lambda m, o: run_backend(backend, m, o), milp, options)
    return parts if parts is not None else run_backend(backend, milp, options)


def _polished(milp: Milp, result: SolveResult, deadline: float, mip_gap: float,
              reduced_costs: npt.NDArray[np.float64] | None = None) -> SolveResult:
    """A plan the solver left unproven at its limit, improved in the time held back for it. Core
    MIPs (`optimizer.core_search`) take half that time first, then window re-solves
    (`optimizer.lns`) the rest. The core's sites are ranked by the LP relaxation's values where
    it is expected to take at most `_POLISH_LP_SHARE` of the time left (`_lp_rank`),
    else by `reduced_costs` (covering models); with neither, windows only. The bound is the best
    of the solver's, the LP's (where it ran) and a core of every site's (the whole model)."""
    started = time.perf_counter()
    left = deadline - started
    unproven = result.gap is None or result.gap > mip_gap
    if result.status != Status.TIME_LIMIT_FEASIBLE or result.x is None or not unproven or left < 1.0:
        return result
    solver_bound = result.bound if result.bound is not None and np.isfinite(result.bound) else -np.inf
    rank, lp_method_used, lp_bound = (_lp_rank(milp, reduced_costs, _POLISH_LP_SHARE * left) if handles(milp)
                                      else (None, None, -np.inf))
    bound = max(solver_bound, lp_bound)
    goal = gap_goal(bound, mip_gap)
    x, searches = result.x, []
    if rank is not None:
        x, core = core_search(milp, x, rank, time_limit_s=0.5 * max(0.0, deadline - time.perf_counter()),
                              target=goal, small_first=lp_method_used is not None)
        searches.append(core)
        bound = max(bound, core.bound)
    x, report = improve(milp, x, time_limit_s=max(0.0, deadline - time.perf_counter()), target=goal)
    searches.append(report)
    notes = (*result.notes, *(s.note() for s in searches if s.tries))
    if bound > solver_bound:
        from_lp = lp_method_used is not None and bound <= lp_bound
        source = _LP_SOURCE[str(lp_method_used)] if from_lp else "a core MIP of every site"
        own = f"{solver_bound:.6g}" if np.isfinite(solver_bound) else "none"
        notes = (*notes, f"bound {bound:.6g} from {source} (the solver's own: {own})")
    seconds = result.seconds + time.perf_counter() - started   # the solver's and the polish's
    if bound <= solver_bound and not any(s.improved for s in searches):
        return replace(result, notes=notes, seconds=seconds)
    objective = report.objective if any(s.improved for s in searches) else result.objective
    gap = relative_gap(objective, bound)
    proven = gap is not None and gap <= mip_gap   # the plan now meets the proven bound
    return replace(result, status=Status.OPTIMAL if proven else result.status, x=x, objective=objective,
                   bound=bound, gap=gap, time_limited=not proven, notes=notes, seconds=seconds)


def _lp_rank(milp: Milp, reduced_costs: npt.NDArray[np.float64] | None,
             seconds: float) -> tuple[npt.NDArray[np.float64] | None, str | None, float]:
    """Sites ranked for the polish's core search, the LP method that ranked them (None: not the
    LP), and the LP bound (-inf when not solved): by the LP relaxation's values (ties by its
    reduced costs) where HiGHS's interior point or first-order LP is expected to fit in
    `seconds` (`lp_relaxation.lp_method`) and returns a solution, else by `reduced_costs` (None
    if not given). On the 5,000-unit city the LP takes 1.3 s and its values lead the core to
    plans the solver's own search does not reach in its time."""
    method = lp_method(milp, seconds)
    if method is None:
        return reduced_costs, None, -np.inf
    lp = solve_by(milp, method, seconds)
    if lp is None:
        return reduced_costs, None, -np.inf
    value, lp_reduced_costs, _ = evaluate(milp, lp.duals)
    return site_rank(lp_reduced_costs, lp.x), method[0], integral_bound(milp, value)


def _with_covering_bound(milp: Milp, result: SolveResult, time_limit_s: float,
                         deadline: float) -> tuple[SolveResult, npt.NDArray[np.float64] | None]:
    """A solver stopped by its limit on a large covering model often has no useful bound (the
    root LP unfinished): the proven bound of covering dual ascent and block re-solves replaces it
    when better (in a seventh of the limit, out of the time held back for the polish). Also the
    dual ascent's reduced costs, for the polish's core search (None when it did not run). Not
    run where the polish will run the first-order LP (`_lp_rank`), whose bound is near the LP's
    and which always returns one: the 20,000-unit city with `highs` at 120 s."""
    if result.status != Status.TIME_LIMIT_FEASIBLE or (result.gap is not None and result.gap <= _USEFUL_GAP):
        return result, None   # the solver's own bound is fine (a budget sweep's levels: a few seconds saved each)
    polish_lp = lp_method(milp, _POLISH_LP_SHARE * (deadline - time.perf_counter())) if handles(milp) else None
    if polish_lp is not None and polish_lp[0] == "first-order":
        return result, None
    budget = 0.15 * time_limit_s   # out of the time held back from the solver for the polish
    bound, _, reduced_costs = covering_bound(milp, adjust_s=min(5.0, 0.2 * budget), blocks_s=0.8 * budget)
    if result.bound is not None and bound <= result.bound:
        return result, reduced_costs
    own = "none" if result.bound is None else f"{result.bound:.6g}"
    note = f"bound {bound:.6g} from covering dual ascent and block re-solves (the solver's own: {own})"
    return replace(result, bound=bound, gap=relative_gap(result.objective, bound),
                   notes=(*result.notes, note)), reduced_costs


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
        level = float(-pm.coverage_c @ x)
        row_lb[pm.coverage_row] = level - _slack(level)
    elif name == "distance":
        level = float(pm.distance_c @ x)
        row_ub[pm.distance_row] = level + _slack(level)
    return milp.with_row_bounds(row_lb, row_ub)


def _slack(level: float) -> float:
    """Room left when a phase's level is fixed: solver noise only, never a whole unit of anything
    (a relative 1e-7 on a level of 5e5 let HiGHS trade away a covered person)."""
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
