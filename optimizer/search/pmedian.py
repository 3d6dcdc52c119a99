"""The p-median engine: Lagrangian bound, fast interchange, fixing, and the radius MIP.

On a `PMedianData` (sparse pairs, `optimizer.bounds.pmedian_lagrangian`):

1. *Plan:* greedy opening, then Whitaker's fast interchange to a local optimum
   (`optimizer.search.pmedian_kernels`).
2. *Bound:* subgradient ascent on Beasley's relaxation of the assignment rows. Each better
   subproblem choice of sites seeds the interchange (a Lagrangian heuristic), which lowers the
   incumbent the step aims at.
3. *Fixing:* sites whose reduced cost shows no better plan opens (closes) them are fixed, and
   the ascent resumes on what is left, until nothing more is fixed.
4. *Closing the gap:* where the root bound leaves one, Lagrangian branch and bound
   (`optimizer.search.pmedian_tree`) on the surviving sites for a share of the time left, then
   the radius formulation on them (`optimizer.search.pmedian_radius`) by HiGHS from the
   incumbent, where it is small enough (else the tree keeps all the time;
   `Tuning.pmedian_closer` chooses one of them alone). Either's bound over the fixed space,
   with the incumbent, is the bound of the whole.

The ascent runs until its step dies out and nothing more is fixed (on large instances that can
be the whole limit); a limit that cuts a step leaves the best plan and bound reached.

Every step is deterministic for a given `Tuning.pmedian_seed` except where a time limit cuts it.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from optimizer.bounds.pmedian_lagrangian import (
    CLOSED,
    FREE,
    OPEN,
    LagrangianState,
    PMedianData,
    ascend,
    evaluate,
    fix_by_reduced_costs,
    start_state,
)
from optimizer.search.backends import run_backend
from optimizer.search.pmedian_interchange import Interchange, Outcome
from optimizer.search.pmedian_radius import RadiusModel, radius_model, radius_start
from optimizer.search.pmedian_tree import lagrangian_tree
from optimizer.solvers.base import SolveOptions, Status
from optimizer.tuning import TUNING, Tuning

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def solve_pmedian(data: PMedianData, deadline: float, *, mip_gap: float, threads: int,
                  start: BoolArray | None = None, tuning: Tuning = TUNING) -> Outcome:
    """The best plan of `data` found by `deadline` (from the greedy plan and from `start`), and
    a proven bound (see the module doc). `data.state` is changed by the fixing."""
    t0 = time.perf_counter()
    search = Interchange(data, tuning.pmedian_seed)
    plan, value = search.improve(search.greedy(), deadline)
    if start is not None and start.shape == plan.shape:
        other, other_value = search.improve(start, deadline)
        if other_value < value:
            plan, value = other, other_value
    if value >= search.big:   # a unit left unserved: the chosen backend decides and explains
        return Outcome(plan, value, -np.inf, unserved=True)
    search.value(plan)
    out = Outcome(plan, value, -np.inf)
    st = start_state(data, search.c1.copy())
    out.bound = st.bound
    _ascend_and_fix(data, st, search, out, deadline, mip_gap, tuning)
    out.notes.append(f"p-median: Lagrangian bound after {st.iterations} subgradient steps, "
                     f"{int(np.count_nonzero(data.state != FREE))} of {data.n_sites} sites fixed "
                     f"({time.perf_counter() - t0:.1f} s)")
    if out.proven(data, mip_gap) or time.perf_counter() >= deadline:
        return out
    radius = _radius_model(data, out, tuning) if tuning.pmedian_closer != "tree" else None
    if radius is None and out.proven(data, mip_gap):
        return out
    if tuning.pmedian_closer != "radius" or radius is None:
        t1 = time.perf_counter()
        share = tuning.pmedian_tree_share if radius is not None else 1.0
        nodes = lagrangian_tree(data, st.best_lam, st.bound, search, out, t1 + share * (deadline - t1), tuning)
        out.notes.append(f"p-median: Lagrangian branch and bound, {nodes:,} nodes in {time.perf_counter() - t1:.1f} s")
    if radius is not None and not out.proven(data, mip_gap) and time.perf_counter() < deadline:
        _radius_mip(data, radius, search, out, deadline, mip_gap, threads)
    return out


def _ascend_and_fix(data: PMedianData, st: LagrangianState, search: Interchange, out: Outcome, deadline: float,
                    gap: float, tuning: Tuning) -> None:
    """Subgradient ascent with the interchange on its seeds, then fixing, until the bound meets
    the plan, the step rule ends, or `deadline`."""
    while time.perf_counter() < deadline and not out.proven(data, gap):
        seeds = ascend(data, st, out.value, deadline, iterations=tuning.pmedian_chunk,
                       patience=tuning.subgradient_patience, overshoot=tuning.pmedian_overshoot,
                       min_step=tuning.pmedian_min_step)
        out.bound = max(out.bound, min(st.bound, out.value))
        for seed in seeds[-tuning.pmedian_seeds_per_chunk:]:
            plan, value = search.improve(seed, deadline)
            if value < out.value - 1e-9 * max(1.0, out.value):
                out.is_open, out.value = plan, value
        fixed = _fix(data, st, out)
        if st.step < tuning.pmedian_min_step:
            if not fixed:
                break
            st.step = tuning.pmedian_refix_step


def _fix(data: PMedianData, st: LagrangianState, out: Outcome) -> bool:
    """Fix by reduced costs at the best multipliers; True when something was fixed (the state
    is then re-evaluated there, and the bound can only rise)."""
    st.bound, st.rho, st.chosen = evaluate(data, st.best_lam)
    closed_n, opened_n = fix_by_reduced_costs(data, st, out.value)
    if closed_n + opened_n == 0:
        return False
    value, rho, chosen = evaluate(data, st.best_lam)
    st.lam = st.best_lam.copy()
    st.bound, st.rho, st.chosen = value, rho, chosen
    out.bound = max(out.bound, min(value, out.value))
    return True


def _radius_model(data: PMedianData, out: Outcome, tuning: Tuning) -> RadiusModel | None:
    """The radius formulation over the sites left free, where it is small enough for HiGHS
    (`Tuning.pmedian_radius_max_nnz`); None otherwise, or where no plan respects the fixings
    (then none beats the incumbent, and the bound says so)."""
    live_pairs = int(np.count_nonzero(data.state[data.u_site] != CLOSED))
    if live_pairs > 2 * tuning.pmedian_radius_max_nnz:   # far too large: not even built (memory)
        out.notes.append(f"p-median: radius formulation over {live_pairs:,} live pairs left out: the tree keeps "
                         "the time")
        return None
    model = radius_model(data)
    if model is None:
        out.bound = out.value
        return None
    if model.milp.A.nnz > tuning.pmedian_radius_max_nnz:
        out.notes.append(f"p-median: radius formulation of {model.milp.A.nnz:,} nonzeros left out "
                         f"(above {tuning.pmedian_radius_max_nnz:,}): the tree keeps the time")
        return None
    return model


def _radius_mip(data: PMedianData, model: RadiusModel, search: Interchange, out: Outcome, deadline: float,
                gap: float, threads: int) -> None:
    """The radius formulation `model` by HiGHS, with the time left, from the incumbent."""
    search.value(out.is_open)
    respects = not np.any(out.is_open & (data.state == 1)) and np.all(out.is_open[data.state == OPEN])
    start = radius_start(model, out.is_open, search.c1) if respects else None
    left = deadline - time.perf_counter()
    options = SolveOptions(time_limit_s=max(0.1, left), mip_gap=gap, threads=threads, start=start)
    result = run_backend("highs", model.milp, options)
    out.notes.append(f"p-median: radius MIP of {model.milp.n_vars:,} columns, {model.milp.n_rows:,} rows on "
                     f"{len(model.site_of_col):,} free sites: {result.status.value} in {result.seconds:.1f} s")
    if result.status == Status.INFEASIBLE:
        out.bound = out.value
        return
    if result.x is not None and result.status.has_solution:
        plan = data.state == OPEN
        plan[model.site_of_col[result.x[:len(model.site_of_col)] > 0.5]] = True
        plan, value = search.improve(plan, deadline)
        if value < out.value:
            out.is_open, out.value = plan, value
    if result.bound is not None and np.isfinite(result.bound):
        # the MIP covers every plan that respects the fixings; the rest are no better than the incumbent
        out.bound = max(out.bound, min(result.bound, out.value))
