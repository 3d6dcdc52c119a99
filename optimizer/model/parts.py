"""Independent parts of a model: variables that no row links, and the sub-model over each part.

Two variables are linked when a row (with a finite side) holds both; fixed variables link
nothing (they are constants). When towns lie farther apart than any reach radius and no
region-wide row (a share, a budget, a count) ties them, each town is its own part. Parts holding
at least `Tuning.part_own_share` of the nonzeros stand alone; the small rest forms one part.
Solving part by part (`optimizer.search.decompose`) and bounding part by part
(`optimizer.bounds.lp_relaxation`) both read these.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.model.components import components
from optimizer.model.milp import Block, Milp, concat_ranges
from optimizer.tuning import TUNING

IntArray = npt.NDArray[np.int64]






def groups(milp: Milp) -> list[IntArray]:
    """Free variables grouped into independent sets (sorted indices); one group when the model
    does not fall apart usefully."""
    is_free = milp.lb < milp.ub
    free_var = np.flatnonzero(is_free)
    if milp.n_vars < TUNING.part_min_vars or not len(free_var):
        return [free_var]
    A = sp.csr_array(milp.A)
    live_row = np.isfinite(milp.row_lb) | np.isfinite(milp.row_ub)
    var_label = components(A, live_row, is_free)[1][free_var]
    live_entries = A.indices[np.repeat(live_row, np.diff(A.indptr))]
    weight = np.bincount(var_label, weights=np.bincount(live_entries, minlength=milp.n_vars)[free_var] + 1.0)
    own = np.flatnonzero(weight >= TUNING.part_own_share * weight.sum())
    parts = [free_var[var_label == k] for k in own]
    rest = free_var[~np.isin(var_label, own)]
    if len(rest):
        parts.append(rest)
    return parts if len(parts) > 1 else [free_var]


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
    touched = np.zeros(milp.n_rows, dtype=bool)   # marks, not np.unique: no sort of every entry
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
