"""The `lagrangian` backend: a plan from heuristics and a proven bound, for very large models.

No branch and bound. Within the time limit:
1. a greedy plan with swap local search (`optimizer.heuristic`; a third of the time), or the
   start given, whichever is better;
2. multipliers by covering dual ascent (`optimizer.dual_ascent`), improved by subgradient
   ascent (`optimizer.lagrangian`); the bound is the exact Lagrangian value at the best
   multipliers, rounded up when every objective coefficient sits on an integer variable and is
   integral (then so is every plan's objective);
3. when the time left allows, the greedy again, priced by the Lagrangian reduced costs
   (Caprara-Fischetti-Toth), with the rest for its local search, keeping the better plan.
The dual ascent and each greedy's first pass run to their end, so a very short limit may be
overrun by their seconds (about 10 each at 100,000 x 10,000).
Status `heuristic` with the proven gap, or `optimal` when the gap is within `mip_gap`. Models
outside the heuristic (assignment or elastic variables) get a bound but no plan: use `highs`.
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.backends.base import Backend, SolveOptions, SolveResult, Status, relative_gap
from optimizer.dual_ascent import dual_ascent
from optimizer.heuristic import greedy_plan, is_feasible
from optimizer.lagrangian import evaluate, integral_bound, lagrangian_bound, open_mask
from optimizer.milp import Milp

FloatArray = np.ndarray


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
        t0 = time.perf_counter()
        deadline = t0 + options.time_limit_s
        plan, notes = self._first_plan(model, options, options.time_limit_s / 3)
        first_s = time.perf_counter() - t0
        upper = None if plan is None else float(model.c @ plan + model.offset)
        lam, bound = self._bound(model, upper, plan, deadline)
        left = deadline - time.perf_counter()
        if left > first_s:   # room for a second plan, priced by the multipliers
            priced = greedy_plan(model, model.c - model.A.T @ lam, time_limit_s=left - first_s * 2 / 3)
            if priced is not None and (upper is None or float(model.c @ priced + model.offset) < upper):
                plan, upper = priced, float(model.c @ priced + model.offset)
        else:
            notes.append("no time left for a second, Lagrangian-priced plan")
        bound = integral_bound(model, bound)
        return _result(model, plan, upper, bound, options, time.perf_counter() - t0, notes)

    @staticmethod
    def _first_plan(model: Milp, options: SolveOptions, seconds: float) -> tuple[FloatArray | None, list[str]]:
        found = greedy_plan(model, time_limit_s=seconds)
        plans = [p for p in (found, options.start) if p is not None and is_feasible(model, p)]
        if not plans:
            return None, ["no heuristic plan: the model has assignment or elastic variables, or "
                          "the greedy found no way to meet every row; use the highs backend"]
        return min(plans, key=lambda p: float(model.c @ p)), []

    @staticmethod
    def _bound(model: Milp, upper: float | None, plan: FloatArray | None,
               deadline: float) -> tuple[FloatArray, float]:
        lam = dual_ascent(model, open_mask(model), adjust_s=max(1.0, 0.15 * (deadline - time.perf_counter())))
        start_value = evaluate(model, lam)[0]
        left = deadline - time.perf_counter()
        if left <= 0:
            return lam, start_value
        ascent = lagrangian_bound(model, target=upper, time_limit_s=left * 0.3, start=lam, incumbent=plan)
        if ascent.bound > start_value:
            return ascent.multipliers, ascent.bound
        return lam, start_value


def _result(model: Milp, plan: FloatArray | None, upper: float | None, bound: float,
            options: SolveOptions, seconds: float, notes: list[str]) -> SolveResult:
    if plan is None:
        return SolveResult(Status.TIME_LIMIT_NO_SOLUTION, None, None, bound, None, seconds, None,
                           False, "lagrangian", "no plan", tuple(notes))
    gap = relative_gap(upper, bound)
    proven = gap is not None and (gap <= options.mip_gap or abs(upper - bound) <= 1e-9)
    status = Status.OPTIMAL if proven else Status.HEURISTIC
    native = f"greedy plan {upper:.6g}, Lagrangian bound {bound:.6g}"
    return SolveResult(status, plan, upper, bound, 0.0 if proven else gap, seconds, None, False,
                       "lagrangian", native, tuple(notes))
