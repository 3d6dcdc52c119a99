"""Warm starts for sweep levels: a lower level's plan, topped up greedily to the new budget.

A plan feasible at a lower capital budget is feasible at a higher one, but it leaves the
extra budget unspent, and on large models the solver's own heuristics may take long to spend
it well. `greedy_fill` adds new facilities one at a time, each time the one with the most
additional weighted coverage (the `max_coverage` weight) per yuan of capital that still fits
the capital row (C6) and the annual row (C7). Adding a facility never breaks a coverage, land
or minimum-count target; types under a count maximum are left alone. The result is only a
start: the solver improves it and the checker checks whatever comes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.plan import Prepared
from optimizer.scenario.fields import CountTarget

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class _Fill:
    """The greedy state: open y, per-type uncovered weight, capital and annual left."""

    y_open: BoolArray
    capex: FloatArray
    annual: FloatArray
    eligible: BoolArray
    gain: FloatArray
    uncovered_w: list[FloatArray]
    capital_left: float
    annual_left: float


def start_from_open(prep: Prepared, y_values: FloatArray, base: FloatArray | None = None) -> FloatArray:
    """A start vector: `base` (or zeros) with y set from `y_values` and coverage x raised where reached.

    Other variables keep their `base` values (co-location, elastic); backends complete them
    (HiGHS reads the integer columns only). Bounds hold: `optimizer.model.reduce` fixes dominated y and
    merged units' x to 0.
    """
    model = prep.model
    y_block, x_block = model.milp.var_block("y"), model.milp.var_block("x")
    x = np.zeros(model.milp.n_vars) if base is None else np.array(base, dtype=np.float64)
    y = slice(y_block.start, y_block.stop)
    x[y] = np.minimum(np.maximum(np.round(y_values), model.milp.lb[y]), model.milp.ub[y])
    is_open = np.zeros((prep.region.sites.n, len(prep.region.type_names)))
    is_open[model.y_site, model.y_type] = x[y_block.start:y_block.stop]
    for t in range(len(prep.region.type_names)):
        reached = prep.reach.by_type[t] @ is_open[:, t] > 0
        cols = x_block.start + np.flatnonzero(model.x_type == t)
        x[cols] = np.minimum(np.maximum(x[cols], reached[model.x_unit[model.x_type == t]]), model.milp.ub[cols])
    return x


def greedy_fill(prep: Prepared, start: FloatArray | None, budget_cny: float) -> FloatArray:
    """`start` (or the existing facilities alone) plus the best coverage per yuan `budget_cny` still buys."""
    model = prep.model
    y_block = model.milp.var_block("y")
    base = start if start is not None else start_from_open(prep, model.milp.lb[y_block.start:y_block.stop])
    state = _initial(prep, base, budget_cny)
    added = 0
    while (j := _best(state)) >= 0:
        _open(prep, state, j)
        added += 1
    if added == 0:
        return base
    return start_from_open(prep, state.y_open.astype(np.float64), base)


def _initial(prep: Prepared, base: FloatArray, budget_cny: float) -> _Fill:
    model = prep.model
    milp = model.milp
    y_block = milp.var_block("y")
    rows = milp.A[[model.capital_row, model.annual_row], :].toarray()
    capex, annual = rows[0][y_block.start:y_block.stop], rows[1][y_block.start:y_block.stop]
    y_open = base[y_block.start:y_block.stop] > 0.5
    used_capital, used_annual = float(rows[0] @ base), float(rows[1] @ base)
    capped = _count_capped_types(prep)
    # Sites fixed closed (ub 0: dominated, `optimizer.model.reduce`) would be dropped from the start
    # by start_from_open after spending budget here.
    eligible = ~y_open & ~np.isin(model.y_type, capped) & (milp.ub[y_block.start:y_block.stop] > 0.5)
    uncovered_w = [_uncovered_weight(prep, t, y_open) for t in range(len(prep.region.type_names))]
    state = _Fill(y_open, capex, annual, eligible, np.zeros(len(y_open)), uncovered_w,
                  budget_cny - used_capital, milp.row_ub[model.annual_row] - used_annual)
    for t in range(len(prep.region.type_names)):
        _refresh_gain(prep, state, t)
    return state


def _count_capped_types(prep: Prepared) -> list[int]:
    """Types with a count maximum: adding one could break it."""
    names = prep.region.type_names
    return [names.index(t.facility) for t in prep.scenario.targets
            if isinstance(t, CountTarget) and t.max is not None]


def _objective_weight(prep: Prepared, t: int) -> FloatArray:
    """Per unit: the weight `max_coverage` gives coverage by type t (0 where no x[i,t] counts)."""
    model = prep.model
    x_block = model.milp.var_block("x")
    of_type = np.flatnonzero(model.x_type == t)
    w = np.zeros(prep.region.demand.n)
    w[model.x_unit[of_type]] = -model.coverage_c[x_block.start + of_type]
    return w


def _uncovered_weight(prep: Prepared, t: int, y_open: BoolArray) -> FloatArray:
    reach: sp.csr_array = prep.reach.by_type[t]
    sites = prep.model.y_site[(prep.model.y_type == t) & y_open]
    is_open = np.zeros(prep.region.sites.n)
    is_open[sites] = 1.0
    return np.where(reach @ is_open > 0, 0.0, _objective_weight(prep, t))


def _refresh_gain(prep: Prepared, state: _Fill, t: int) -> None:
    """Gain of opening each type-t site: the weight it reaches that is still uncovered."""
    of_type = prep.model.y_type == t
    per_site = prep.reach.by_type[t].T @ state.uncovered_w[t]
    state.gain[of_type] = per_site[prep.model.y_site[of_type]]


def _best(state: _Fill) -> int:
    """The eligible, affordable facility with the most gain per yuan (-1: none gains anything)."""
    fits = state.eligible & (state.capex <= state.capital_left + 1e-6) & (state.annual <= state.annual_left + 1e-6)
    fits &= state.gain > 0
    if not fits.any():
        return -1
    ratio = np.where(fits, state.gain / np.maximum(state.capex, 1e-9), -1.0)
    return int(np.argmax(ratio))


def _open(prep: Prepared, state: _Fill, j: int) -> None:
    t, s = int(prep.model.y_type[j]), int(prep.model.y_site[j])
    state.y_open[j], state.eligible[j] = True, False
    state.capital_left -= float(state.capex[j])
    state.annual_left -= float(state.annual[j])
    reach: Any = prep.reach.by_type[t]
    column = reach[:, [s]].tocoo()
    state.uncovered_w[t][column.row] = 0.0
    _refresh_gain(prep, state, t)
