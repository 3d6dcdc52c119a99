"""Exact decomposition: a model whose rows fall apart into independent parts is solved part by part.

Two variables are linked when a row (with a finite side) holds both; fixed variables link
nothing (they are constants). When towns lie farther apart than any reach radius and no
region-wide row (a share, a budget, a count) ties them, each town is its own part, and branch
and bound on each part alone is far cheaper than on their product. The optimum of the whole is
the sum of the parts' optima, so the decomposition changes nothing but the time.

Parts holding at least `_OWN_SHARE` of the nonzeros are solved on their own; the small rest is
solved together (still independent inside, just not worth a solver call each).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.backends.base import SolveOptions, SolveResult, Status, relative_gap
from optimizer.components import components
from optimizer.milp import Block, Milp, concat_ranges

IntArray = npt.NDArray[np.int64]
_OWN_SHARE = 0.05
_MIN_VARS = 2_000        # below this a model is solved whole: splitting buys nothing


def groups(milp: Milp) -> list[IntArray]:
    """Free variables grouped into independent sets (sorted indices); one group when the model
    does not fall apart usefully."""
    is_free = milp.lb < milp.ub
    free_var = np.flatnonzero(is_free)
    if milp.n_vars < _MIN_VARS or not len(free_var):
        return [free_var]
    A = sp.csr_array(milp.A)
    live_row = np.isfinite(milp.row_lb) | np.isfinite(milp.row_ub)
    var_label = components(A, live_row, is_free)[1][free_var]
    live_entries = A.indices[np.repeat(live_row, np.diff(A.indptr))]
    weight = np.bincount(var_label, weights=np.bincount(live_entries, minlength=milp.n_vars)[free_var] + 1.0)
    own = np.flatnonzero(weight >= _OWN_SHARE * weight.sum())
    parts = [free_var[var_label == k] for k in own]
    rest = free_var[~np.isin(var_label, own)]
    if len(rest):
        parts.append(rest)
    return parts if len(parts) > 1 else [free_var]


def solve_in_parts(solve: Callable[[Milp, SolveOptions], SolveResult], milp: Milp,
                   options: SolveOptions) -> SolveResult | None:
    """Solve each group with `solve(sub_milp, options)` and put the answers together, or None
    when the model is one group (the caller solves it whole)."""
    parts = groups(milp)
    if len(parts) < 2:
        return None
    t0 = time.perf_counter()
    deadline = t0 + options.time_limit_s
    fixed = milp.lb >= milp.ub
    x = np.where(fixed, milp.lb, 0.0)
    results = []
    by_column = sp.csc_array(milp.A)   # once: every part's rows are read from it
    weights = part_weights(by_column, parts)
    for k, part in enumerate(parts):
        sub, at, _ = sub_milp(milp, by_column, part)   # built first: its seconds (2 s at 100,000 units) count
        left = max(1.0, deadline - time.perf_counter())
        share = max(1.0, left * weights[k] / weights[k:].sum())
        start = None
        if options.start is not None:
            start = np.asarray(sub.lb, dtype=np.float64).copy()
            start[at] = options.start[part]
        result = solve(sub, replace(options, time_limit_s=share, start=start))
        results.append(result)
        if not result.status.has_solution or result.x is None:
            return _failed(result, len(parts), time.perf_counter() - t0)
        x[part] = result.x[at]
    return _combined(milp, x, results, time.perf_counter() - t0)


def part_weights(by_column: sp.csc_array, parts: list[IntArray]) -> npt.NDArray[np.float64]:
    """Each part's share of the work, for its share of the time: its nonzeros and variables
    (`by_column`: the model's matrix by column)."""
    nonzeros = np.diff(by_column.indptr)
    return np.array([nonzeros[part].sum() + len(part) for part in parts], dtype=float)


def sub_milp(milp: Milp, by_column: sp.csc_array, part: IntArray) -> tuple[Milp, IntArray, IntArray]:
    """The rows touching `part`, over `part` and the fixed variables in those rows (kept as fixed
    columns, at no cost: the model keeps its shape, so heuristics still see an existing facility
    cover its units). Returns the sub-model, the positions of `part` among its columns and the
    model's rows it holds (in order). `by_column` is `milp.A` by column."""
    starts = by_column.indptr[part].astype(np.int64)
    touched = np.zeros(milp.n_rows, dtype=bool)   # marks, not np.unique: 3 s a call at 10^5 units
    touched[by_column.indices[concat_ranges(starts, by_column.indptr[part + 1] - starts)]] = True
    rows = np.flatnonzero(touched)
    fixed = milp.lb >= milp.ub
    block = sp.csr_array(milp.A[rows])
    keep = np.zeros(milp.n_vars, dtype=bool)
    keep[block.indices] = fixed[block.indices]
    keep[part] = True
    cols = np.flatnonzero(keep)
    c = np.where(fixed[cols], 0.0, milp.c[cols])   # fixed costs are counted once, by the caller
    sub = Milp(c, 0.0, milp.lb[cols], milp.ub[cols], milp.integrality[cols], _columns(block, cols, milp.n_vars),
               milp.row_lb[rows], milp.row_ub[rows], _blocks(milp.var_blocks, cols), _blocks(milp.row_blocks, rows))
    return sub, np.searchsorted(cols, part), rows


def _columns(block: sp.csr_array, cols: IntArray, n_vars: int) -> sp.csr_array:
    """`block[:, cols]` by renumbering (sorted `cols`; entries outside them, which only rows with
    no finite side can hold, dropped): SciPy's column indexing copies through a slower path."""
    position = np.full(n_vars, -1, dtype=np.int64)
    position[cols] = np.arange(len(cols))
    new_index = position[block.indices]
    kept = new_index >= 0
    row_of = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of[kept], minlength=block.shape[0]))])
    return sp.csr_array((block.data[kept], new_index[kept], indptr), shape=(block.shape[0], len(cols)))


def _blocks(blocks: tuple[Block, ...], kept: IntArray) -> tuple[Block, ...]:
    """Named ranges renumbered: a sorted subset of a contiguous range stays contiguous."""
    return tuple(Block(b.name, int(np.searchsorted(kept, b.start)), int(np.searchsorted(kept, b.stop)))
                 for b in blocks)


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
