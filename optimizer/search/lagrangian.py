"""The `lagrangian` strategy: a plan from heuristics and a proven bound, for very large models.

No branch and bound. Within the time limit (shares from `SolveOptions.tuning`):
1. the first plan: the greedy plan (`optimizer.search.greedy`) with its swaps, or the start
   given, whichever is better. Beside it, on a second thread when `options.threads` >= 2, the
   bound's start: the whole LP relaxation (`optimizer.bounds.lp_relaxation`) where it is
   expected to end within `Tuning.lp_share` of the limit, by the interior point (its duals give
   the LP bound at once, and its values rank the core search's sites) or by the first-order LP
   where that is expected to be much faster or alone fits; else covering dual ascent and dual
   adjustment (`optimizer.bounds.dual_ascent`) and block re-solves until the plan is ready;
2. the bound: block re-solves (`optimizer.bounds.blocks`) from those multipliers, and the
   subgradient (`optimizer.bounds.subgradient`) on trial while the blocks still gain; the bound
   is the exact Lagrangian value at the best multipliers, rounded up when every plan's
   objective is a whole number;
3. the search (`optimizer.search.polish.search_plan`, shared with the polish of branch-and-bound
   solvers): core MIPs over the sites ranked first, then window re-solves, or row weighting for
   pure set covering, until the plan meets the bound. With two threads and no LP, steps 2 and 3
   run side by side until the limit; on one thread, time the search does not use (half its
   time without a gain while the blocks still climbed) goes back to the bound.
Status `heuristic` with the proven gap, or `optimal` when the gap is within `mip_gap`. Models
outside the heuristic (assignment or elastic variables) are refused with a `BackendError`
naming `solver.backend`: use `highs`. The dual ascent and the greedy's first pass run to their
end, so a very short limit may be overrun by their seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from optimizer.bounds.blocks import window_ascent
from optimizer.bounds.dual_ascent import ascent, open_mask
from optimizer.bounds.lp_relaxation import first_order_seconds, interior_seconds, lp_method, solve_by
from optimizer.bounds.subgradient import evaluate, integral_bound, lagrangian_bound
from optimizer.errors import BackendError
from optimizer.model.adjacency import Windows
from optimizer.model.milp import Milp
from optimizer.search.core import site_rank
from optimizer.search.greedy import greedy_plan, handles
from optimizer.search.polish import search_plan
from optimizer.search.row_weighting import set_cover
from optimizer.solvers.base import (
    BOUND,
    HEURISTIC,
    MIP,
    START,
    Backend,
    SolveOptions,
    SolveResult,
    Status,
    gap_goal,
    relative_gap,
)
from optimizer.tuning import Tuning

FloatArray = np.ndarray


class LagrangianBackend(Backend):
    """Greedy and Lagrangian bound (pure numpy/scipy: no native solver, runs in any process)."""

    name = "lagrangian"
    capabilities = frozenset({MIP, START, BOUND, HEURISTIC})
    native_family = ""

    @classmethod
    def is_available(cls) -> bool:
        """Always: numpy and scipy only."""
        return True

    def solve(self, model: Milp, options: SolveOptions) -> SolveResult:
        """Plan, bound and gap within `options.time_limit_s`."""
        if not handles(model):
            raise BackendError("the 'lagrangian' backend plans single-year uncapacitated models without "
                               "elastic targets or min_distance; this scenario has assignment, shortfall, "
                               "yearly or bed variables: use 'highs' or 'cpsat'", "solver.backend")
        t0 = time.perf_counter()
        deadline = t0 + options.time_limit_s
        tuning = options.tuning
        dual = _Dual(model, options.threads, tuning)
        plan, notes, greedy_s = _plan_beside_bound(model, options, dual)
        notes.extend(dual.notes)
        upper = None if plan is None else float(model.c @ plan + model.offset)
        if plan is not None and upper is not None and not dual.at_lp and options.threads >= 2:
            plan, upper, bound = _search_beside_bound(model, plan, upper, dual, deadline, greedy_s,
                                                      options.mip_gap, notes)
            return _result(model, plan, upper, bound, options, time.perf_counter() - t0, notes)
        bound = dual.first(upper, plan, time.perf_counter() + tuning.bound_share * (deadline - time.perf_counter()))
        if plan is not None and upper is not None:
            plan, upper, bound = _improve(model, plan, upper, bound, dual, deadline, greedy_s, options.mip_gap, notes)
        return _result(model, plan, upper, bound, options, time.perf_counter() - t0, notes)


def _search_beside_bound(model: Milp, plan: FloatArray, upper: float, dual: _Dual, deadline: float,
                         greedy_s: float, mip_gap: float, notes: list[str]) -> tuple[FloatArray, float, float]:
    """(plan, objective, bound) with two threads and no LP: the bound's block re-solves on one
    thread and the search (`_search`, one HiGHS thread) on the other, both until `deadline`.
    Side by side the blocks gain more on one thread in the whole time than on two in half of
    it, and the second core does not idle while the search runs. The search stops at the bound
    it starts from; the bound stops when the search ends sooner (the plan proven)."""
    goal = gap_goal(dual.bound, mip_gap)
    notes.append(f"search and block re-solves side by side on two threads for the last "
                 f"{max(0.0, deadline - time.perf_counter()):.1f} s")
    searched = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        bounding = pool.submit(dual.first, upper, plan, deadline, 1, searched.is_set)
        try:
            better, upper_now, found, proven = _search(model, plan, goal, deadline, dual, greedy_s, dual.tuning)
        finally:
            searched.set()
        bound = bounding.result()
    notes.extend(found)
    if upper_now < upper:
        plan, upper = better, upper_now
    return plan, upper, max(bound, proven)


def _improve(model: Milp, plan: FloatArray, upper: float, bound: float, dual: _Dual, deadline: float,
             greedy_s: float, mip_gap: float, notes: list[str]) -> tuple[FloatArray, float, float]:
    """(plan, objective, bound) after the search, which gets the time to `deadline` (notes added
    to `notes`). With the LP solved, its bound is final and one search takes all the time, its
    core ranked by the LP's values (windows after the core still gain). Otherwise half the
    search time first; if it finds nothing while the bound's block re-solves were still
    climbing when their time ran out, the rest goes back to the bound."""
    goal = gap_goal(bound, mip_gap)
    tuning = dual.tuning
    if dual.at_lp:
        plan, upper, found, proven = _search(model, plan, goal, deadline, dual, greedy_s, tuning, lp_ranked=True)
        notes.extend(found)
        return plan, upper, max(bound, proven)
    halfway = time.perf_counter() + 0.5 * (deadline - time.perf_counter())
    better, upper_now, found, proven = _search(model, plan, goal, halfway, dual, greedy_s, tuning)
    bound = max(bound, proven)
    goal = gap_goal(bound, mip_gap)
    notes.extend(found)
    improved = upper_now < upper
    if improved:
        plan, upper = better, upper_now
    if upper > goal and not improved and dual.climbing:
        bound = dual.more(deadline)
        notes.append("the plan did not improve in half the search time: the other half went to the bound")
    elif upper > goal:
        plan, upper, found, proven = _search(model, plan, goal, deadline, dual, greedy_s, tuning)
        bound = max(bound, proven)
        notes.extend(found)
    return plan, upper, bound


def _plan_beside_bound(model: Milp, options: SolveOptions, dual: _Dual) -> tuple[FloatArray | None, list[str], float]:
    """The first plan (with its notes and seconds) and the bound's start, side by side on two
    threads when `options.threads` allows (their numba kernels release the GIL), else one after
    the other. The bound starts with the whole LP where it is expected to end within
    `Tuning.lp_share` of the limit (the greedy's swaps then run as long), else, or if it does
    not finish, with the dual ascent and block re-solves until the plan is ready."""
    tuning = options.tuning
    adjust_s = max(1.0, tuning.adjust_share * options.time_limit_s)
    lp_end = time.perf_counter() + tuning.lp_share * options.time_limit_s
    if options.threads < 2:
        found = _first_plan(model, options, tuning.swap_share, dual)
        if not dual.solve_lp(lp_end - time.perf_counter()):
            dual.ascend(adjust_s)
        return found
    swap_share = 2 * tuning.swap_share
    method = dual.lp_method(tuning.lp_share * options.time_limit_s)
    if method is not None:   # the swaps run as long as the LP
        swap_share = min(tuning.lp_share, max(swap_share, method[1] / options.time_limit_s))
    with ThreadPoolExecutor(1) as pool:
        planning = pool.submit(_first_plan, model, options, swap_share, dual)
        if not dual.solve_lp(lp_end - time.perf_counter()):
            dual.ascend(adjust_s)
        if not dual.at_lp:
            dual.climb(time.perf_counter() + options.time_limit_s, threads=1, stop=planning.done)
        return planning.result()


def _first_plan(model: Milp, options: SolveOptions, swap_share: float,
                dual: _Dual) -> tuple[FloatArray | None, list[str], float]:
    """The better of the greedy plan (`swap_share` of the time limit for its swaps) and the
    start given, its notes, and the greedy's seconds."""
    t0 = time.perf_counter()
    # swaps in the same call: a second call would repeat the greedy's first pass
    found = greedy_plan(model, time_limit_s=swap_share * options.time_limit_s, cover=dual.cover)
    seconds = time.perf_counter() - t0
    plans = [p for p in (found, options.start) if p is not None and model.is_feasible(p)]
    if not plans:
        return None, ["no heuristic plan: the greedy found no way to meet every row (the "
                      "model may be infeasible); the highs backend can prove it"], seconds
    return min(plans, key=lambda p: float(model.c @ p)), [], seconds


class _Dual:
    """The bound's state (multipliers, the model's adjacency), so that time the search does not
    use can go back to it."""

    def __init__(self, model: Milp, threads: int, tuning: Tuning) -> None:
        self.model, self.threads, self.tuning = model, threads, tuning
        self.upper: float | None = None
        self.plan: FloatArray | None = None
        self.target = np.inf
        self.lam = np.zeros(model.n_rows)
        # reduced costs that rank sites for the core search (ties among equal LP values): the
        # LP's where it was solved, else the dual ascent's
        self.reduced_costs = model.c.copy()
        self.bound = -np.inf
        self.windows: Windows | None = None
        self.climbing = False    # whether the block re-solves were still gaining when their time ran out
        self.climbs = 0          # calls to `climb`: each draws other blocks
        self.at_lp = False       # whether the multipliers are the LP relaxation's duals
        # pure set covering (`optimizer.search.row_weighting`), built once for every search
        self.cover = set_cover(model)
        self.lp_values: FloatArray | None = None   # the LP relaxation's solution, where solved
        self.notes: list[str] = []   # where the bound came from, for the plan's solver notes

    def ascend(self, adjust_s: float) -> None:
        """Dual ascent with `adjust_s` of adjustment: the bound's start where the LP is not solved."""
        found = ascent(self.model, open_mask(self.model), adjust_s=adjust_s)
        self.lam, self.bound, self.reduced_costs = found.multipliers, found.value, found.site_rank
        # the adjacency the blocks and then the plan's windows read, built after the ascent's peak
        self.windows = Windows(self.model)

    def lp_method(self, seconds: float) -> tuple[str, float] | None:
        """How `solve_lp` solves the LP relaxation given `seconds`, and for how long at most
        (None: not tried): as `lp_relaxation.lp_method` says, and pure set covering too large
        for either by the first-order LP stopped at `seconds`: on set covering even an unfinished
        first-order LP gives better multipliers than the dual ascent, which is not so on models
        with coverage and co-location variables."""
        method = lp_method(self.model, seconds)
        if method is None and self.cover is not None and seconds > 0:
            return "first-order", seconds
        return method

    def solve_lp(self, seconds: float) -> bool:
        """The LP relaxation solved whole within `seconds` as `lp_method` says; whether it was
        (for the first-order LP: whether it gave multipliers). By HiGHS's interior point, its row
        duals are the multipliers and L at them is the LP bound, the most any multipliers give
        (every row is relaxed, so the subproblem is a box): the dual ascent, blocks and the
        subgradient have nothing left to gain. By the first-order LP (where the interior point
        is too slow; it comes near the LP bound, well above what the dual ascent and blocks
        reach, in a fraction of the interior point's time), block re-solves go on from its
        duals. The values and reduced costs rank the core search's sites. The interior point's
        time varies widely with the model, and on the largest models either method would take
        minutes; an LP that cannot finish takes that core's time from the block re-solves and
        adds its copy of the matrix, hence the estimates (`lp_relaxation.lp_method`). Run first,
        before any dual ascent, as it decides more."""
        method = self.lp_method(seconds)
        if method is None:
            self.notes.append(f"the whole LP relaxation was not tried (about {interior_seconds(self.model):.0f} s "
                              f"by interior point, {first_order_seconds(self.model):.0f} s by the first-order "
                              f"method, {max(seconds, 0.0):.0f} s available): the bound is from dual ascent "
                              "and block re-solves")
            return False
        interior = method[0] == "interior"
        t0 = time.perf_counter()
        solution = solve_by(self.model, method, seconds)
        spent = time.perf_counter() - t0
        solver = "HiGHS interior point" if interior else "HiGHS's first-order LP, PDLP"
        if solution is None:
            self.notes.append(f"the whole LP relaxation ({solver}) gave no solution in {spent:.1f} s: the "
                              "bound is from dual ascent and block re-solves")
            return False
        value, self.reduced_costs, _ = evaluate(self.model, solution.duals)
        self.lam, self.bound, self.lp_values = solution.duals, integral_bound(self.model, value), solution.x
        # the first-order duals are near the LP's, not at it: block re-solves go on from them
        self.at_lp = interior
        self.windows = Windows(self.model)   # for the blocks and the plan's windows
        self.notes.append(f"bound: the whole LP relaxation ({solver}, {spent:.1f} s)"
                          if interior else f"bound: from {solver} ({spent:.1f} s), then block re-solves")
        return True

    def site_rank(self) -> FloatArray:
        """The order core search takes closed sites in: by the LP's values where it was solved
        (they rank sites better than the ascent's reduced costs, most of which are 0), else by
        the dual ascent's reduced costs (which rank better than the block re-solves')."""
        return site_rank(self.reduced_costs, self.lp_values)

    def climb(self, deadline: float, threads: int, stop: Callable[[], bool] | None = None) -> FloatArray:
        """Block re-solves from the current multipliers until `deadline` or `stop()`; keeps and
        returns the multipliers (block re-solves never lower the bound)."""
        self.lam = window_ascent(self.model, self.lam, time_limit_s=max(0.0, deadline - time.perf_counter()),
                                 target=self.target, windows=self.windows, threads=threads, stop=stop,
                                 seed=self.climbs)
        self.climbs += 1
        return self.lam

    def first(self, upper: float | None, plan: FloatArray | None, deadline: float, threads: int | None = None,
              stop: Callable[[], bool] | None = None) -> float:
        """From the dual ascent's multipliers: block re-solves (most of the time to `deadline`),
        then subgradient steps towards the plan's objective `upper`: each starts from the last
        one's multipliers, and the subgradient evaluates its start first, so the best of all
        comes back. (On large models the blocks raise the bound most; the adjustment and the
        subgradient add little.) Multipliers that are the LP's duals are kept as they are. The
        blocks run on `threads` (default: the backend's); `stop()` true ends them and skips the
        subgradient."""
        self.upper, self.plan = upper, plan
        self.target = np.inf if upper is None else upper - self.model.offset
        if self.at_lp:   # its bound was set by `solve_lp`
            return self.bound
        threads = threads or self.threads
        share = self.tuning.first_bound_blocks_share
        blocks_end = time.perf_counter() + max(0.0, share * (deadline - time.perf_counter()))
        lam = self.climb(blocks_end, threads, stop)
        if stop is not None and stop():
            self.lam, self.bound = lam, max(self.bound, integral_bound(self.model, evaluate(self.model, lam)[0]))
            return self.bound
        self.climbing = time.perf_counter() >= blocks_end   # not stopped by a stall or the target
        left = max(0.0, deadline - time.perf_counter())
        # While the blocks still gain, the subgradient gets `Tuning.subgradient_trial_share` of
        # its time as a trial and keeps the rest only if it gained on them (on some models it
        # does, on others the blocks climb faster); else the blocks take the rest.
        trial = self.tuning.subgradient_trial_share * left if self.climbing else left
        found = lagrangian_bound(self.model, target=self.upper, time_limit_s=trial, start=lam, incumbent=self.plan)
        self.lam, self.bound = found.multipliers, integral_bound(self.model, found.bound)
        if not self.climbing:
            return self.bound
        rest = max(0.0, deadline - time.perf_counter())
        if found.bound > evaluate(self.model, lam)[0]:
            found = lagrangian_bound(self.model, target=self.upper, time_limit_s=rest, start=self.lam,
                                     incumbent=self.plan)
            self.lam, self.bound = found.multipliers, integral_bound(self.model, found.bound)
        else:
            self.bound = integral_bound(self.model, evaluate(self.model, self.climb(deadline, threads, stop))[0])
        return self.bound

    def more(self, deadline: float) -> float:
        """More block re-solves from the best multipliers until `deadline`; the better bound."""
        best = self.lam
        lam = self.climb(deadline, self.threads)
        value = integral_bound(self.model, evaluate(self.model, lam)[0])
        if value > self.bound:
            self.bound = value
        else:
            self.lam = best
        return self.bound


def _search(model: Milp, plan: FloatArray, goal: float, deadline: float, dual: _Dual, greedy_s: float,
            tuning: Tuning, lp_ranked: bool = False) -> tuple[FloatArray, float, list[str], float]:
    """(plan, objective, notes, proven bound) of the shared search (`optimizer.search.polish.search_plan`)
    until `deadline` or a plan worth `goal`: swaps first where the greedy's first pass (`greedy_s`)
    fits in their share, then core MIPs over the dual's site ranking, small cores first where the
    LP ranked them (`lp_ranked`: `tuning.core_share` of the time, else a full-size first core with
    `tuning.full_core_share`), then windows; pure set covering by row weighting."""
    found = search_plan(model, plan, dual.site_rank(), goal=goal, deadline=deadline, tuning=tuning,
                        core_share=tuning.core_share if lp_ranked else tuning.full_core_share,
                        small_first=lp_ranked, swaps_after_s=greedy_s, windows=dual.windows, cover=dual.cover)
    return found.plan, found.objective, list(found.notes()), found.bound


def _result(model: Milp, plan: FloatArray | None, upper: float | None, bound: float,
            options: SolveOptions, seconds: float, notes: list[str]) -> SolveResult:
    if plan is None:
        return SolveResult(Status.TIME_LIMIT_NO_SOLUTION, None, None, bound, None, seconds, None,
                           False, "lagrangian", "no plan", tuple(notes))
    gap = relative_gap(upper, bound)
    proven = gap is not None and upper is not None and (gap <= options.mip_gap or abs(upper - bound) <= 1e-9)
    status = Status.OPTIMAL if proven else Status.HEURISTIC
    native = f"plan {upper:.6g}, Lagrangian bound {bound:.6g}"
    return SolveResult(status, plan, upper, bound, 0.0 if proven else gap, seconds, None, False,
                       "lagrangian", native, tuple(notes))
