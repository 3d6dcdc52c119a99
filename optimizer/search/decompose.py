"""Exact decomposition: a model whose rows fall apart into independent parts is solved part by part.

Two variables are linked when a row (with a finite side) holds both; fixed variables link
nothing (they are constants). When towns lie farther apart than any reach radius and no
region-wide row (a share, a budget, a count) ties them, each town is its own part, and branch
and bound on each part alone is far cheaper than on their product. The optimum of the whole is
the sum of the parts' optima, so the decomposition changes nothing but the time.

The parts are found by `optimizer.model.parts`; the small rest is solved together (still
independent inside, just not worth a solver call each).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.model.milp import Milp
from optimizer.model.parts import groups, part_weights, sub_milp
from optimizer.solvers.base import SolveOptions, SolveResult, Status, relative_gap

IntArray = npt.NDArray[np.int64]


def solve_in_parts(solve: Callable[[Milp, SolveOptions], SolveResult], milp: Milp,
                   options: SolveOptions) -> SolveResult | None:
    """Solve each group with `solve(sub_milp, options)` and put the answers together, or None
    when the model is one group (the caller solves it whole)."""
    parts = groups(milp)
    if len(parts) < 2 or _fixed_row_broken(milp):
        return None
    t0 = time.perf_counter()
    deadline = t0 + options.time_limit_s
    fixed = milp.lb >= milp.ub
    x = np.where(fixed, milp.lb, 0.0)
    results: list[SolveResult] = []
    by_column = sp.csc_array(milp.A)   # once: every part's rows are read from it
    weights = part_weights(by_column, parts)
    for k, part in enumerate(parts):
        sub, at, _ = sub_milp(milp, by_column, part)   # built first, so that its seconds count in the time left
        left = max(1.0, deadline - time.perf_counter())
        share = max(1.0, left * weights[k] / weights[k:].sum())
        start = None
        if options.start is not None:
            start = np.asarray(sub.lb, dtype=np.float64).copy()
            start[at] = options.start[part]
        report = _whole_model_report(milp, x, parts, k, results, options)
        result = solve(sub, replace(options, time_limit_s=share, start=start, on_incumbent=report))
        results.append(result)
        if not result.status.has_solution or result.x is None:
            return _failed(result, len(parts), time.perf_counter() - t0)
        x[part] = result.x[at]
    return _combined(milp, x, results, time.perf_counter() - t0)


def _fixed_row_broken(milp: Milp) -> bool:
    """Whether a row of fixed variables only misses its sides. No part holds such a row, so the
    parts alone would look feasible: a unit no site reaches leaves its min_distance "assign
    once" row as 0 = 1. Solved whole, the backend finds the model infeasible."""
    free = milp.lb < milp.ub
    A = sp.csr_array(milp.A)
    row_of = np.repeat(np.arange(milp.n_rows), np.diff(A.indptr))
    fixed_only = np.bincount(row_of, weights=free[A.indices], minlength=milp.n_rows) == 0
    activity = A @ np.where(free, 0.0, milp.lb)
    room = 1e-9 * (1.0 + np.abs(activity))
    return bool(np.any(fixed_only & ((activity < milp.row_lb - room) | (activity > milp.row_ub + room))))


def _whole_model_report(milp: Milp, x: npt.NDArray[np.float64], parts: list[npt.NDArray[np.int64]], k: int,
                        results: list[SolveResult],
                        options: SolveOptions) -> Callable[[float | None, float | None], None] | None:
    """Part `k`'s progress reports as the whole model's objective: the parts solved, this part's
    best plan and the start on the parts still to come (no report without a start: a part's own
    figure is not the plan's). Bound: none until every part has one (the phase's result)."""
    if options.on_incumbent is None or options.start is None:
        return None
    fixed = milp.lb >= milp.ub
    later = np.concatenate(parts[k + 1:]) if k + 1 < len(parts) else np.zeros(0, dtype=np.int64)
    known = float(milp.c[fixed] @ x[fixed] + milp.offset + sum(r.objective or 0.0 for r in results)
                  + milp.c[later] @ options.start[later])
    tell = options.on_incumbent

    def report(objective: float | None, bound: float | None) -> None:
        if objective is not None:
            tell(known + objective, None)

    return report


def _failed(result: SolveResult, n_parts: int, seconds: float) -> SolveResult:
    note = f"solved as {n_parts} independent parts; one part ended {result.status.value}"
    return replace(result, x=None, objective=None, bound=None, gap=None, seconds=seconds,
                   notes=(*result.notes, note))


def _combined(milp: Milp, x: npt.NDArray[np.float64], results: list[SolveResult],
              seconds: float) -> SolveResult:
    objective = float(milp.c @ x + milp.offset)
    fixed = milp.lb >= milp.ub
    bounds = [r.bound for r in results]
    bound = None if any(b is None for b in bounds) else float(
        sum(bounds) + milp.c[fixed] @ x[fixed] + milp.offset)   # type: ignore[arg-type]
    all_optimal = all(r.status == Status.OPTIMAL for r in results)
    gap = relative_gap(objective, bound) if bound is not None else (0.0 if all_optimal else None)
    status = Status.OPTIMAL   # each part within its gap: so is their sum (costs are not negative)
    if any(r.status == Status.HEURISTIC for r in results):
        status = Status.HEURISTIC
    if any(r.status == Status.TIME_LIMIT_FEASIBLE for r in results):
        status = Status.TIME_LIMIT_FEASIBLE
    notes = tuple(n for r in results for n in r.notes)
    note = f"solved as {len(results)} independent parts (exact: the rows link no two parts)"
    return SolveResult(status, x, objective, bound, gap, seconds,
                       sum(r.nodes or 0 for r in results) or None, any(r.time_limited for r in results),
                       results[0].backend, "; ".join(r.native_status for r in results)[:500],
                       (*dict.fromkeys(notes), note))
