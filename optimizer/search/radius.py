"""The least radius (p-center): binary search over the distinct distances with covering checks.

"The least walking distance within which every unit has an open facility, given the budget or
the count" is the least R for which the model plus the covering rows

    (R)  sum_{s: d_is <= R} y_st >= 1      for every unit i and `min_radius` type t serving it
                                            that has a site of t within t's limit

has a plan. Feasibility only grows with R, so a binary search over the sorted distinct
distances of the reach finds it: each check is the model with its (R) rows, tried first by the
greedy (a plan found is a proof of feasibility) and then by the backend with a share of the
time left. When checks ended unknown all the way up to the plan, the search starts again from
the proven lower end with the time left, until the range closes or the limit. Before the
covering MIPs, a binary search of their LP relaxations (a share of the time) proves the radius
below which even the relaxed rows cannot be met: a lower end far above the trivial one. A plan found at R
serves every unit within its own radius, often below R, so the upper end jumps there; a check
the backend proves infeasible raises the lower end past R. Units no site of the type reaches
are left out (the plan's `uncoverable` lists them). The result is the proven range
``[lower, upper]``: the phase's bound and objective, in the reach's unit (metres or minutes).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.model.build import PlanModel
from optimizer.model.milp import Block, Milp
from optimizer.search.backends import run_backend
from optimizer.search.greedy import greedy_plan
from optimizer.solvers.base import SolveOptions, SolveResult, Status, relative_gap

FloatArray = npt.NDArray[np.float64]
RADIUS_ROWS = "R radius cover"


@dataclass(frozen=True)
class RadiusPhase:
    """The phase's result and the model with the (R) rows at the radius found (for later phases)."""

    result: SolveResult
    milp: Milp


@dataclass
class _Search:
    """The binary search's state: distinct distances, proven and searched lower ends, best plan."""

    distances: FloatArray
    proven_lo: int
    search_lo: int
    hi: int
    x: npt.NDArray[np.float64] | None
    checks: int = 0
    notes: tuple[str, ...] = ()


def radius_phase(pm: PlanModel, milp: Milp, backend: str, options: SolveOptions, deadline: float) -> RadiusPhase:
    """The least radius of `pm`'s `min_radius` types under `milp`'s rows, by `deadline`."""
    t0 = time.perf_counter()
    group, var, dist = _live_pairs(pm, milp)
    phase = milp.with_objective(np.zeros(milp.n_vars), 0.0)
    if len(group) == 0:   # nothing to cover: any plan has radius 0
        result = _check(phase, backend, options, deadline)
        return RadiusPhase(replace(result, objective=0.0, bound=0.0, gap=0.0) if result.x is not None else result,
                           phase)
    distances = np.unique(dist)
    nearest = np.full(int(group.max()) + 1, np.inf)
    np.minimum.at(nearest, group, dist)
    lo = int(np.searchsorted(distances, nearest[np.isfinite(nearest)].max()))
    search = _Search(distances, lo, lo, len(distances) - 1, None)
    widest = covering(phase, group, var, dist, float(distances[-1]))
    first = _first_plan(widest, backend, options, t0 + (deadline - t0) / (math.log2(len(distances)) + 1), deadline)
    if first.x is None:
        return RadiusPhase(first, widest)
    _found(search, first.x, group, var, dist)
    lp_deadline = time.perf_counter() + options.tuning.radius_lp_share * (deadline - time.perf_counter())
    _relaxed_lower_end(search, phase, group, var, dist, options, lp_deadline)
    while search.proven_lo < search.hi and time.perf_counter() < deadline:
        if search.search_lo >= search.hi:   # checks ended unknown up to the plan: again, with the time left
            search.search_lo = search.proven_lo
        _step(search, phase, group, var, dist, backend, options, deadline)
    upper, lower = float(distances[search.hi]), float(distances[search.proven_lo])
    proven = search.proven_lo >= search.hi
    status = Status.OPTIMAL if proven else Status.TIME_LIMIT_FEASIBLE
    note = (f"least radius: {search.checks} covering checks over {len(distances):,} distinct distances; proven "
            f"range [{lower:,.1f}, {upper:,.1f}]")
    result = SolveResult(status, search.x, upper, lower, relative_gap(upper, lower), time.perf_counter() - t0, None,
                         not proven, backend, "binary search", (note, *search.notes))
    return RadiusPhase(result, covering(phase, group, var, dist, upper))


def _relaxed_lower_end(search: _Search, phase: Milp, group: npt.NDArray[np.int64], var: npt.NDArray[np.int64],
                       dist: FloatArray, options: SolveOptions, deadline: float) -> None:
    """Raise the proven lower end by the LP relaxation: where the relaxed (R) model is infeasible,
    so is every plan. A binary search of LPs (HiGHS) between the lower end and the plan, each a
    fraction of the cost of a covering MIP, by `deadline`."""
    lo, hi = search.proven_lo, search.hi
    while lo < hi and time.perf_counter() < deadline:
        mid = (lo + hi) // 2
        model = covering(phase, group, var, dist, float(search.distances[mid]))
        relaxed = replace(model, integrality=np.zeros(model.n_vars, np.int8))
        seconds = max(0.5, deadline - time.perf_counter())
        result = run_backend("highs", relaxed, replace(options, time_limit_s=seconds, start=None))
        search.checks += 1
        if result.status == Status.INFEASIBLE:
            lo = search.proven_lo = search.search_lo = mid + 1
        elif result.status.has_solution and not result.time_limited:
            hi = mid
        else:
            break


