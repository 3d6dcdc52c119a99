"""Core search: a plan improved by exact MIPs over the most promising sites only.

The candidate sites are ranked (`site_rank`): by the LP relaxation's values where it was solved,
else by Lagrangian reduced costs (a site whose reduced cost is high is rarely in a good plan: the
"core" of Caprara, Fischetti and Toth's set-covering heuristic). The LP's values say more: most
sites of a covering LP have reduced cost 0, and the values say which of them the LP opens, so a
core ranked by them reaches better plans sooner than one ranked by reduced costs.

The core model keeps the plan's open sites, the fixed ones and the `extra` best-ranked closed
sites; every other site stays closed. Coverage variables whose units see the same core sites (and
sit in the same other rows) become one variable: covering is free once a site in reach is open, so the
merged model is exact for the core. A core of a small share of the sites merges the coverage
variables into a small fraction of their number, and HiGHS solves the whole core, share rows and
budgets included, where windows (`optimizer.search.windows`) only see a neighbourhood and cannot
move coverage across the map.

The core grows when HiGHS proves it has nothing better and shrinks when HiGHS stops on its time
limit without a gain. Every plan put back is checked against the whole model's rows. A core that
holds every free site is the whole model, merged exactly, so HiGHS's bound on it is a bound on the
whole model: small models are proven optimal this way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.bounds.dual_ascent import open_mask
from optimizer.model.milp import INTEGER, Milp, covered_by_link
from optimizer.search.windows import SearchReport, SubSolver, highs_window
from optimizer.solvers.base import SolveOptions, Status
from optimizer.tuning import TUNING

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_LINK = "C2 coverage link"
_COLOCATION = ("C1a host open", "C1b one factor")


@dataclass(frozen=True)
class CoreModel:
    """The core MIP and how its columns map back onto the whole model's."""

    milp: Milp
    new_of: IntArray      # per whole-model column: its core column, -1 where held at 0
    start: FloatArray     # the plan in core columns

    def plan_of(self, core_x: FloatArray) -> FloatArray:
        """The whole model's vector for a core solution (integers rounded)."""
        values = np.asarray(core_x, dtype=np.float64).copy()
        integer = self.milp.integrality == INTEGER
        values[integer] = np.round(values[integer])
        kept = self.new_of >= 0
        full = np.zeros(len(self.new_of))
        full[kept] = values[self.new_of[kept]]
        return full


class CoreShape:
    """What every core of a model shares, read once per search: the sites, the coverage-link
    rows with their coverage variables, the rows those variables also sit in (as keys), and the
    co-location rows (reading them is a large part of building each core model)."""

    def __init__(self, milp: Milp) -> None:
        self.milp = milp
        self.A = sp.csr_array(milp.A)
        self.is_site = open_mask(milp)
        block = next((b for b in milp.row_blocks if b.name == _LINK and b.size), None)
        links = np.arange(0) if block is None else np.arange(block.start, block.stop)
        cover_var = covered_by_link(self.A[links]) if len(links) else np.zeros(0, np.int64)
        self.links, self.cover_var = links[cover_var >= 0], cover_var[cover_var >= 0]
        self.is_other_row = np.isfinite(milp.row_lb) | np.isfinite(milp.row_ub)
        self.is_other_row[self.links] = False
        self.is_cover = np.zeros(milp.n_vars, dtype=bool)
        self.is_cover[self.cover_var] = True
        self.link_rows = self.A[self.links]
        self.entry_link = np.repeat(np.arange(len(self.links)), np.diff(self.link_rows.indptr))
        rng = np.random.default_rng(0)
        self.site_keys = rng.random((2, milp.n_vars))
        self.other_keys = self._other_row_keys(rng.random((2, milp.n_rows)))
        rows = np.concatenate([np.arange(b.start, b.stop) for b in milp.row_blocks if b.name in _COLOCATION]
                              + [np.zeros(0, dtype=np.int64)])
        self.colocation_rows = self.A[rows]
        self.entry_colocation = np.repeat(np.arange(len(rows)), np.diff(self.colocation_rows.indptr))

    def _other_row_keys(self, row_keys: FloatArray) -> FloatArray:
        """Per link row: sums of random keys over the other rows its coverage variable is in."""
        by_col = sp.csc_array(self.A[:, self.cover_var])
        entry_var = np.repeat(np.arange(len(self.cover_var)), np.diff(by_col.indptr))
        other = self.is_other_row[by_col.indices]
        return np.column_stack([np.bincount(entry_var[other], weights=k[by_col.indices[other]],
                                            minlength=len(self.links)) for k in row_keys])


