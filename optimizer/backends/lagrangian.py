"""The `lagrangian` backend: a plan from heuristics and a proven bound, for very large models.

No branch and bound. Within the time limit:
1. a greedy plan (`optimizer.heuristic`), or the start given, whichever is better: a target
   for the bound;
2. with half the time left: multipliers by covering dual ascent and dual adjustment
   (`optimizer.dual_ascent`), improved by exact LP re-solves of row blocks, as many side by
   side as `options.threads` (`optimizer.dual_windows`), and subgradient ascent
   (`optimizer.lagrangian`); the bound is the exact Lagrangian value at the best multipliers,
   rounded up when every objective coefficient sits on an integer variable and is integral
   (then so is every plan's objective);
3. the rest of the time: local search from that plan, greedy swaps and destroy-and-repair
   first, then window re-solves by HiGHS (`optimizer.lns`), until the plan meets the bound.
Status `heuristic` with the proven gap, or `optimal` when the gap is within `mip_gap`. Models
outside the heuristic (assignment or elastic variables) are refused with a `BackendError`
naming `solver.backend`: use `highs`.
The dual ascent and the greedy's first pass run to their end, so a very short limit may be
overrun by their seconds (a few each at 100,000 x 10,000).
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.backends.base import Backend, SolveOptions, SolveResult, Status, relative_gap
from optimizer.dual_ascent import dual_ascent, open_mask
from optimizer.dual_windows import window_ascent
from optimizer.errors import BackendError
from optimizer.heuristic import greedy_plan, handles
from optimizer.lagrangian import integral_bound, lagrangian_bound
from optimizer.lns import Windows, improve
from optimizer.milp import Milp

FloatArray = np.ndarray
_SWAP_SHARE = 0.2   # of the search time, for the greedy's swaps before window re-solves
_BOUND_SHARE = 0.5  # of the time left after the first plan, for the bound (the rest: the search)


class LagrangianBackend(Backend):
    """Greedy and Lagrangian bound (pure numpy/scipy: no native solver, runs in any process)."""

    name = "lagrangian"
    capabilities = frozenset({"mip", "start", "bound", "heuristic"})
    native_family = ""

    @classmethod
    def is_available(cls) -> bool:
        """Always: numpy and scipy only."""
        return True

    def solve(self, model: Milp, options: SolveOptions) -> SolveResult:
        """Plan, bound and gap within `options.time_limit_s`."""
        if not handles(model):
            raise BackendError("the 'lagrangian' backend plans uncapacitated models without elastic "
                               "targets or min_distance; this scenario has assignment or shortfall "
                               "variables: use 'highs' or 'cpsat'", "solver.backend")
        t0 = time.perf_counter()
        deadline = t0 + options.time_limit_s
        plan, notes = self._first_plan(model, options)
        upper = None if plan is None else float(model.c @ plan + model.offset)
        bound, windows = self._bound(model, upper, plan,
                                     time.perf_counter() + _BOUND_SHARE * (deadline - time.perf_counter()),
                                     options.threads)
        bound = integral_bound(model, bound)
        if plan is not None:
            plan, upper, note = _search(model, plan, upper, bound + options.mip_gap * abs(bound), deadline, windows)
            notes.extend([note] if note else [])
        return _result(model, plan, upper, bound, options, time.perf_counter() - t0, notes)

    @staticmethod
    def _first_plan(model: Milp, options: SolveOptions) -> tuple[FloatArray | None, list[str]]:
        found = greedy_plan(model)
        plans = [p for p in (found, options.start) if p is not None and model.is_feasible(p)]
        if not plans:
            return None, ["no heuristic plan: the greedy found no way to meet every row (the "
                          "model may be infeasible); the highs backend can prove it"]
        return min(plans, key=lambda p: float(model.c @ p)), []

    @staticmethod
    def _bound(model: Milp, upper: float | None, plan: FloatArray | None,
               deadline: float, threads: int) -> tuple[float, Windows]:
        """Dual ascent (its adjustment a tenth of the time), block re-solves from its multipliers
        (most of the rest), then subgradient steps: each starts from the last one's multipliers,
        and the subgradient evaluates its start first, so the best of all comes back. (At 100,000
        units the adjustment and the subgradient each add under 0.02%, the blocks 0.45%.)"""
        span = max(0.0, deadline - time.perf_counter())
        lam = dual_ascent(model, open_mask(model), adjust_s=max(1.0, 0.1 * span))
        # the adjacency the blocks and then the plan's windows read, built after the ascent's peak
        windows = Windows(model)
        target = np.inf if upper is None else upper - model.offset
        lam = window_ascent(model, lam, time_limit_s=max(0.0, 0.85 * (deadline - time.perf_counter())), target=target,
                            windows=windows, threads=threads)
        left = max(0.0, deadline - time.perf_counter())
        return lagrangian_bound(model, target=upper, time_limit_s=left, start=lam, incumbent=plan).bound, windows


def _search(model: Milp, plan: FloatArray, upper: float, goal: float, deadline: float,
            windows: Windows) -> tuple[FloatArray, float, str]:
    """Local search until `deadline` or a plan worth `goal` (then proven optimal): greedy swaps
    for a fifth of the time, window re-solves by HiGHS (`optimizer.lns`) for the rest; swaps
    are cheap and take the easy gains, windows find what one swap at a time cannot."""
    left = max(0.0, deadline - time.perf_counter())
    better = greedy_plan(model, seed=plan > 0.5, time_limit_s=_SWAP_SHARE * left, target=goal)
    if better is not None and float(model.c @ better + model.offset) < upper:
        plan, upper = better, float(model.c @ better + model.offset)
    left = max(0.0, deadline - time.perf_counter())
    plan, report = improve(model, plan, time_limit_s=left, target=goal, windows=windows)
    return plan, report.objective, report.note() if report.windows else ""


def _result(model: Milp, plan: FloatArray | None, upper: float | None, bound: float,
            options: SolveOptions, seconds: float, notes: list[str]) -> SolveResult:
    if plan is None:
        return SolveResult(Status.TIME_LIMIT_NO_SOLUTION, None, None, bound, None, seconds, None,
                           False, "lagrangian", "no plan", tuple(notes))
    gap = relative_gap(upper, bound)
    proven = gap is not None and (gap <= options.mip_gap or abs(upper - bound) <= 1e-9)
    status = Status.OPTIMAL if proven else Status.HEURISTIC
    native = f"plan {upper:.6g}, Lagrangian bound {bound:.6g}"
    return SolveResult(status, plan, upper, bound, 0.0 if proven else gap, seconds, None, False,
                       "lagrangian", native, tuple(notes))
