"""A stronger bound by window ascent on the Lagrangian dual: exact LP re-solves of row blocks.

L(lam) (`optimizer.bounds.subgradient`) is concave in the multipliers. Hold every multiplier but those
of a block R of local rows; the best multipliers for R are the row duals of the LP

    min (c - A_~R^T lam_~R) v   s.t.  row_lb_R <= A_R v <= row_ub_R,  lb <= v <= ub

over the variables of R's rows, and L at them is never lower than before (the old multipliers
are feasible for that LP's dual). A block is a connected patch of the map: rows grown breadth
first through shared variables, as the plan windows of `optimizer.search.windows` grow. Region-wide rows
(budgets, shares) keep the prices they were given (the dual ascent prices them by line search).

Where the dual ascent and subgradient stall a few percent below the LP bound (large partial
covering models with co-location), block re-solves keep climbing towards it. The value is tracked
block by block; the caller re-evaluates the final multipliers in full
(`optimizer.bounds.subgradient.evaluate`), so the bound reported is an exact evaluation, as
every bound here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.bounds.lp_relaxation import LpSolution, lp_solution
from optimizer.bounds.subgradient import project, row_terms, var_terms
from optimizer.model.adjacency import Windows
from optimizer.model.milp import CONTINUOUS, Milp, concat_ranges
from optimizer.tuning import TUNING

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
LpSolver = Callable[[Milp, float], LpSolution | None]   # (block LP, seconds) -> its solution, or None



def window_ascent(milp: Milp, lam: FloatArray, *, time_limit_s: float, solve_lp: LpSolver | None = None,
                  target: float = np.inf, block_rows: int = TUNING.block_rows, seed: int = 0,
                  windows: Windows | None = None, threads: int = 1,
                  stop: Callable[[], bool] | None = None) -> FloatArray:
    """Multipliers at least as good as `lam` for L, from block re-solves within `time_limit_s`;
    stops early when the tracked value reaches `target` (a plan's objective) or about two sweeps
    of blocks gain nothing. `threads` blocks with no variable in common are solved at once
    (scipy's HiGHS releases the GIL), so their re-pricings stay exact when applied in turn.
    Block size adapts from `block_rows` (`_Sizes`). `stop`, when given, ends the ascent as soon
    as it returns True (checked between rounds of blocks)."""
    deadline = time.perf_counter() + time_limit_s
    solve_lp = solve_lp or lp_solution
    windows = windows or Windows(milp)
    local = np.flatnonzero(windows.local_row)
    if not len(local):
        return lam
    lam = project(lam.copy(), np.isfinite(milp.row_lb), np.isfinite(milp.row_ub))
    rc = milp.c - windows.by_col.T @ lam
    value = float(np.sum(row_terms(milp, np.arange(milp.n_rows), lam))
                  + np.sum(var_terms(milp, np.arange(milp.n_vars), rc)))
    rng = np.random.default_rng(seed)
    sizes = _Sizes(block_rows, len(local))
    idle = 0
    most = max(1.0, TUNING.block_share * time_limit_s)   # a block this slow is too large: it gains 0, sizes shrink
    with ThreadPoolExecutor(max(1, threads)) as pool:
        while (time.perf_counter() < deadline and value < target and idle < sizes.patience()
               and not (stop and stop())):
            larger, size = sizes.next()
            blocks = _disjoint_blocks(windows, local, [size] * max(1, threads), rng)
            lps = [_block_lp(milp, windows, rows, lam, rc) for rows in blocks]
            limit = max(0.05, min(most, deadline - time.perf_counter()))
            solving = [pool.submit(_timed, solve_lp, lp[0], limit) for lp in lps]
            for rows, lp, done in zip(blocks, lps, solving, strict=True):
                solution, seconds = done.result()
                gain = _apply(milp, rows, lp, None if solution is None else solution.duals, lam, rc)
                sizes.record(larger, gain, seconds)
                value += gain
                idle = idle + 1 if gain <= 1e-9 * max(1.0, abs(value)) else 0
    return lam


class _Sizes:
    """Block size by trial. Larger blocks move more multipliers together (coordinate ascent
    stalls less) but cost more than linearly to solve; which wins depends on the model (the
    best size differs several-fold between models). Rounds of blocks alternate between `size`
    and twice it; after `Tuning.block_trial` of each, the size whose blocks gained more per
    second wins: `size` doubles if the larger did, halves otherwise. Both are measured over the
    same stretch of the ascent, so the bound's natural slowing favours neither."""

    def __init__(self, first: int, n_local: int) -> None:
        self.size = max(1, min(first, n_local))
        self.n_local = n_local
        self.turn = 0
        self.gain = {False: 0.0, True: 0.0}
        self.seconds = {False: 0.0, True: 0.0}
        self.count = {False: 0, True: 0}

    def next(self) -> tuple[bool, int]:
        """(whether it is the larger size's turn, its rows) for the next round of blocks: one size
        a round (blocks solved side by side then take about as long), the two sizes in turn."""
        larger = self.turn % 2 == 1
        self.turn += 1
        return larger, min(self.n_local, 2 * self.size) if larger else self.size

    def record(self, larger: bool, gain: float, seconds: float) -> None:
        """One block's result (a block of the larger size's round or not); compares the two sizes
        once each has had its trial. Labelled by round, not by its rows: a block grown short, or
        trimmed off another's variables, still counts for the size it was grown at."""
        self.gain[larger] += gain
        self.seconds[larger] += seconds
        self.count[larger] += 1
        if min(self.count.values()) < TUNING.block_trial:
            return
        rate = {k: self.gain[k] / max(self.seconds[k], 1e-9) for k in (False, True)}
        if rate[True] > rate[False] and 2 * self.size < self.n_local:
            self.size *= 2
        elif rate[True] < rate[False]:
            self.size = max(TUNING.block_min_rows, self.size // 2)
        self.gain = {False: 0.0, True: 0.0}
        self.seconds = {False: 0.0, True: 0.0}
        self.count = {False: 0, True: 0}

    def patience(self) -> int:
        """Fruitless blocks in a row that end the ascent: about two sweeps of the map."""
        return max(10, 2 * self.n_local // max(self.size, 1))


def _disjoint_blocks(windows: Windows, local: IntArray, sizes: list[int], rng: np.random.Generator) -> list[IntArray]:
    """Blocks of about `sizes` rows each, no two sharing a variable: rows of a later block that
    touch an earlier block's variables are left out of it (and a block left empty is skipped)."""
    used = np.zeros(windows.milp.n_vars, dtype=bool)
    blocks = []
    for size in sizes:
        rows = windows.block_of_rows(int(rng.choice(local)), size, rng)   # local rows: none empty
        starts = windows.by_row.indptr[rows].astype(np.int64)
        counts = windows.by_row.indptr[rows + 1].astype(np.int64) - starts
        cols = windows.by_row.indices[concat_ranges(starts, counts)]
        keep = np.add.reduceat(used[cols], np.cumsum(counts) - counts) == 0
        if keep.any():
            blocks.append(rows[keep])
            used[cols[np.repeat(keep, counts)]] = True
    return blocks


def _timed(solve_lp: LpSolver, lp: Milp, limit_s: float) -> tuple[LpSolution | None, float]:
    t0 = time.perf_counter()
    return solve_lp(lp, limit_s), time.perf_counter() - t0


def _block_lp(milp: Milp, windows: Windows, rows: IntArray, lam: FloatArray,
              rc: FloatArray) -> tuple[Milp, IntArray, sp.csr_array]:
    """Block `rows`' LP (its columns' costs less the other rows' prices), its columns, its matrix."""
    block = sp.csr_array(windows.by_row[rows])
    cols = cast(IntArray, np.unique(block.indices))   # an index array; scipy-stubs say int32
    sub = sp.csr_array(block[:, cols])
    c_block = rc[cols] + sub.T @ lam[rows]   # add back the block's own share of the reduced costs
    lp = Milp(c_block, 0.0, milp.lb[cols], milp.ub[cols], np.full(len(cols), CONTINUOUS, np.int8),
              sub, milp.row_lb[rows], milp.row_ub[rows])
    return lp, cols, sub


def _apply(milp: Milp, rows: IntArray, block: tuple[Milp, IntArray, sp.csr_array], duals: FloatArray | None,
           lam: FloatArray, rc: FloatArray) -> float:
    """Re-price block `rows` in place (`lam`, `rc`) with the LP's `duals` when that raises L;
    the gain (0 if not)."""
    lp, cols, sub = block
    if duals is None or not np.isfinite(duals).all():
        return 0.0
    new_rc = lp.c - sub.T @ duals
    old = float(np.sum(row_terms(milp, rows, lam[rows])) + np.sum(var_terms(milp, cols, rc[cols])))
    new = float(np.sum(row_terms(milp, rows, duals)) + np.sum(var_terms(milp, cols, new_rc)))
    if not np.isfinite(new) or new <= old + 1e-12 * max(1.0, abs(old)):
        return 0.0
    lam[rows] = duals
    rc[cols] = new_rc
    return new - old
