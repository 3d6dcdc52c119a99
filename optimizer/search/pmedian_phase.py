"""The distance phase of a p-median model, by the p-median engine (`optimizer.search.pmedian`).

A phase model is a p-median when its objective lies on the assignment variables of one facility
type only, every other free variable is that type's open variable, and every row with a finite
side that touches a free variable is an assignment row (C11, C12) or one count over the type's
sites. The engine then plans it from the model's own sparse assignment pairs and reports its
proven bound. Anything else returns None and the phase goes to the chosen backend as before.
The engine's plan is decoded into the model's vector and checked against every row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.bounds.pmedian_lagrangian import CLOSED, FREE, OPEN, PMedianData, pmedian_data, rounded
from optimizer.model.build import PlanModel
from optimizer.model.milp import Milp
from optimizer.search.pmedian import solve_pmedian
from optimizer.solvers.base import SolveOptions, SolveResult, Status, relative_gap

IntArray = npt.NDArray[np.int64]
BACKEND = "pmedian"


@dataclass(frozen=True)
class PMedianModel:
    """A phase model read as a p-median: the instance and the model columns of its sites."""

    data: PMedianData
    y_var: IntArray     # [site] the model's open variable


def pmedian_phase(pm: PlanModel, milp: Milp, options: SolveOptions, deadline: float) -> SolveResult | None:
    """The phase planned by the p-median engine until `deadline`, or None where `milp` is not a
    p-median, or its first plans leave a unit unserved (then the backend decides whether any
    plan serves every unit, and the explanation says why not)."""
    t0 = time.perf_counter()
    model = read_pmedian(pm, milp)
    if model is None:
        return None
    start = None if options.start is None else options.start[model.y_var] > 0.5
    out = solve_pmedian(model.data, deadline, mip_gap=options.mip_gap, threads=options.threads, start=start,
                        tuning=options.tuning)
    if out.unserved:
        return None
    x = _vector(milp, model, out.is_open)
    if not milp.is_feasible(x):
        return None
    objective = float(milp.c @ x + milp.offset)
    bound = min(rounded(model.data, out.bound), objective)
    proven = out.proven(model.data, options.mip_gap)
    status = Status.OPTIMAL if proven else Status.TIME_LIMIT_FEASIBLE
    return SolveResult(status, x, objective, bound, relative_gap(objective, bound), time.perf_counter() - t0, None,
                       not proven, BACKEND, "proven" if proven else "time limit", tuple(out.notes))


def read_pmedian(pm: PlanModel, milp: Milp) -> PMedianModel | None:
    """`milp` (a phase of `pm`) as a p-median instance, or None where it is not one."""
    if pm.schedule is not None or len(pm.z_var) == 0 or len(np.unique(pm.z_type)) != 1:
        return None
    of_type = pm.y_type == pm.z_type[0]
    y_var = milp.var_block("y").start + np.flatnonzero(of_type)
    role = np.zeros(milp.n_vars, np.int8)
    role[y_var], role[pm.z_var] = 1, 2
    free = milp.lb < milp.ub
    if np.any(free & (role == 0)) or np.any(milp.c[role != 2] != 0) or np.any(milp.c[pm.z_var] < 0):
        return None
    if np.any(milp.lb[pm.z_var] > 0):
        return None
    count = _count_row(milp, free, role)
    if count is None:
        return None
    served = _served(milp)
    site_of_y = np.full(milp.n_vars, -1, np.int64)
    site_of_y[y_var] = np.arange(len(y_var))
    y_of_z = _y_of_pair(pm, of_type, y_var)
    if np.any(y_of_z < 0):
        return None
    live = served[pm.z_var] & (milp.ub[pm.z_var] > 0) & (milp.ub[y_of_z] > 0.5)
    state = np.where(milp.ub[y_var] < 0.5, CLOSED, np.where(milp.lb[y_var] > 0.5, OPEN, FREE)).astype(np.int8)
    p_min, p_max = count(state, site_of_y)
    units, unit = np.unique(pm.z_unit[live], return_inverse=True)
    if not _every_served_unit_has_a_pair(milp, pm, served, units):
        return None
    data = pmedian_data(unit.astype(np.int64), site_of_y[y_of_z[live]], milp.c[pm.z_var[live]], len(units),
                        len(y_var), state, p_min, p_max, tag=pm.z_var[live])
    return PMedianModel(data, y_var)


def _y_of_pair(pm: PlanModel, of_type: npt.NDArray[np.bool_], y_var: IntArray) -> IntArray:
    """The open variable of each assignment pair's site (-1 where there is none)."""
    n_sites = int(max(pm.y_site.max(initial=0), pm.z_site.max(initial=0))) + 1
    y_at = np.full(n_sites, -1, np.int64)
    y_at[pm.y_site[of_type]] = y_var
    return y_at[pm.z_site]


