"""LP relaxations solved by scipy's HiGHS (which loads beside OR-Tools): row duals for a bound,
values to rank sites.

Two solvers. Blocks of rows (`optimizer.bounds.blocks`) are small and re-solved thousands of
times: dual simplex. The whole relaxation of a large covering model is degenerate and large:
HiGHS's interior point solves it much faster than the simplex, by a margin that grows with the
model. Presolve is off (HiGHS cannot postsolve an interior solution without a basis, and then
reports none), and so is crossover, unless HiGHS cannot call the interior solution optimal: then
the solve is repeated with crossover where HiGHS deems it needed (crossover costs much time on
large models, and is needed on some small ones).

No solution here is trusted for a bound as it is: the duals come projected onto their signs
(`optimizer.bounds.subgradient.project`, which mends the LP's tolerance) and L is evaluated at them
exactly (`optimizer.bounds.subgradient.evaluate`), so an interior point stopped a little short of the
optimum gives a slightly lower, still valid, bound.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import OptimizeWarning, linprog

from optimizer.bounds.subgradient import project
from optimizer.model.milp import Milp
from optimizer.model.parts import groups, part_weights, sub_milp
from optimizer.solvers.registry import in_family_process
from optimizer.tuning import TUNING

FloatArray = npt.NDArray[np.float64]

# Interior point without crossover, to a looser optimality tolerance than HiGHS's 1e-8: it ends
# sooner, and L at its duals lies a negligible fraction below the LP's, which costs no bound worth
# having (every bound is L evaluated exactly).
_INTERIOR = {"run_crossover": "off", "presolve": False, "ipm_optimality_tolerance": 1e-5}
_NO_STATUS = 4   # scipy's status for a HiGHS model status it does not map (here "Unknown")


@dataclass(frozen=True)
class LpSolution:
    """An LP's row duals (>= 0 on a lower bound, <= 0 on an upper: `optimizer.bounds.subgradient`'s
    convention, signs enforced) and its values."""

    duals: FloatArray
    x: FloatArray


def lp_solution(lp: Milp, time_limit_s: float = np.inf, interior: bool = False) -> LpSolution | None:
    """The LP relaxation of `lp` (integrality ignored) by dual simplex, or by interior point
    when `interior`; None unless solved within `time_limit_s`."""
    lo, hi = np.isfinite(lp.row_lb), np.isfinite(lp.row_ub)
    eq = lo & hi & (lp.row_lb == lp.row_ub)
    below, above = np.flatnonzero(lo & ~eq), np.flatnonzero(hi & ~eq)
    A = sp.csr_array(lp.A)
    A_ub = sp.vstack([-A[below], A[above]], format="csr")
    b_ub = np.concatenate([-lp.row_lb[below], lp.row_ub[above]])
    eq_rows = np.flatnonzero(eq)
    bounds = np.column_stack([lp.lb, lp.ub])
    start = time.perf_counter()

    def run(options: dict[str, object]) -> Any:
        if np.isfinite(time_limit_s):
            options["time_limit"] = max(0.0, time_limit_s - (time.perf_counter() - start))
        with warnings.catch_warnings():
            # scipy passes HiGHS options it does not know (run_crossover) on to HiGHS, with a warning
            warnings.simplefilter("ignore", OptimizeWarning)
            # scipy-stubs reject the sparse A_ub/A_eq and (n, 2) bounds array that the HiGHS methods take
            return linprog(lp.c, A_ub=A_ub if len(b_ub) else None, b_ub=b_ub if len(b_ub) else None,  # type: ignore[call-overload, misc]
                           A_eq=A[eq_rows] if len(eq_rows) else None,
                           b_eq=lp.row_lb[eq_rows] if len(eq_rows) else None,
                           bounds=bounds, method="highs-ipm" if interior else "highs-ds", options=options)

    if not interior:
        res = run({})
    else:
        res = run(dict(_INTERIOR))
        if res.status == _NO_STATUS:   # HiGHS could not call the interior solution optimal
            res = run(dict(_INTERIOR, run_crossover="choose"))
    if res.status != 0:
        return None
    duals = np.zeros(lp.n_rows)
    if len(b_ub):   # marginals of "<=" rows are <= 0; a ">= lb" row was written as "-a v <= -lb"
        marg = res.ineqlin.marginals
        np.add.at(duals, below, -marg[:len(below)])
        np.add.at(duals, above, marg[len(below):])
    if len(eq_rows):
        duals[eq_rows] = res.eqlin.marginals
    return LpSolution(project(duals, lo, hi), np.asarray(res.x, dtype=np.float64))


def first_order_solution(lp: Milp, time_limit_s: float) -> LpSolution | None:
    """The LP relaxation of `lp` by HiGHS's first-order method (PDLP) over its binding rows,
    stopped at `time_limit_s` if not converged: approximate duals and values, None if HiGHS
    returns no dual vector. Where the interior point is too slow it still gets near the LP bound,
    in a fraction of the interior point's time. HiGHS's run releases the GIL, so the plan's search runs
    beside it (OR-Tools' PDLP holds it). Where OR-Tools is loaded (its HiGHS clashes with
    highspy's) it runs in highspy's worker process."""
    return in_family_process("highspy", _first_order_in_parts, lp, time_limit_s)


def _first_order_in_parts(lp: Milp, time_limit_s: float) -> LpSolution | None:
    """`_first_order` part by part where the model falls apart (`optimizer.model.parts.groups`),
    each part's time in proportion to its nonzeros: within the same time it stops much nearer
    the LP part by part than over the whole model. Exact: the parts share no row, so their duals
    and values put together are the whole model's."""

    parts = groups(lp)
    if len(parts) < 2:
        return _first_order(lp, time_limit_s)
    deadline = time.perf_counter() + time_limit_s
    by_column = sp.csc_array(lp.A)
    weights = part_weights(by_column, parts)
    duals, values = np.zeros(lp.n_rows), np.clip(np.zeros(lp.n_vars), lp.lb, lp.ub)
    for k, part in enumerate(parts):
        sub, at, rows = sub_milp(lp, by_column, part)
        left = max(0.0, deadline - time.perf_counter())
        solution = _first_order(sub, left * weights[k] / weights[k:].sum())
        if solution is None:
            return None
        duals[rows], values[part] = solution.duals, solution.x[at]
    return LpSolution(duals, values)


def _first_order(lp: Milp, time_limit_s: float) -> LpSolution | None:
    # loaded here, in highspy's family process: its HiGHS clashes with OR-Tools' (`solvers.registry`)
    import highspy

    from optimizer.solvers.highs import highs_lp, use_threads

    binding = np.flatnonzero(np.isfinite(lp.row_lb) | np.isfinite(lp.row_ub))
    rows = replace(lp, A=sp.csr_array(lp.A[binding]), row_lb=lp.row_lb[binding], row_ub=lp.row_ub[binding],
                   integrality=np.zeros(lp.n_vars, dtype=np.int8), row_blocks=())
    h = highspy.Highs()
    for key, value in (("output_flag", False), ("solver", "pdlp"), ("presolve", "off"), ("threads", 1),
                       ("time_limit", float(max(time_limit_s, 0.0)))):
        h.setOptionValue(key, value)
    use_threads(highspy, 1)
    h.passModel(highs_lp(highspy, rows))
    h.run()
    solution = h.getSolution()
    if not solution.dual_valid:
        return None
    duals = np.zeros(lp.n_rows)
    duals[binding] = np.asarray(solution.row_dual, dtype=np.float64)
    values = np.clip(np.asarray(solution.col_value, dtype=np.float64), lp.lb, lp.ub)
    return LpSolution(project(duals, np.isfinite(lp.row_lb), np.isfinite(lp.row_ub)), values)


def lp_method(milp: Milp, seconds: float) -> tuple[str, float] | None:
    """How to solve the LP relaxation of `milp` within `seconds`, and for how long at most
    (None: neither method is expected to fit). The interior point ("interior",
    `interior_seconds`) where it is not expected to take `TUNING.first_order_gain` times the
    first-order LP's time (`first_order_seconds`) and fits with `TUNING.interior_risk` to spare; else
    the first-order LP ("first-order") for up to its estimate (to about 0.1% of the LP) where
    that fits; else the interior point where it fits at all. The first-order LP ends a little
    short of the LP but leaves the rest of the solve more time, so a whole solve can close a
    smaller gap with it, and stopped at its time it still returns what it
    has, where the interior point returns nothing."""
    if seconds <= 0:
        return None
    interior, first_order = interior_seconds(milp), first_order_seconds(milp)
    if interior <= TUNING.first_order_gain * first_order and TUNING.interior_risk * interior <= seconds:
        return "interior", interior
    if first_order <= seconds:
        return "first-order", first_order
    if interior <= seconds:
        return "interior", interior
    return None


def solve_by(milp: Milp, method: tuple[str, float], seconds: float) -> LpSolution | None:
    """The LP relaxation of `milp` as `lp_method` chose: the interior point within `seconds`,
    or the first-order LP for the seconds `method` gives it."""
    if method[0] == "interior":
        return lp_solution(milp, seconds, interior=True)
    return first_order_solution(milp, method[1])


def interior_seconds(milp: Milp) -> float:
    """A guess at the interior point's seconds for the whole relaxation of `milp`, from the
    nonzeros of its binding rows (`Tuning.interior_seconds`, `Tuning.interior_power`, whose
    note names the benchmarks they are estimated from)."""
    return float(TUNING.interior_seconds * (_binding_nonzeros(milp) / 1e5) ** TUNING.interior_power)


def first_order_seconds(milp: Milp) -> float:
    """A guess at the seconds HiGHS's first-order LP takes to come within about 0.1% of the LP
    bound of `milp`, from the nonzeros of its binding rows (`TUNING.first_order_seconds`)."""
    return TUNING.first_order_seconds * _binding_nonzeros(milp) / 1e5


def _binding_nonzeros(milp: Milp) -> int:
    """The nonzeros of the rows with a finite bound (at least 1)."""
    binding = np.isfinite(milp.row_lb) | np.isfinite(milp.row_ub)
    return max(int(np.diff(sp.csr_array(milp.A).indptr)[binding].sum()), 1)
