"""LP relaxations solved by scipy's HiGHS (which loads beside OR-Tools): row duals for a bound,
values to rank sites.

Two solvers. Blocks of rows (`optimizer.dual_windows`) are small and re-solved thousands of
times: dual simplex. The whole relaxation of a large covering model is degenerate and large:
HiGHS's interior point solves it many times faster (5,000-unit four-type city 1.3 s against
2.2 s; 20,000 x 3,000 MCLP 7 s against 112 s; the 20,000-unit city 26 s against over 120 s).
Presolve is off (HiGHS cannot postsolve an interior solution without a basis, and then reports
none), and so is crossover, unless HiGHS cannot call the interior solution optimal: then the
solve is repeated with crossover where HiGHS deems it needed (at 20,000 units crossover costs
7 s more; it is needed on some small models).

No solution here is trusted for a bound as it is: the duals come projected onto their signs
(`optimizer.lagrangian.project`, which mends the LP's tolerance) and L is evaluated at them
exactly (`optimizer.lagrangian.evaluate`), so an interior point stopped a little short of the
optimum gives a slightly lower, still valid, bound.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import OptimizeWarning, linprog

from optimizer.lagrangian import project
from optimizer.milp import Milp

FloatArray = npt.NDArray[np.float64]

# Interior-point seconds ~ _IPM_SECONDS * (nonzeros / 1e5) ** _IPM_POWER, fitted on this machine
# (2 cores): 5,000-unit city (104,261 nonzeros) 1.4 s, 20,000-unit city (977,434) 25 s, 20,000 x
# 3,000 MCLP (347,336) 8 s, set covering (312,026) 1.3 s; the 100,000-unit city (14.7 million)
# had done 22 of its ~50 iterations at 200 s (the formula says 900 s).
_IPM_SECONDS, _IPM_POWER = 1.4, 1.3
# Interior point without crossover, to a looser optimality tolerance than HiGHS's 1e-8: 20,000-unit
# city 25.8 s against 32.7 s, L at its duals 81 (of 101.1M) below the LP's, which costs no bound
# worth having (every bound is L evaluated exactly).
_INTERIOR = {"run_crossover": "off", "presolve": False, "ipm_optimality_tolerance": 1e-5}
_NO_STATUS = 4   # scipy's status for a HiGHS model status it does not map (here "Unknown")


@dataclass(frozen=True)
class LpSolution:
    """An LP's row duals (>= 0 on a lower bound, <= 0 on an upper: `optimizer.lagrangian`'s
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
            return linprog(lp.c, A_ub=A_ub if len(b_ub) else None, b_ub=b_ub if len(b_ub) else None,
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


def interior_seconds(milp: Milp) -> float:
    """A guess at the interior point's seconds for the whole relaxation of `milp`, from its
    nonzeros (fitted on this machine; within 0.25-1.3 times the measured time on the models in
    `_IPM_SECONDS`'s note, an overestimate where columns are few)."""
    return _IPM_SECONDS * (max(milp.A.nnz, 1) / 1e5) ** _IPM_POWER