def _first_plan(model: Milp, backend: str, options: SolveOptions, soon: float, deadline: float) -> SolveResult:
    """A plan with every reach pair allowed: the greedy's, else the backend's by `soon`, else by
    `deadline` (the search below needs one; without it the phase has nothing to show)."""
    start = greedy_plan(model)
    if start is not None and model.is_feasible(start):
        return SolveResult(Status.TIME_LIMIT_FEASIBLE, start, 0.0, None, None, 0.0, None, False, "greedy")
    result = _check(model, backend, options, soon, start=options.start)
    if result.x is None and result.status != Status.INFEASIBLE and time.perf_counter() < deadline:
        result = _check(model, backend, options, deadline, start=options.start)
    return result


def _step(search: _Search, phase: Milp, group: npt.NDArray[np.int64], var: npt.NDArray[np.int64], dist: FloatArray,
          backend: str, options: SolveOptions, deadline: float) -> None:
    """One covering check halfway between the searched lower end and the upper end."""
    mid = (search.search_lo + search.hi) // 2
    model = covering(phase, group, var, dist, float(search.distances[mid]))
    steps_left = max(1, math.ceil(math.log2(search.hi - search.search_lo + 1)))
    share = (deadline - time.perf_counter()) / steps_left
    start = greedy_plan(model)
    start = start if start is not None and model.is_feasible(start) else None
    search.checks += 1
    if start is not None:
        _found(search, start, group, var, dist)
        return
    result = _check(model, backend, options, time.perf_counter() + share)
    if result.x is not None and model.is_feasible(result.x):
        _found(search, result.x, group, var, dist)
    elif result.status == Status.INFEASIBLE:
        search.proven_lo = search.search_lo = mid + 1
    else:   # unknown in its time: look higher, but prove nothing below
        search.search_lo = mid + 1
        search.notes = (*search.notes, f"the covering check at {search.distances[mid]:,.1f} ended unknown "
                        f"({result.status.value}); the lower end stays unproven there")


def _found(search: _Search, x: npt.NDArray[np.float64], group: npt.NDArray[np.int64], var: npt.NDArray[np.int64],
           dist: FloatArray) -> None:
    """A plan: the upper end moves to its own radius."""
    radius = plan_radius(x, group, var, dist)
    position = int(np.searchsorted(search.distances, radius))
    if position <= search.hi:
        search.hi, search.x = position, x


def plan_radius(x: npt.NDArray[np.float64], group: npt.NDArray[np.int64], var: npt.NDArray[np.int64],
                dist: FloatArray) -> float:
    """The longest distance from a covered group to its nearest open variable in `x`."""
    open_pair = x[var] > 0.5
    nearest = np.full(int(group.max()) + 1, np.inf)
    np.minimum.at(nearest, group[open_pair], dist[open_pair])
    present = np.zeros(len(nearest), dtype=bool)
    present[group] = True
    return float(nearest[present].max())


def _live_pairs(pm: PlanModel, milp: Milp) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
    """The radius pairs whose open variable may be 1 (groups renumbered from 0)."""
    live = milp.ub[pm.radius_var] > 0.5
    _, group = np.unique(pm.radius_group[live], return_inverse=True)
    return group.astype(np.int64), pm.radius_var[live], pm.radius_dist[live]


def covering(milp: Milp, group: npt.NDArray[np.int64], var: npt.NDArray[np.int64], dist: FloatArray,
             radius: float) -> Milp:
    """`milp` with one (R) row per group: an open variable within `radius` (a little slack for
    rounding, so a plan at exactly the radius stays inside)."""
    within = dist <= radius * (1 + 1e-12) + 1e-9
    n_groups = int(group.max()) + 1 if len(group) else 0
    rows = sp.csr_array((np.ones(int(within.sum())), (group[within], var[within])), shape=(n_groups, milp.n_vars))
    rows.sum_duplicates()
    A = sp.csr_array(sp.vstack([milp.A, rows], format="csr"))
    block = Block(RADIUS_ROWS, milp.n_rows, milp.n_rows + n_groups)
    return replace(milp, A=A, row_lb=np.concatenate([milp.row_lb, np.ones(n_groups)]),
                   row_ub=np.concatenate([milp.row_ub, np.full(n_groups, np.inf)]),
                   row_blocks=(*milp.row_blocks, block))


def _check(model: Milp, backend: str, options: SolveOptions, deadline: float,
           start: npt.NDArray[np.float64] | None = None) -> SolveResult:
    """Whether `model` has a plan: the backend, stopping at its first (zero objective)."""
    seconds = max(0.5, deadline - time.perf_counter())
    usable = start if start is not None and model.is_feasible(start) else None
    return run_backend(backend, model, replace(options, time_limit_s=seconds, start=usable, mip_gap=1.0))
