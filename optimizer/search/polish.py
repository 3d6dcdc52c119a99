"""The search orchestrator: a feasible plan improved until a deadline or a plan the bound proves.

`search_plan` runs the search steps in one order for every caller: greedy swaps (when asked),
core MIPs over the sites ranked first (`optimizer.search.core`), then window re-solves
(`optimizer.search.windows`); pure set covering gets row weighting around its core MIPs
(`optimizer.search.row_weighting`). The `lagrangian` strategy (`optimizer.search.lagrangian`)
calls it for its search; `polish` calls it after a branch-and-bound solver stopped unproven on a
large model, with the sites ranked by the LP relaxation where it fits (`lp_rank`) and, where
the solver had no useful bound, the bound of covering dual ascent (`with_covering_bound`).
Every time share comes from the `Tuning` record passed in.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from optimizer.bounds.dual_ascent import covering_bound
from optimizer.bounds.lp_relaxation import lp_method, solve_by
from optimizer.bounds.subgradient import evaluate, integral_bound
from optimizer.model.adjacency import Windows
from optimizer.model.milp import Milp
from optimizer.search.core import core_search, site_rank
from optimizer.search.greedy import greedy_plan, handles
from optimizer.search.row_weighting import SetCover, row_weighting_search
from optimizer.search.windows import SearchReport, improve
from optimizer.solvers.base import SolveResult, Status, gap_goal, relative_gap
from optimizer.tuning import Tuning

FloatArray = npt.NDArray[np.float64]

# where the polish's bound came from, by `lp_relaxation.lp_method`'s method
_LP_SOURCE = {"interior": "the LP relaxation",
              "first-order": "the first-order LP (L at its duals: at most the LP relaxation's bound)"}


@dataclass(frozen=True)
class Searched:
    """What a search found: the best plan, its objective, the bound a core of every site proved
    (-inf if none), and the report of each step that ran."""

    plan: FloatArray
    objective: float
    bound: float
    reports: tuple[SearchReport, ...]

    @property
    def improved(self) -> bool:
        """Whether any step improved the plan it was given."""
        return any(r.improved for r in self.reports)

    def notes(self) -> tuple[str, ...]:
        """One line per step that tried something, for the plan's solver notes."""
        return tuple(r.note() for r in self.reports if r.tries)


def search_plan(milp: Milp, plan: FloatArray, rank: FloatArray | None, *, goal: float, deadline: float,
                tuning: Tuning, core_share: float, small_first: bool, swaps_after_s: float | None = None,
                windows: Windows | None = None, cover: SetCover | None = None) -> Searched:
    """Improve the feasible `plan` until `deadline` or a plan worth `goal` (then proven).

    Greedy swaps first for `tuning.swap_share` of the time where the greedy's first pass took
    `swaps_after_s` and fits in that share (None: no swaps); core MIPs over the sites of lowest
    `rank` for `core_share` of the time left (small cores first with `small_first`; no core
    without a rank); window re-solves for the rest. Pure set covering (`cover`) is searched by
    row weighting around the core MIPs instead (`_cover_search`).
    """
    if cover is not None and rank is not None:
        return _cover_search(milp, cover, plan, rank, goal=goal, deadline=deadline, tuning=tuning,
                             small_first=small_first)
    left = max(0.0, deadline - time.perf_counter())
    objective = float(milp.c @ plan + milp.offset)
    if swaps_after_s is not None and swaps_after_s < tuning.swap_share * left:
        better = greedy_plan(milp, seed=plan > 0.5, time_limit_s=tuning.swap_share * left, target=goal)
        if better is not None and float(milp.c @ better + milp.offset) < objective:
            plan = better
    reports: list[SearchReport] = []
    bound = -np.inf
    if rank is not None:
        plan, core = core_search(milp, plan, rank, target=goal, small_first=small_first,
                                 time_limit_s=core_share * max(0.0, deadline - time.perf_counter()))
        reports.append(core)
        bound = core.bound
        if proven(core):
            return Searched(plan, core.objective, bound, tuple(reports))
    plan, report = improve(milp, plan, time_limit_s=max(0.0, deadline - time.perf_counter()), target=goal,
                           windows=windows)
    reports.append(report)
    return Searched(plan, report.objective, bound, tuple(reports))


