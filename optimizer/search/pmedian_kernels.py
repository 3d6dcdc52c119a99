"""Compiled loops of the p-median search: assignment, greedy and Whitaker's fast interchange.

The plan is ``is_open[s]``; each unit keeps its nearest and second-nearest open site in its
sorted list (``f1, c1, f2, c2``; -1 and the penalty ``big`` where it has none), which is all
the fast interchange (Whitaker 1983, in the form of Resende and Werneck 2003) needs. Swapping
site ``fi`` in for ``fr`` saves

    gain(fi) - loss(fr) + extra(fi, fr),
    gain(fi)      = sum_u max(0, c1_u - c_u,fi),
    loss(fr)      = sum_{u: f1_u = fr} (c2_u - c1_u),
    extra(fi, fr) = sum_{u: f1_u = fr, c_u,fi < c2_u} (c2_u - max(c_u,fi, c1_u)),

so one candidate ``fi`` is priced against every open ``fr`` in one walk over fi's units.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Int8Array = npt.NDArray[np.int8]


@numba.njit(cache=True, nogil=True)
def _rescan(u: int, u_ptr: IntArray, u_site: IntArray, u_cost: FloatArray, is_open: BoolArray, big: float,
            c1: FloatArray, f1: IntArray, c2: FloatArray, f2: IntArray) -> None:
    """Unit u's nearest and second-nearest open sites."""
    c1[u], f1[u], c2[u], f2[u] = big, -1, big, -1
    for k in range(u_ptr[u], u_ptr[u + 1]):
        s = u_site[k]
        if is_open[s]:
            if f1[u] < 0:
                c1[u], f1[u] = u_cost[k], s
            else:
                c2[u], f2[u] = u_cost[k], s
                return


@numba.njit(cache=True, nogil=True)
def assign_all(u_ptr: IntArray, u_site: IntArray, u_cost: FloatArray, is_open: BoolArray, big: float,
               c1: FloatArray, f1: IntArray, c2: FloatArray, f2: IntArray) -> float:
    """Every unit's nearest two open sites; returns the plan's value (``big`` per unserved unit)."""
    total = 0.0
    for u in range(len(u_ptr) - 1):
        _rescan(u, u_ptr, u_site, u_cost, is_open, big, c1, f1, c2, f2)
        total += c1[u]
    return total


@numba.njit(cache=True, nogil=True)
def greedy_open(s_ptr: IntArray, s_unit: IntArray, s_cost: FloatArray, state: Int8Array, is_open: BoolArray,
                p_min: int, p_max: int, c1: FloatArray, f1: IntArray, c2: FloatArray, f2: IntArray) -> None:
    """Open free sites one by one, the largest saving first: at least p_min, then while one
    saves anything, up to p_max (c1..f2 must describe `is_open` on entry)."""
    opened = 0
    while opened < p_max:
        best, best_s = -1.0, -1
        for s in range(len(s_ptr) - 1):
            if is_open[s] or state[s] != 0:
                continue
            gain = 0.0
            for k in range(s_ptr[s], s_ptr[s + 1]):
                u = s_unit[k]
                if s_cost[k] < c1[u]:
                    gain += c1[u] - s_cost[k]
            if gain > best:
                best, best_s = gain, s
        if best_s < 0 or (opened >= p_min and best <= 0.0):
            return
        is_open[best_s] = True
        opened += 1
        for k in range(s_ptr[best_s], s_ptr[best_s + 1]):
            u, c = s_unit[k], s_cost[k]
            if c < c1[u]:
                c2[u], f2[u] = c1[u], f1[u]
                c1[u], f1[u] = c, best_s
            elif c < c2[u]:
                c2[u], f2[u] = c, best_s


@numba.njit(cache=True, nogil=True)
def _losses(c1: FloatArray, f1: IntArray, c2: FloatArray, loss: FloatArray) -> None:
    loss[:] = 0.0
    for u in range(len(c1)):
        if f1[u] >= 0:
            loss[f1[u]] += c2[u] - c1[u]


@numba.njit(cache=True, nogil=True)
def _price(fi: int, s_ptr: IntArray, s_unit: IntArray, s_cost: FloatArray, state: Int8Array, is_open: BoolArray,
           c1: FloatArray, f1: IntArray, c2: FloatArray, loss: FloatArray, extra: FloatArray) -> tuple[float, int]:
    """(saving, site to close) of the best swap bringing `fi` in (`extra` is left zero)."""
    gain = 0.0
    for k in range(s_ptr[fi], s_ptr[fi + 1]):
        u, c = s_unit[k], s_cost[k]
        if c < c1[u]:
            gain += c1[u] - c
        if c < c2[u] and f1[u] >= 0:
            extra[f1[u]] += c2[u] - max(c, c1[u])
    best, best_r = -np.inf, -1
    for r in range(len(s_ptr) - 1):
        if is_open[r] and state[r] == 0 and extra[r] - loss[r] > best:
            best, best_r = extra[r] - loss[r], r
    for k in range(s_ptr[fi], s_ptr[fi + 1]):
        if f1[s_unit[k]] >= 0:
            extra[f1[s_unit[k]]] = 0.0
    return gain + best, best_r


@numba.njit(cache=True, nogil=True)
def _apply(fi: int, fr: int, u_ptr: IntArray, u_site: IntArray, u_cost: FloatArray, s_ptr: IntArray,
           s_unit: IntArray, s_cost: FloatArray, is_open: BoolArray, big: float, c1: FloatArray, f1: IntArray,
           c2: FloatArray, f2: IntArray) -> None:
    """Open `fi`, close `fr`, and bring every unit's nearest two up to date."""
    is_open[fi], is_open[fr] = True, False
    for u in range(len(c1)):
        if f1[u] == fr or f2[u] == fr:
            _rescan(u, u_ptr, u_site, u_cost, is_open, big, c1, f1, c2, f2)
    for k in range(s_ptr[fi], s_ptr[fi + 1]):
        u, c = s_unit[k], s_cost[k]
        if f1[u] == fi or f2[u] == fi:   # rescanned above, with fi open
            continue
        if c < c1[u]:
            c2[u], f2[u] = c1[u], f1[u]
            c1[u], f1[u] = c, fi
        elif c < c2[u]:
            c2[u], f2[u] = c, fi


@numba.njit(cache=True, nogil=True)
def swap_pass(u_ptr: IntArray, u_site: IntArray, u_cost: FloatArray, s_ptr: IntArray, s_unit: IntArray,
              s_cost: FloatArray, state: Int8Array, is_open: BoolArray, order: IntArray, big: float, tol: float,
              c1: FloatArray, f1: IntArray, c2: FloatArray, f2: IntArray) -> int:
    """One pass of the fast interchange over the candidate sites in `order`: for each closed
    free candidate, the best open free site to swap it for, applied at once if it saves more
    than `tol`. Returns the number of swaps made."""
    extra = np.zeros(len(s_ptr) - 1)
    loss = np.zeros(len(s_ptr) - 1)
    _losses(c1, f1, c2, loss)
    swaps = 0
    for fi in order:
        if is_open[fi] or state[fi] != 0:
            continue
        saving, fr = _price(fi, s_ptr, s_unit, s_cost, state, is_open, c1, f1, c2, loss, extra)
        if fr >= 0 and saving > tol:
            _apply(fi, fr, u_ptr, u_site, u_cost, s_ptr, s_unit, s_cost, is_open, big, c1, f1, c2, f2)
            _losses(c1, f1, c2, loss)
            swaps += 1
    return swaps
