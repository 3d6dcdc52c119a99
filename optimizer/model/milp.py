"""The mixed-integer program as plain arrays: what every backend receives.

The model builder (`optimizer.model.build`) produces one `Milp`; backends translate its arrays
in bulk. Nothing here knows about scenarios or geodata.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

# Values of `Milp.integrality`.
CONTINUOUS = 0
INTEGER = 1
# Continuous in the formulation, but some optimal solution is integral whenever the
# integer variables are (e.g. coverage x[i,t] <= sum y). Backends that need integers
# everywhere (CP-SAT) may declare these integer without changing the optimum.
IMPLIED_INTEGER = 2


@dataclass(frozen=True)
class Block:
    """A named contiguous range of variables or rows.

    Attributes
    ----------
    name : str
        Family name, e.g. ``"y"`` (open) or ``"C2 coverage link"``.
    start, stop : int
        Half-open index range inside the variable vector or the row list.
    """

    name: str
    start: int
    stop: int

    @property
    def size(self) -> int:
        """Number of entries in the block."""
        return self.stop - self.start


@dataclass(frozen=True)
class Milp:
    """``min c @ v + offset  s.t.  row_lb <= A @ v <= row_ub,  lb <= v <= ub``.

    Attributes
    ----------
    c : float array, (n_vars,)
        Objective coefficients (always minimised).
    offset : float
        Constant added to the objective.
    lb, ub : float array, (n_vars,)
        Variable bounds; ``np.inf`` for none.
    integrality : int8 array, (n_vars,)
        `CONTINUOUS`, `INTEGER` or `IMPLIED_INTEGER`.
    A : scipy.sparse.csr_array, (n_rows, n_vars)
        Constraint matrix, explicit zeros removed.
    row_lb, row_ub : float array, (n_rows,)
        Row bounds; ``-np.inf`` / ``np.inf`` for none.
    var_blocks, row_blocks : tuple of Block
        Named ranges, so that results can be decoded and rows explained.
    """

    c: npt.NDArray[np.float64]
    offset: float
    lb: npt.NDArray[np.float64]
    ub: npt.NDArray[np.float64]
    integrality: npt.NDArray[np.int8]
    A: sp.csr_array
    row_lb: npt.NDArray[np.float64]
    row_ub: npt.NDArray[np.float64]
    var_blocks: tuple[Block, ...] = ()
    row_blocks: tuple[Block, ...] = ()

    @property
    def n_vars(self) -> int:
        """Number of variables."""
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        """Number of constraint rows."""
        return int(self.A.shape[0])

    def var_block(self, name: str) -> Block:
        """The variable block called `name` (KeyError if absent)."""
        return _find(self.var_blocks, name)

    def row_block(self, name: str) -> Block:
        """The row block called `name` (KeyError if absent)."""
        return _find(self.row_blocks, name)

    def with_row_bounds(
        self, row_lb: npt.NDArray[np.float64], row_ub: npt.NDArray[np.float64]
    ) -> Milp:
        """A copy with new row bounds: how a budget sweep changes a level."""
        return replace(self, row_lb=row_lb, row_ub=row_ub)

    def with_objective(self, c: npt.NDArray[np.float64], offset: float) -> Milp:
        """A copy with another objective (lexicographic second phases)."""
        return replace(self, c=c, offset=offset)

    def activity(self, v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Row activities ``A @ v`` of a solution vector."""
        return np.asarray(self.A @ v, dtype=np.float64)

    def is_feasible(self, v: npt.NDArray[np.float64], *, tol: float = 1e-6) -> bool:
        """Whether `v` satisfies every bound, row and integrality (relative tolerance)."""
        if v.shape != (self.n_vars,) or not np.isfinite(v).all():
            return False
        slack = tol * np.maximum(1.0, np.abs(v))
        if (v < self.lb - slack).any() or (v > self.ub + slack).any():
            return False
        integer = self.integrality == INTEGER
        if (np.abs(v[integer] - np.round(v[integer])) > tol).any():
            return False
        act = self.activity(v)
        row_slack = tol * np.maximum(1.0, np.abs(act))
        return bool(((act >= self.row_lb - row_slack) & (act <= self.row_ub + row_slack)).all())


def _find(blocks: tuple[Block, ...], name: str) -> Block:
    for block in blocks:
        if block.name == name:
            return block
    raise KeyError(name)


def covered_by_link(link: sp.csr_array) -> npt.NDArray[np.int64]:
    """The coverage variable of each coverage-link row (C2: ``x - sum y <= 0``, its one positive
    entry); -1 for a row without one."""
    coo = sp.csr_array(link).tocoo()
    x_of_row = np.full(link.shape[0], -1, dtype=np.int64)
    positive = coo.data > 0
    x_of_row[coo.row[positive]] = coo.col[positive]
    return x_of_row


def concat_ranges(starts: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Concatenated ranges ``starts[k] .. starts[k] + counts[k]`` (positions of several CSR rows'
    entries at once)."""
    total = int(counts.sum())
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total, dtype=np.int64)