def _cover_search(milp: Milp, cover: SetCover, plan: FloatArray, rank: FloatArray, *, goal: float,
                  deadline: float, tuning: Tuning, small_first: bool) -> Searched:
    """`search_plan` for pure set covering: row weighting until it stalls, core MIPs for
    `tuning.core_share` of the time left, row weighting again from the best plan for the rest.
    After row weighting, core MIPs rarely improve a large plan, but a core of every site proves
    small models optimal."""
    plan, weighting = row_weighting_search(cover, plan, time_limit_s=max(0.0, deadline - time.perf_counter()),
                                           target=goal, stall=True)
    plan, core = core_search(milp, plan, rank, target=goal, small_first=small_first,
                             time_limit_s=tuning.core_share * max(0.0, deadline - time.perf_counter()))
    reports = [weighting, core]
    if proven(core) or core.objective <= goal or deadline - time.perf_counter() <= 0:
        return Searched(plan, core.objective, core.bound, tuple(reports))
    plan, again = row_weighting_search(cover, plan, time_limit_s=max(0.0, deadline - time.perf_counter()),
                                       target=goal, seed=1)
    reports.append(again)
    return Searched(plan, again.objective, core.bound, tuple(reports))


def proven(core: SearchReport) -> bool:
    """Whether a core of every site proved the plan optimal."""
    return core.bound >= core.objective - 1e-6 * max(1.0, abs(core.objective))


def polish(milp: Milp, result: SolveResult, deadline: float, mip_gap: float, *, tuning: Tuning,
           reduced_costs: FloatArray | None = None) -> SolveResult:
    """A plan a branch-and-bound solver left unproven at its limit, improved until `deadline`.

    The core's sites are ranked by the LP relaxation's values where it is expected to take at
    most `tuning.polish_lp_share` of the time left (`lp_rank`), else by `reduced_costs`
    (covering models); with neither, windows only. A model outside the covering heuristics
    (phased, beds) gets windows only, with the LP for its bound on a second thread beside them
    (`lp_bound_only`; HiGHS releases the GIL, as in `optimizer.search.lagrangian`). The bound is the
    best of the solver's, the LP's (where it ran) and a core of every site's (the whole model).
    """
    started = time.perf_counter()
    left = deadline - started
    unproven = result.gap is None or result.gap > mip_gap
    if result.status != Status.TIME_LIMIT_FEASIBLE or result.x is None or not unproven or left < 1.0:
        return result
    solver_bound = result.bound if result.bound is not None and np.isfinite(result.bound) else -np.inf
    if handles(milp):
        rank, method, lp_bound = lp_rank(milp, reduced_costs, tuning.polish_lp_share * left)
        found = search_plan(milp, result.x, rank, goal=gap_goal(max(solver_bound, lp_bound), mip_gap),
                            deadline=deadline, tuning=tuning, core_share=tuning.polish_core_share,
                            small_first=method is not None)
    else:   # phased, beds: core search reads one snapshot only; the LP runs beside the windows for its bound
        with ThreadPoolExecutor(1) as pool:
            bounding = pool.submit(lp_bound_only, milp, tuning.bound_lp_share * left)
            found = search_plan(milp, result.x, None, goal=gap_goal(solver_bound, mip_gap), deadline=deadline,
                                tuning=tuning, core_share=0.0, small_first=False)
            method, lp_bound = bounding.result()
    bound = max(solver_bound, lp_bound, found.bound)
    notes = (*result.notes, *found.notes())
    if bound > solver_bound:
        source = _LP_SOURCE[method] if method is not None and bound <= lp_bound else "a core MIP of every site"
        own = f"{solver_bound:.6g}" if np.isfinite(solver_bound) else "none"
        notes = (*notes, f"bound {bound:.6g} from {source} (the solver's own: {own})")
    seconds = result.seconds + time.perf_counter() - started   # the solver's and the polish's
    if bound <= solver_bound and not found.improved:
        return replace(result, notes=notes, seconds=seconds)
    objective = found.objective if found.improved else result.objective
    gap = relative_gap(objective, bound)
    optimal = gap is not None and gap <= mip_gap   # the plan now meets the proven bound
    return replace(result, status=Status.OPTIMAL if optimal else result.status, x=found.plan if found.improved
                   else result.x, objective=objective, bound=bound, gap=gap, time_limited=not optimal,
                   notes=notes, seconds=seconds)


