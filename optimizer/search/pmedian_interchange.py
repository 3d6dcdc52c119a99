"""Plans of the p-median engine: the incumbent record and the fast interchange around the
compiled loops of `optimizer.search.pmedian_kernels`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from optimizer.bounds.pmedian_lagrangian import OPEN, PMedianData, rounded
from optimizer.search.pmedian_kernels import assign_all, greedy_open, swap_pass

BoolArray = npt.NDArray[np.bool_]


@dataclass
class Outcome:
    """The engine's answer: the best plan found and the proven bound."""

    is_open: BoolArray
    value: float
    bound: float
    notes: list[str] = field(default_factory=list)
    unserved: bool = False   # the first plans leave a unit unserved: likely no plan serves all

    def proven(self, data: PMedianData, gap: float) -> bool:
        """Whether the bound shows the plan optimal within relative `gap`."""
        return closed(data, self.bound, self.value, gap)


def closed(data: PMedianData, bound: float, value: float, gap: float) -> bool:
    """Whether `bound` proves `value` optimal within relative `gap`."""
    return rounded(data, bound) >= value - gap * max(1.0, abs(value)) - 1e-9 * max(1.0, abs(value))


class Interchange:
    """Plans as open-site masks, valued and improved by the fast interchange."""

    def __init__(self, data: PMedianData, seed: int) -> None:
        self.data = data
        last = data.u_ptr[1:] - 1
        has = np.diff(data.u_ptr) > 0
        self.big = float(data.u_cost[last[has]].sum() + 1.0) if has.any() else 1.0
        n = data.n_units
        self.c1, self.c2 = np.empty(n), np.empty(n)
        self.f1, self.f2 = np.empty(n, np.int64), np.empty(n, np.int64)
        self.rng = np.random.default_rng(seed)

    def value(self, is_open: BoolArray) -> float:
        """The plan's total weighted distance (`big` per unserved unit); leaves c1..f2 set."""
        d = self.data
        return float(assign_all(d.u_ptr, d.u_site, d.u_cost, is_open, self.big, self.c1, self.f1, self.c2, self.f2))

    def greedy(self) -> BoolArray:
        """Fixed-open sites, then the greedy additions."""
        d = self.data
        is_open: BoolArray = np.asarray(d.state == OPEN)
        self.value(is_open)
        greedy_open(d.s_ptr, d.s_unit, d.s_cost, d.state, is_open, d.p_min, d.p_max, self.c1, self.f1, self.c2,
                    self.f2)
        return is_open

    def improve(self, is_open: BoolArray, deadline: float) -> tuple[BoolArray, float]:
        """`is_open` improved by interchange passes until a pass swaps nothing (or the deadline)."""
        d = self.data
        is_open = is_open.copy()
        value = self.value(is_open)
        tol = 1e-9 * max(1.0, value)
        while time.perf_counter() < deadline:
            order = self.rng.permutation(d.n_sites)
            if swap_pass(d.u_ptr, d.u_site, d.u_cost, d.s_ptr, d.s_unit, d.s_cost, d.state, is_open, order,
                         self.big, tol, self.c1, self.f1, self.c2, self.f2) == 0:
                break
        return is_open, self.value(is_open)
