"""The radius formulation of the p-median on the sites that survive fixing, for HiGHS.

Elloumi (2010) and García, Labbé and Marín (2011): instead of an assignment variable per pair,
unit i has its distinct distances ``D_i1 < D_i2 < ... < D_iK`` to the live sites and a variable
``u_ik`` in [0, 1] saying "unit i is served farther than ``D_ik``":

    min  sum_i (D_i1 + sum_k (D_i,k+1 - D_ik) u_ik)
    s.t. u_ik + sum_{s: c_is = D_ik} y_s >= u_i,k-1      (u_i0 = 1)
         sum_{s: c_is = D_iK} y_s >= u_i,K-1              (served: no site fixed open in reach)
         p_min <= sum_s y_s <= p_max.

Written as a chain (each row holds only the sites at one distance) it has as many nonzeros as
the live pairs, not their square. A unit's list stops at its nearest site fixed open: it is
never served farther. Sites fixed closed are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.bounds.pmedian_lagrangian import OPEN, PMedianData
from optimizer.model.milp import CONTINUOUS, INTEGER, Milp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class RadiusModel:
    """The formulation as a `Milp`, with what maps its columns back to sites."""

    milp: Milp
    site_of_col: IntArray          # [y column] site
    levels_ptr: IntArray           # unit i's u columns: n_y + levels_ptr[i] .. levels_ptr[i+1]
    level_dist: FloatArray         # [u column - n_y] the distance D_ik it stands beyond


@numba.njit(cache=True, nogil=True)
def _rows(u_ptr: IntArray, u_site: IntArray, u_cost: FloatArray, state: npt.NDArray[np.int8], col_of_site: IntArray,
          n_y: int) -> tuple[IntArray, IntArray, FloatArray, FloatArray, FloatArray, FloatArray, IntArray, float, bool]:
    """Triplets (row, col, value), row lower bounds, u column costs and distances, levels_ptr,
    the constant, and whether some unit has no live site."""
    cap = 3 * len(u_cost) + 2 * (len(u_ptr) - 1)
    rr, cc, vv = np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap)
    row_lb, u_cost_out, u_dist = np.empty(cap), np.empty(cap), np.empty(cap)
    levels_ptr = np.zeros(len(u_ptr), np.int64)
    nz, row, nu, constant = 0, 0, 0, 0.0
    for i in range(len(u_ptr) - 1):
        first, prev_u, level = True, -1, -1.0
        served = False
        for k in range(u_ptr[i], u_ptr[i + 1]):
            s = u_site[k]
            if state[s] == 1:
                continue
            d = u_cost[k]
            if first:
                constant += d
                first, level = False, d
            elif d > level:
                # close the row of `level`: u_new + sum y(level) - u_prev >= 0
                u_col = n_y + nu
                u_cost_out[nu], u_dist[nu] = d - level, level
                nu += 1
                rr[nz], cc[nz], vv[nz] = row, u_col, 1.0
                nz += 1
                if prev_u >= 0:
                    rr[nz], cc[nz], vv[nz] = row, prev_u, -1.0
                    nz += 1
                row_lb[row] = 0.0 if prev_u >= 0 else 1.0
                row += 1
                prev_u, level = u_col, d
            if state[s] == OPEN:
                served = True
                break
            rr[nz], cc[nz], vv[nz] = row, col_of_site[s], 1.0
            nz += 1
        if first:
            return rr[:0], cc[:0], vv[:0], row_lb[:0], u_cost_out[:0], u_dist[:0], levels_ptr, 0.0, True
        if served:
            # the nearest site fixed open ends the list: the unit is served at `level` at worst,
            # so its last group needs no row (drop the group's y entries)
            while nz > 0 and rr[nz - 1] == row:
                nz -= 1
        else:
            if prev_u >= 0:
                rr[nz], cc[nz], vv[nz] = row, prev_u, -1.0
                nz += 1
            row_lb[row] = 0.0 if prev_u >= 0 else 1.0
            row += 1
        levels_ptr[i + 1] = nu
    return (rr[:nz], cc[:nz], vv[:nz], row_lb[:row], u_cost_out[:nu], u_dist[:nu], levels_ptr,
            constant, False)


def radius_model(data: PMedianData) -> RadiusModel | None:
    """The radius formulation of `data` with its fixings; None when some unit has no live site
    left (no plan respects the fixings)."""
    free = np.flatnonzero(data.state == 0)
    col_of_site = np.full(data.n_sites, -1, np.int64)
    col_of_site[free] = np.arange(len(free))
    n_y = len(free)
    rr, cc, vv, row_lb, u_cost, u_dist, levels_ptr, constant, empty = _rows(
        data.u_ptr, data.u_site, data.u_cost, data.state, col_of_site, n_y)
    if empty:
        return None
    n_rows, n_u = len(row_lb), len(u_cost)
    count_row = np.full(n_y, n_rows, np.int64)
    A = sp.csr_array((np.concatenate([vv, np.ones(n_y)]),
                      (np.concatenate([rr, count_row]), np.concatenate([cc, np.arange(n_y)]))),
                     shape=(n_rows + 1, n_y + n_u))
    A.sum_duplicates()
    A.eliminate_zeros()
    milp = Milp(c=np.concatenate([np.zeros(n_y), u_cost]), offset=float(constant),
                lb=np.zeros(n_y + n_u), ub=np.ones(n_y + n_u),
                integrality=np.concatenate([np.full(n_y, INTEGER, np.int8), np.full(n_u, CONTINUOUS, np.int8)]),
                A=A, row_lb=np.concatenate([row_lb, [float(data.p_min)]]),
                row_ub=np.concatenate([np.full(n_rows, np.inf), [float(data.p_max)]]))
    return RadiusModel(milp, free, levels_ptr, u_dist)


def radius_start(model: RadiusModel, is_open: npt.NDArray[np.bool_], unit_cost: FloatArray) -> FloatArray:
    """The formulation's vector of a plan: its free open sites, and ``u_ik = 1`` where the
    unit's cost under the plan lies beyond ``D_ik``."""
    unit_of_level = np.repeat(np.arange(len(model.levels_ptr) - 1), np.diff(model.levels_ptr))
    u = (unit_cost[unit_of_level] > model.level_dist + 1e-9 * np.maximum(1.0, model.level_dist)).astype(np.float64)
    return np.concatenate([is_open[model.site_of_col].astype(np.float64), u])