def core_model(milp: Milp, plan: FloatArray, keep_site: npt.NDArray[np.bool_],
               shape: CoreShape | None = None) -> CoreModel:
    """The model with every site outside `keep_site` closed and the coverage variables of units
    that see the same core sites merged. `plan` must open only kept sites."""
    shape = shape or CoreShape(milp)
    keep_site = keep_site & shape.is_site
    group, first_link = _groups(shape, keep_site)
    held = _held_by_colocation(shape, shape.is_site & ~keep_site)
    plain = np.flatnonzero(~shape.is_cover & (~shape.is_site | keep_site) & ~held)
    new_of = np.full(milp.n_vars, -1, dtype=np.int64)
    new_of[plain] = np.arange(len(plain))
    seen = group >= 0
    cover_var = shape.cover_var
    new_of[cover_var[seen]] = len(plain) + group[seen]
    n_groups = int(group.max()) + 1 if seen.any() else 0
    kept = np.flatnonzero(new_of >= 0)
    P = sp.csr_array((np.ones(len(kept)), (kept, new_of[kept])), shape=(milp.n_vars, len(plain) + n_groups))
    rows = np.sort(np.concatenate([np.flatnonzero(shape.is_other_row), shape.links[first_link]]))
    first_cover = cover_var[first_link]
    core = Milp(P.T @ milp.c, milp.offset,  # type: ignore[arg-type]  # scipy-stubs: sparse @ 1-d array may be sparse
                np.concatenate([milp.lb[plain], milp.lb[first_cover]]),
                np.concatenate([milp.ub[plain], milp.ub[first_cover]]),
                np.concatenate([milp.integrality[plain], milp.integrality[first_cover]]),
                sp.csr_array(shape.A[rows] @ P), milp.row_lb[rows], milp.row_ub[rows])
    start = np.zeros(core.n_vars)
    np.maximum.at(start, new_of[kept], plan[kept])
    return CoreModel(core, new_of, start)