def _served(milp: Milp) -> npt.NDArray[np.bool_]:
    """[variable] it sits in an assignment row (C12) that must be met (lower side 1)."""
    block = milp.row_block("C12 assign once")
    rows = sp.csr_array(milp.A[block.start:block.stop]).tocoo()
    must = milp.row_lb[block.start:block.stop] >= 1 - 1e-9
    served = np.zeros(milp.n_vars, dtype=bool)
    served[rows.col[must[rows.row]]] = True
    return served


def _every_served_unit_has_a_pair(milp: Milp, pm: PlanModel, served: npt.NDArray[np.bool_], units: IntArray) -> bool:
    """Whether every unit that must be served keeps a live pair (else the phase is infeasible
    and the backend explains it)."""
    must_units = np.unique(pm.z_unit[served[pm.z_var]])
    block = milp.row_block("C12 assign once")
    n_must = int(np.count_nonzero(milp.row_lb[block.start:block.stop] >= 1 - 1e-9))
    return len(must_units) == n_must and bool(np.isin(must_units, units).all())


class _Count:
    """The count row over the type's sites: how many free sites may open, given the fixings."""

    def __init__(self, cols: IntArray, lb: float, ub: float) -> None:
        self.cols, self.lb, self.ub = cols, lb, ub

    def __call__(self, state: npt.NDArray[np.int8], site_of_y: IntArray) -> tuple[int, int]:
        sites = site_of_y[self.cols]
        fixed_open = int(np.count_nonzero(state[sites] == OPEN))
        n_free = int(np.count_nonzero(state == FREE))
        p_min = max(0, int(np.ceil(self.lb - 1e-9)) - fixed_open) if np.isfinite(self.lb) else 0
        p_max = min(n_free, int(np.floor(self.ub + 1e-9)) - fixed_open) if np.isfinite(self.ub) else n_free
        return p_min, p_max


def _count_row(milp: Milp, free: npt.NDArray[np.bool_], role: npt.NDArray[np.int8]) -> _Count | None:
    """The one count row over the type's open variables (all coefficients 1, holding every free
    one), where every other binding row touching a free variable is an assignment row."""
    finite = np.isfinite(milp.row_lb) | np.isfinite(milp.row_ub)
    touches = np.asarray(abs(milp.A) @ free.astype(np.float64)) > 0
    binding = finite & touches
    for name in ("C11 assign to open", "C12 assign once"):
        block = milp.row_block(name)
        binding[block.start:block.stop] = False
    rows = np.flatnonzero(binding)
    if len(rows) != 1:
        return None
    r = int(rows[0])
    cols = milp.A.indices[milp.A.indptr[r]:milp.A.indptr[r + 1]].astype(np.int64)
    vals = milp.A.data[milp.A.indptr[r]:milp.A.indptr[r + 1]]
    free_y = np.flatnonzero(free & (role == 1))
    if np.any(role[cols] != 1) or np.any(vals != 1.0) or not np.isin(free_y, cols).all():
        return None
    return _Count(cols, float(milp.row_lb[r]), float(milp.row_ub[r]))


def _vector(milp: Milp, model: PMedianModel, is_open: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """The model's vector of a plan: fixed variables at their value, the open sites, and each
    unit assigned to its nearest open site."""
    data = model.data
    x = np.where(milp.lb == milp.ub, milp.lb, 0.0)
    x[model.y_var[is_open]] = 1.0
    unit_of_pair = np.repeat(np.arange(data.n_units), np.diff(data.u_ptr))
    first_open = is_open[data.u_site]
    rank = np.cumsum(first_open) - 1
    start_rank = np.concatenate([[0], np.cumsum(first_open)])[data.u_ptr[:-1]]
    nearest = first_open & (rank == start_rank[unit_of_pair])
    x[data.u_tag[nearest]] = 1.0
    return x


def with_phase_note(result: SolveResult, backend: str) -> SolveResult:
    """`result` noting that the engine, not `backend`, planned the phase."""
    note = (f"the distance phase is a p-median: planned by the p-median engine (Lagrangian bound, fast "
            f"interchange, fixing, Lagrangian branch and bound) instead of {backend}")
    return replace(result, notes=(note, *result.notes))
