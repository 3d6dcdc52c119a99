"""Lagrangian bound of the p-median problem (Beasley 1985) and reduced-cost fixing.

The instance is held sparse: for each demand unit the sites it may be assigned to, sorted by
weighted distance (a CSR array over the model's assignment pairs, never a dense matrix).
Relaxing the assignment rows ``sum_s z_is = 1`` with multipliers ``lambda_i`` leaves

    L(lambda) = sum_i lambda_i + min { sum_s rho_s y_s : sum_s y_s = p, y binary, fixings },
    rho_s = sum_i min(0, c_is - lambda_i),

whose minimum picks the p sites of most negative ``rho_s``. Only pairs with ``c_is <
lambda_i`` contribute, a prefix of each unit's sorted list, so an evaluation costs the pairs
the multipliers reach, not the pairs of the model. For every lambda this is a lower bound on
the p-median (and on any model that adds rows to it). Subgradient ascent with Beasley's step
rule proposes the multipliers; the bound is always L evaluated exactly at them.

Fixing (Beasley 1993): with the p chosen sites of the subproblem and ``rho_p`` the largest
chosen, ``rho_q`` the smallest unchosen, opening an unchosen site s costs at least
``L + rho_s - rho_p`` and closing a chosen one ``L - rho_s + rho_q``. Where that reaches the
incumbent's value, no strictly better plan opens (closes) it, and the site is fixed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

FREE, CLOSED, OPEN = 0, 1, 2
"""Values of `PMedianData.state` per site: free, fixed closed, fixed open."""


@dataclass
class PMedianData:
    """A p-median instance over sparse assignment pairs.

    Attributes
    ----------
    u_ptr, u_site, u_cost : arrays
        Unit-major CSR: unit i's sites ``u_site[u_ptr[i]:u_ptr[i+1]]`` with weighted distances
        ``u_cost`` in ascending order.
    s_ptr, s_unit, s_cost : arrays
        The same pairs site-major (for the interchange search).
    state : int8 array, (n_sites,)
        `FREE`, `CLOSED` or `OPEN`; fixings only ever move FREE to another value.
    p_min, p_max : int
        How many FREE sites open, besides the OPEN ones.
    integral : bool
        Every cost is an integer: bounds may be rounded up.
    u_tag : int array
        The caller's tag of each pair in unit-major order (the model's assignment variable).
    """

    u_ptr: IntArray
    u_site: IntArray
    u_cost: FloatArray
    s_ptr: IntArray
    s_unit: IntArray
    s_cost: FloatArray
    state: npt.NDArray[np.int8]
    p_min: int
    p_max: int
    integral: bool
    u_tag: IntArray

    @property
    def n_units(self) -> int:
        """Number of demand units."""
        return len(self.u_ptr) - 1

    @property
    def n_sites(self) -> int:
        """Number of sites."""
        return len(self.s_ptr) - 1


def pmedian_data(unit: IntArray, site: IntArray, cost: FloatArray, n_units: int, n_sites: int,
                 state: npt.NDArray[np.int8], p_min: int, p_max: int, tag: IntArray | None = None) -> PMedianData:
    """Both CSR orders of the pairs ``(unit, site, cost)`` (units and sites numbered from 0),
    each pair carrying `tag` (default: its position)."""
    by_unit = np.lexsort((cost, unit))
    u_ptr = np.zeros(n_units + 1, np.int64)
    np.cumsum(np.bincount(unit, minlength=n_units), out=u_ptr[1:])
    by_site = np.lexsort((cost, site))
    s_ptr = np.zeros(n_sites + 1, np.int64)
    np.cumsum(np.bincount(site, minlength=n_sites), out=s_ptr[1:])
    integral = bool(np.all(cost == np.round(cost)))
    return PMedianData(u_ptr, site[by_unit].astype(np.int64), cost[by_unit].astype(np.float64),
                       s_ptr, unit[by_site].astype(np.int64), cost[by_site].astype(np.float64),
                       state.astype(np.int8), p_min, p_max, integral,
                       (np.arange(len(unit)) if tag is None else tag)[by_unit].astype(np.int64))


@numba.njit(cache=True, nogil=True)
def _reduced_sums(u_ptr: IntArray, u_site: IntArray, u_cost: FloatArray, lam: FloatArray,
                  state: npt.NDArray[np.int8], rho: FloatArray) -> None:
    """rho[s] = sum_i min(0, c_is - lam_i) over pairs of sites not fixed closed."""
    rho[:] = 0.0
    for i in range(len(u_ptr) - 1):
        for k in range(u_ptr[i], u_ptr[i + 1]):
            d = u_cost[k] - lam[i]
            if d >= 0.0:
                break
            if state[u_site[k]] != 1:
                rho[u_site[k]] += d


@numba.njit(cache=True, nogil=True)
def _subgradient(u_ptr: IntArray, u_site: IntArray, u_cost: FloatArray, lam: FloatArray,
                 chosen: npt.NDArray[np.bool_], g: FloatArray) -> None:
    """g_i = 1 - (number of open sites s with c_is < lam_i)."""
    for i in range(len(u_ptr) - 1):
        served = 0
        for k in range(u_ptr[i], u_ptr[i + 1]):
            if u_cost[k] >= lam[i]:
                break
            if chosen[u_site[k]]:
                served += 1
        g[i] = 1.0 - served


@dataclass
class LagrangianState:
    """Where the ascent stands: multipliers, the best bound and the reduced sums there."""

    lam: FloatArray
    best_lam: FloatArray
    bound: float
    rho: FloatArray
    chosen: BoolArray
    step: float
    iterations: int = 0


def evaluate(data: PMedianData, lam: FloatArray) -> tuple[float, FloatArray, BoolArray]:
    """(L(lam), rho, chosen sites) of the relaxation, respecting the fixings."""
    rho = np.empty(data.n_sites)
    _reduced_sums(data.u_ptr, data.u_site, data.u_cost, lam, data.state, rho)
    chosen = data.state == OPEN
    free = np.flatnonzero(data.state == FREE)
    order = free[np.argsort(rho[free], kind="stable")]
    take = max(data.p_min, min(data.p_max, int(np.count_nonzero(rho[order] < 0.0))))
    chosen[order[:take]] = True
    value = float(lam.sum() + rho[chosen].sum())
    return value, rho, chosen


def start_state(data: PMedianData, lam: FloatArray) -> LagrangianState:
    """The ascent's state at the multipliers `lam`."""
    value, rho, chosen = evaluate(data, lam)
    return LagrangianState(lam.copy(), lam.copy(), value, rho, chosen, 2.0)