def _held_by_colocation(shape: CoreShape, closed_site: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Co-location variables (d) in a row with a closed site: a factor needs its host and its
    guest open (C1a, C1b), so they are 0 in every plan of the core (on large models many of
    them, which HiGHS's presolve would otherwise have to remove)."""
    held = np.zeros(shape.milp.n_vars, dtype=bool)
    C = shape.colocation_rows
    with_closed = np.bincount(shape.entry_colocation, weights=closed_site[C.indices], minlength=C.shape[0]) > 0
    held[C[np.flatnonzero(with_closed)].indices] = True
    return held & ~shape.is_site


def _groups(shape: CoreShape, core_site: npt.NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
    """Per link row: its group (-1 when no core site reaches its unit) and, per group, the
    position of its first row. Rows group together when their core sites and the other rows of
    their coverage variable are the same sets: compared by sums of random keys per member
    (two keys each, so that different sets never share all four sums in practice; a merge that
    were wrong would still be caught by the check of the whole model's rows)."""
    L, n = shape.link_rows, len(shape.links)
    in_core = core_site[L.indices]
    entry = shape.entry_link[in_core]
    keys = np.column_stack([np.bincount(entry, weights=k[L.indices[in_core]], minlength=n) for k in shape.site_keys]
                           + [shape.other_keys])
    reached = np.bincount(entry, minlength=n) > 0
    group = np.full(n, -1, dtype=np.int64)
    if not reached.any():
        return group, np.zeros(0, dtype=np.int64)
    _, first, inverse = np.unique(keys[reached], axis=0, return_index=True, return_inverse=True)
    group[reached] = inverse.ravel()
    return group, np.flatnonzero(reached)[first]


def site_rank(reduced_costs: FloatArray, lp_values: FloatArray | None = None) -> FloatArray:
    """Per variable, its place in the order core search takes closed sites in (lower first):
    by reduced cost, or, given the LP relaxation's values, by value (highest first) and reduced
    cost among equal values."""
    if lp_values is None:
        return reduced_costs
    rank = np.empty(len(reduced_costs))
    rank[np.lexsort((reduced_costs, -np.round(lp_values, 6)))] = np.arange(len(reduced_costs))
    return rank


def core_search(milp: Milp, plan: FloatArray, rank: FloatArray, *, time_limit_s: float,
                target: float = -np.inf, solve: SubSolver | None = None,
                small_first: bool = False) -> tuple[FloatArray, SearchReport]:
    """A plan at least as good as the feasible `plan`, from core MIPs over the closed sites of
    lowest `rank` (`site_rank`) within `time_limit_s`; stops once the objective reaches `target`
    or a core of every site is solved to optimality. The report's `bound` is HiGHS's bound on a
    core of every free site (a bound on the whole model), -inf when no such core was solved.
    The first core holds as many closed sites as the plan has open ones, or `Tuning.core_small_first`
    of that when `small_first`, and then each MIP gets at most that share of the time left: with
    sites ranked by the LP's values small cores gain at once, where HiGHS spends the first seconds
    of a large one on root cuts."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    solve = solve or highs_window
    shape = CoreShape(milp)
    is_site = shape.is_site
    free_site = is_site & (milp.lb < milp.ub)
    best = start = float(milp.c @ plan + milp.offset)
    # of the plan's open sites at first; of the time left per MIP
    share = TUNING.core_small_first if small_first else 1.0
    extra, solves, improved = max(1, int(share * (free_site & (plan > 0.5)).sum())), 0, 0
    bound = -np.inf
    reached = target + 1e-9 * max(1.0, abs(target)) if np.isfinite(target) else -np.inf
    while best > reached and deadline - time.perf_counter() > 0.5:
        closed = np.flatnonzero(free_site & (plan <= 0.5))
        keep = is_site & ((plan > 0.5) | (milp.lb >= milp.ub))
        keep[closed[np.argsort(rank[closed], kind="stable")[:extra]]] = True
        core = core_model(milp, plan, keep, shape)
        left = deadline - time.perf_counter()
        left = left if left < 2.0 else max(1.0, share * left)   # small cores: room for several
        result = solve(core.milp, SolveOptions(time_limit_s=left, mip_gap=1e-6, threads=1, start=core.start))
        solves += 1
        whole = extra >= len(closed)
        if whole and result.bound is not None and np.isfinite(result.bound):
            bound = max(bound, float(result.bound))
        candidate = core.plan_of(result.x) if result.status.has_solution and result.x is not None else None
        value = float(milp.c @ candidate + milp.offset) if candidate is not None else np.inf
        gained = candidate is not None and value < best - 1e-9 * max(1.0, abs(best)) and milp.is_feasible(candidate)
        if gained:
            assert candidate is not None
            plan, best, improved = candidate, value, improved + 1
        if whole and result.status == Status.OPTIMAL:
            break   # every site in the core, solved to optimality: the plan is optimal
        if not gained:
            optimal = result.status == Status.OPTIMAL
            extra = int(extra * TUNING.core_grow) + 1 if optimal else max(1, int(extra * TUNING.core_shrink))
    return plan, SearchReport(solves, improved, start, best, time.perf_counter() - t0, int(extra), "core",
                              min(bound, best))
