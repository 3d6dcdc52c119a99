"""Where a phased model keeps its per-year variables: what decoding a phased plan needs.

`optimizer.model.years` builds the phased model and fills this record; `optimizer.plan` reads it
to turn a solution into facilities with opening years and bed actions by year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Schedule:
    """Index of a phased model's variables.

    Attributes
    ----------
    years : tuple of int
        The planning years (``(0,)`` for a scenario without `years`).
    pair_site, pair_type : int array, (n_pairs,)
        Site and type of each open-variable pair j.
    y_start : int
        y[j, p] is variable ``y_start + p * n_pairs + j``.
    b_var, b_site, b_action, b_period : int array
        Bed-action variables b[s, a, p] and their site, action (index into `actions`) and period.
    actions : tuple of str
        Bed action names.
    capital_year_rows : int array, (n_years,)
        The per-year capital rows (C6y).
    """

    years: tuple[int, ...]
    pair_site: IntArray
    pair_type: IntArray
    y_start: int
    b_var: IntArray
    b_site: IntArray
    b_action: IntArray
    b_period: IntArray
    actions: tuple[str, ...]
    capital_year_rows: IntArray

    @property
    def n_pairs(self) -> int:
        """Number of (site, type) pairs that may be open."""
        return len(self.pair_site)

    def y_of(self, period: int) -> IntArray:
        """The open variables of every pair in `period`."""
        return self.y_start + period * self.n_pairs + np.arange(self.n_pairs, dtype=np.int64)

    def opening(self, x: npt.NDArray[np.float64]) -> IntArray:
        """Per pair, the period it is first open in solution `x` (-1: never)."""
        y = x[self.y_start:self.y_start + len(self.years) * self.n_pairs].reshape(len(self.years), self.n_pairs) > 0.5
        return np.where(y.any(axis=0), np.argmax(y, axis=0), -1).astype(np.int64)