def lp_bound_only(milp: Milp, seconds: float) -> tuple[str | None, float]:
    """The LP method that ran and the bound it gives (-inf: none) within `seconds`: the interior
    point where `lp_relaxation.lp_method` expects it to fit, else the first-order LP for all of
    `seconds` (its estimate, made on covering models, falls short on phased ones, and stopped at
    any time L at the duals it has is still a bound, only a looser one)."""
    method = lp_method(milp, seconds)
    if method is None or method[0] == "first-order":
        method = ("first-order", seconds) if seconds >= 1.0 else None
    lp = None if method is None else solve_by(milp, method, seconds)
    if method is None or lp is None:
        return None, -np.inf
    return method[0], integral_bound(milp, evaluate(milp, lp.duals)[0])


def lp_rank(milp: Milp, reduced_costs: FloatArray | None,
            seconds: float) -> tuple[FloatArray | None, str | None, float]:
    """Sites ranked for the polish's core search, the LP method that ranked them (None: not the
    LP), and the LP bound (-inf when not solved): by the LP relaxation's values (ties by its
    reduced costs) where HiGHS's interior point or first-order LP is expected to fit in
    `seconds` (`lp_relaxation.lp_method`) and returns a solution, else by `reduced_costs` (None
    if not given). The LP's values lead the core to plans branch and bound does not reach."""
    method = lp_method(milp, seconds)
    if method is None:
        return reduced_costs, None, -np.inf
    lp = solve_by(milp, method, seconds)
    if lp is None:
        return reduced_costs, None, -np.inf
    value, lp_reduced_costs, _ = evaluate(milp, lp.duals)
    return site_rank(lp_reduced_costs, lp.x), method[0], integral_bound(milp, value)


def with_covering_bound(milp: Milp, result: SolveResult, time_limit_s: float, deadline: float, *,
                        tuning: Tuning) -> tuple[SolveResult, FloatArray | None]:
    """`result` with the bound of covering dual ascent and block re-solves where that is better
    than a time-limited solver's own (often none: the root LP unfinished), and the ascent's
    reduced costs for the polish's core search (None when it did not run). It runs in
    `tuning.covering_bound_share` of the limit, out of the time held back for the polish (at most
    what is left before `deadline`: past it, the ascent alone, without adjustment or blocks); not
    where the solver's bound is within `tuning.useful_gap`, nor where the polish will run the
    first-order LP, whose bound is near the LP's and which always returns one (always on a model
    outside the covering heuristics, where the ascent's bound is far below the LP's: 3.5e7
    against 1.3e8 on the three-year city of `bench/RESULTS.md`)."""
    if result.status != Status.TIME_LIMIT_FEASIBLE or (result.gap is not None and result.gap <= tuning.useful_gap):
        return result, None
    if not handles(milp):   # the polish runs the LP for the bound (`lp_bound_only`)
        return result, None
    polish_lp = lp_method(milp, tuning.polish_lp_share * (deadline - time.perf_counter()))
    if polish_lp is not None and polish_lp[0] == "first-order":
        return result, None
    budget = min(tuning.covering_bound_share * time_limit_s, max(0.0, deadline - time.perf_counter()))
    bound, _, reduced_costs = covering_bound(
        milp, adjust_s=min(tuning.covering_adjust_max_s, tuning.covering_adjust_share * budget),
        blocks_s=tuning.covering_blocks_share * budget)
    if result.bound is not None and bound <= result.bound:
        return result, reduced_costs
    own = "none" if result.bound is None else f"{result.bound:.6g}"
    note = f"bound {bound:.6g} from covering dual ascent and block re-solves (the solver's own: {own})"
    return replace(result, bound=bound, gap=relative_gap(result.objective, bound),
                   notes=(*result.notes, note)), reduced_costs
