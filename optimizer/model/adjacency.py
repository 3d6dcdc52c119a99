"""The model's adjacency, built once: which rows are local, and both orientations of `A`.

Window search (`optimizer.search.windows`) grows windows of variables through it, and block
re-solves of the dual (`optimizer.bounds.blocks`) grow patches of rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.model.milp import INTEGER, Milp, concat_ranges
from optimizer.tuning import TUNING

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]






class Windows:
    """The model's adjacency, built once: which rows are local, and both orientations of `A`."""

    def __init__(self, milp: Milp) -> None:
        self.milp = milp
        self.by_row = sp.csr_array(milp.A)
        self.by_col = sp.csc_array(milp.A)
        length = np.diff(self.by_row.indptr)
        live = (np.isfinite(milp.row_lb) | np.isfinite(milp.row_ub)) & (length > 0)
        median = float(np.median(length[live])) if live.any() else 0.0
        self.local_row = live & (length <= max(TUNING.local_row_min, TUNING.local_row_factor * median))
        free = milp.lb < milp.ub
        self.free_int: npt.NDArray[np.bool_] = free & (milp.integrality == INTEGER)
        self.free_cont = free & (milp.integrality != INTEGER)

    def _rows_of(self, cols: IntArray) -> IntArray:
        """Local rows holding any of `cols`."""
        rows = _entries(self.by_col, cols)
        return rows[self.local_row[rows]]

    def _cols_of(self, rows: IntArray) -> IntArray:
        return _entries(self.by_row, rows)

    def block_of_rows(self, seed: int, size: int, rng: np.random.Generator) -> IntArray:
        """About `size` local rows grown from local row `seed` through shared variables: a patch
        of the map, for the dual's windows (`optimizer.bounds.blocks`)."""
        return _grow(self.milp.n_rows, seed, size, rng, lambda ring: self._rows_of(self._cols_of(ring)))

    def around(self, seed: int, size: int, rng: np.random.Generator) -> IntArray:
        """Free variables of the window grown from integer variable `seed` to about `size`
        integer variables, with the continuous variables that share a local row with them."""
        def neighbours(ring: IntArray) -> IntArray:
            near = self._cols_of(self._rows_of(ring))
            return near[self.free_int[near]]

        ints = _grow(self.milp.n_vars, seed, size, rng, neighbours)
        near = self._cols_of(self._rows_of(ints))
        return np.union1d(ints, near[self.free_cont[near]])

    def restriction(self, x: FloatArray, cols: IntArray) -> Milp:
        """The model over `cols` with every other variable held at its value in `x`."""
        milp = self.milp
        rows = _entries(self.by_col, cols)   # every row, region-wide ones too
        block = sp.csr_array(self.by_row[rows])
        held = x.copy()
        held[cols] = 0.0
        shift = block @ held
        return Milp(milp.c[cols], 0.0, milp.lb[cols], milp.ub[cols], milp.integrality[cols],
                    sp.csr_array(block[:, cols]), milp.row_lb[rows] - shift, milp.row_ub[rows] - shift)


def _entries(matrix: sp.csr_array | sp.csc_array, items: IntArray) -> IntArray:
    """The distinct indices stored in rows (CSR) or columns (CSC) `items` of `matrix`."""
    starts = matrix.indptr[items].astype(np.int64)
    counts = matrix.indptr[items + 1].astype(np.int64) - starts   # only the items' pointers, not all
    return np.unique(matrix.indices[concat_ranges(starts, counts)])


def _grow(n: int, seed: int, size: int, rng: np.random.Generator,
          neighbours: Callable[[IntArray], IntArray]) -> IntArray:
    """About `size` of `n` items grown breadth first from `seed`; the last ring, where it would
    overshoot, sampled at random."""
    chosen = np.zeros(n, dtype=bool)
    chosen[seed] = True
    ring, count = np.array([seed], dtype=np.int64), 1
    while count < size and len(ring):
        near = neighbours(ring)
        near = near[~chosen[near]]
        if len(near) > size - count:
            near = rng.choice(near, size - count, replace=False)
        chosen[near] = True
        ring, count = near, count + len(near)
    return np.flatnonzero(chosen)
