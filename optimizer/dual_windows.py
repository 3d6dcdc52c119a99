"""A stronger bound by window ascent on the Lagrangian dual: exact LP re-solves of row blocks.

L(lam) (`optimizer.lagrangian`) is concave in the multipliers. Hold every multiplier but those
of a block R of local rows; the best multipliers for R are the row duals of the LP

    min (c - A_~R^T lam_~R) v   s.t.  row_lb_R <= A_R v <= row_ub_R,  lb <= v <= ub

over the variables of R's rows, and L at them is never lower than before (the old multipliers
are feasible for that LP's dual). A block is a connected patch of the map: rows grown breadth
first through shared variables, as the plan windows of `optimizer.lns` grow. Region-wide rows
(budgets, shares) keep the prices they were given (the dual ascent prices them by line search).

Where the dual ascent and subgradient stall a few percent below the LP bound (partial covering
with co-location, 10^5 units), block re-solves keep climbing towards it. The value is tracked
block by block; the caller re-evaluates the final multipliers in full (`lagrangian.evaluate`),
so the bound reported is an exact evaluation, as every bound here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linprog

from optimizer.lagrangian import project, row_terms, var_terms
from optimizer.lns import Windows
from optimizer.milp import CONTINUOUS, Milp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
LpSolver = Callable[[Milp], FloatArray | None]   # a block LP -> its row duals, or None

_BLOCK_ROWS = 1000       # rows in a block: ~30 ms a re-solve at 20,000 units


def window_ascent(milp: Milp, lam: FloatArray, *, time_limit_s: float, solve_lp: LpSolver | None = None,
                  target: float = np.inf, block_rows: int = _BLOCK_ROWS, seed: int = 0,
                  windows: Windows | None = None) -> FloatArray:
    """Multipliers at least as good as `lam` for L, from block re-solves within `time_limit_s`;
    stops early when the tracked value reaches `target` (a plan's objective) or about two sweeps
    of blocks gain nothing."""
    deadline = time.perf_counter() + time_limit_s
    solve_lp = solve_lp or block_duals
    windows = windows or Windows(milp)
    local = np.flatnonzero(windows.local_row)
    if not len(local):
        return lam
    lam = project(lam.copy(), np.isfinite(milp.row_lb), np.isfinite(milp.row_ub))
    rc = milp.c - windows.by_col.T @ lam
    value = float(np.sum(row_terms(milp, np.arange(milp.n_rows), lam))
                  + np.sum(var_terms(milp, np.arange(milp.n_vars), rc)))
    rng = np.random.default_rng(seed)
    patience = max(10, 2 * len(local) // max(block_rows, 1))   # about two sweeps of the map
    idle = 0
    while time.perf_counter() < deadline and value < target and idle < patience:
        rows = windows.block_of_rows(int(rng.choice(local)), block_rows, rng)
        gain = _resolve(milp, windows, rows, lam, rc, solve_lp)
        value += gain
        idle = idle + 1 if gain <= 1e-9 * max(1.0, abs(value)) else 0
    return lam


def _resolve(milp: Milp, windows: Windows, rows: IntArray, lam: FloatArray, rc: FloatArray,
             solve_lp: LpSolver) -> float:
    """Re-price block `rows` in place (`lam`, `rc`) when that raises L; the gain (0 if not)."""
    block = sp.csr_array(windows.by_row[rows])
    cols = np.unique(block.indices)
    sub = sp.csr_array(block[:, cols])
    own = sub.T @ lam[rows]                 # the block's own share of its columns' reduced costs
    c_block = rc[cols] + own
    duals = solve_lp(Milp(c_block, 0.0, milp.lb[cols], milp.ub[cols], np.full(len(cols), CONTINUOUS, np.int8),
                          sub, milp.row_lb[rows], milp.row_ub[rows]))
    if duals is None or not np.isfinite(duals).all():
        return 0.0
    new_lam = project(duals, np.isfinite(milp.row_lb[rows]), np.isfinite(milp.row_ub[rows]))  # LP tolerance
    new_rc = c_block - sub.T @ new_lam
    old = float(np.sum(row_terms(milp, rows, lam[rows])) + np.sum(var_terms(milp, cols, rc[cols])))
    new = float(np.sum(row_terms(milp, rows, new_lam)) + np.sum(var_terms(milp, cols, new_rc)))
    if not np.isfinite(new) or new <= old + 1e-12 * max(1.0, abs(old)):
        return 0.0
    lam[rows] = new_lam
    rc[cols] = new_rc
    return new - old


def block_duals(lp: Milp) -> FloatArray | None:
    """Row duals of an LP (scipy's HiGHS, which loads beside OR-Tools) in `optimizer.lagrangian`'s
    convention (>= 0 on a lower bound, <= 0 on an upper); None unless solved to optimality."""
    lo, hi = np.isfinite(lp.row_lb), np.isfinite(lp.row_ub)
    eq = lo & hi & (lp.row_lb == lp.row_ub)
    below, above = np.flatnonzero(lo & ~eq), np.flatnonzero(hi & ~eq)
    A = sp.csr_array(lp.A)
    A_ub = sp.vstack([-A[below], A[above]], format="csr")
    b_ub = np.concatenate([-lp.row_lb[below], lp.row_ub[above]])
    eq_rows = np.flatnonzero(eq)
    res = linprog(lp.c, A_ub=A_ub if len(b_ub) else None, b_ub=b_ub if len(b_ub) else None,
                  A_eq=A[eq_rows] if len(eq_rows) else None, b_eq=lp.row_lb[eq_rows] if len(eq_rows) else None,
                  bounds=np.column_stack([lp.lb, lp.ub]), method="highs-ds")
    if res.status != 0:
        return None
    duals = np.zeros(lp.n_rows)
    if len(b_ub):   # marginals of "<=" rows are <= 0; a ">= lb" row was written as "-a v <= -lb"
        marg = res.ineqlin.marginals
        np.add.at(duals, below, -marg[:len(below)])
        np.add.at(duals, above, marg[len(below):])
    if len(eq_rows):
        duals[eq_rows] = res.eqlin.marginals
    return duals