def ascend(data: PMedianData, st: LagrangianState, upper: float, deadline: float, *, iterations: int,
           patience: int, overshoot: float, min_step: float) -> list[BoolArray]:
    """Up to `iterations` subgradient steps (Beasley's rule: Polyak step towards a little beyond
    `upper`, the factor halved after `patience` steps without a better bound), stopping once
    the bound shows nothing better than `upper` exists. Returns the subproblem's site choices
    met on the way (seeds for the plan search)."""
    g = np.empty(data.n_units)
    seeds: list[BoolArray] = []
    stall = 0
    value, rho, chosen = evaluate(data, st.lam)
    for _ in range(iterations):
        if time.perf_counter() >= deadline or st.step < min_step or beyond_one(data, st.bound, upper):
            break
        _subgradient(data.u_ptr, data.u_site, data.u_cost, st.lam, chosen, g)
        norm = float(g @ g)
        if norm == 0.0:   # the relaxation's choice serves every unit once: it is optimal
            break
        target = upper + overshoot * max(1.0, abs(upper))
        st.lam = np.maximum(st.lam + st.step * (target - value) / norm * g, 0.0)
        value, rho, chosen = evaluate(data, st.lam)
        st.iterations += 1
        if value > st.bound + 1e-9 * max(1.0, abs(st.bound)):
            st.bound, st.best_lam, st.rho, st.chosen = value, st.lam.copy(), rho, chosen
            stall = 0
            seeds.append(chosen)
        else:
            stall += 1
            if stall >= patience:
                st.step /= 2.0
                stall = 0
    return seeds


def rounded(data: PMedianData, bound: float) -> float:
    """The bound rounded up where every plan's value is an integer."""
    return float(np.ceil(bound - 1e-6)) if data.integral else bound


def fix_by_reduced_costs(data: PMedianData, st: LagrangianState, upper: float) -> tuple[int, int]:
    """Fix sites no plan better than `upper` opens or closes (at the multipliers of `st`, whose
    `rho` and `chosen` must match `data.state`). Returns (newly closed, newly opened)."""
    free = data.state == FREE
    chosen_free, other_free = st.chosen & free, free & ~st.chosen
    count = int(np.count_nonzero(chosen_free))
    worst_in = float(st.rho[chosen_free].max()) if count else 0.0
    best_out = float(st.rho[other_free].min()) if other_free.any() else np.inf
    # Opening an unchosen site: when the choice is full, the worst chosen one leaves; else
    # the choice stopped at non-negative sums and the site only adds its own.
    open_cost = st.bound + st.rho - worst_in if count >= data.p_max else st.bound + np.maximum(st.rho, 0.0)
    # Closing a chosen site: the best unchosen one comes in where the count requires it.
    refill = best_out if count <= data.p_min else min(best_out, 0.0)
    close_cost = st.bound - st.rho + refill
    close = other_free & beyond(data, open_cost, upper)
    force = chosen_free & beyond(data, close_cost, upper)
    data.state[close] = CLOSED
    data.state[force] = OPEN
    n_force = int(np.count_nonzero(force))
    data.p_min, data.p_max = max(0, data.p_min - n_force), data.p_max - n_force
    return int(np.count_nonzero(close)), n_force


def beyond_one(data: PMedianData, value: float, upper: float) -> bool:
    """`beyond` for one bound."""
    return bool(beyond(data, np.array([value]), upper)[0])


def beyond(data: PMedianData, values: FloatArray, upper: float) -> BoolArray:
    """Where a lower bound in `values` shows no plan better than `upper` (integral costs: the
    bound rounded up reaches it; else it exceeds it by more than rounding noise)."""
    if data.integral:
        return np.asarray(np.ceil(values - 1e-6) >= upper - 1e-9)
    return np.asarray(values >= upper + 1e-9 * max(1.0, abs(upper)))
