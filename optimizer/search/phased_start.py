"""A feasible plan for a phased model (`optimizer.model.years`), fast: what its solver starts from.

A phased model holds a block of open (``yp``), coverage (``xp``) and co-location (``dp``)
variables per planning year; the greedy (`optimizer.search.greedy`) reads one snapshot only. On a
large phased model a solver without a start can end its limit with no plan at all, so this
builds one:

1. *Due years.* A facility type is due in the first year whose target rows hold one of its open or
   coverage variables (a target holds in its year and every later one); a type no target names is
   due in the last year. Existing facilities count in every year.
2. *Collapse.* One open variable per pair (Y) and one coverage variable per unit and type (X):
   y[j,p] is Y_j from the pair's due year on and 0 before, x likewise; co-location variables are 0
   (capital in full: without the discounts a plan is dearer, never infeasible). Every row is kept
   through that map, except that the yearly capital rows (C6y) become cumulative: what is due by
   year p costs at most the caps of the years up to p, since it must be bought in one of them.
   Links (C2) of the last year stand for every year's (the same reach once everything is open).
   The result is a one-snapshot covering model (blocks ``y``, ``x``) that the greedy plans,
   targets of every year included, with that year's grown weights.
3. *Schedule.* The plan's new facilities get opening years from the last year back: each year
   takes, dearest first, those due in it or later that still fit its cap; the rest move to an
   earlier year (opening earlier meets every target they count for). One that fits in no year
   before its due year: no start.
4. The phased vector is completed (coverage per year from the facilities open in reach; each new
   facility's best co-location factor among hosts open in its opening year) and checked against
   every row of the phased model.

It only supplies an incumbent: the bound still comes from the solver, the LP or the dual ascent.
Beds and elastic shortfalls are outside it (None: the solver starts without a plan).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.model.milp import IMPLIED_INTEGER, INTEGER, Block, Milp, covered_by_link
from optimizer.model.schedule import Schedule
from optimizer.search.greedy import discount_partner, discount_value, greedy_plan

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_OWN_BLOCKS = {"yp", "xp", "dp"}
_DROPPED = ("Y1 ", "C1a ", "C1b ")        # hold with co-location at 0 and the facility open for good
_TARGETS = ("C3a ", "C3 ", "C4 ", "C5 ", "BT ")
_LINK = "C2 coverage link"


def phased_start(milp: Milp, schedule: Schedule, cover_type: IntArray, *,
                 time_limit_s: float = 0.0) -> FloatArray | None:
    """A feasible vector of the phased `milp` (any phase's objective), or None when the model is
    outside this heuristic (beds, elastic shortfalls) or no schedule fits the yearly caps.
    `cover_type`: the facility type of each coverage variable of one year (``PlanModel.x_type``
    holds it tiled per year); `time_limit_s`: the greedy's local search on the collapsed model."""
    if any(b.size and b.name not in _OWN_BLOCKS for b in milp.var_blocks) or not schedule.n_pairs:
        return None
    periods, n_pairs = len(schedule.years), schedule.n_pairs
    y_of = schedule.y_start + np.arange(periods * n_pairs, dtype=np.int64).reshape(periods, n_pairs)
    x_block = _var_block(milp, "xp")
    n_cover = x_block.size // periods
    cover_type = cover_type[:n_cover]
    x_of = x_block.start + np.arange(periods * n_cover, dtype=np.int64).reshape(periods, n_cover)
    existing = milp.lb[y_of[0]] > 0.5
    due = _due_periods(milp, schedule, y_of, x_of, cover_type)
    collapsed, cap_rows = _collapse(milp, schedule, y_of, x_of, cover_type, due, existing)
    plan = greedy_plan(collapsed, time_limit_s=time_limit_s)
    if plan is None:
        return None
    opened = (plan[:n_pairs] > 0.5) & ~existing
    capex = np.asarray(milp.A[cap_rows[:1]].toarray()).ravel()[y_of[0]] if len(cap_rows) else np.zeros(n_pairs)
    caps = milp.row_ub[cap_rows] if len(cap_rows) else np.full(1, np.inf)
    opening = _opening_years(np.flatnonzero(opened), due[schedule.pair_type], capex, caps, periods)
    if opening is None:
        return None
    v = _phased_vector(milp, y_of, existing, opening)
    return v if milp.is_feasible(v) else None


def _var_block(milp: Milp, name: str) -> Block:
    return next((b for b in milp.var_blocks if b.name == name), Block(name, milp.n_vars, milp.n_vars))


def _blocks(milp: Milp, *prefixes: str) -> list[Block]:
    return [b for b in milp.row_blocks if b.name.startswith(prefixes) and b.size]


def _rows_of(blocks: list[Block]) -> IntArray:
    return np.concatenate([np.arange(b.start, b.stop) for b in blocks] + [np.zeros(0, np.int64)]).astype(np.int64)


def _due_periods(milp: Milp, schedule: Schedule, y_of: IntArray, x_of: IntArray, cover_type: IntArray) -> IntArray:
    """Per facility type, the first period any target row holds one of its variables (last if none)."""
    periods, n_pairs = y_of.shape
    n_types = int(max(schedule.pair_type.max(initial=-1), cover_type.max(initial=-1))) + 1
    due = np.full(n_types, periods - 1, dtype=np.int64)
    cols = sp.csr_array(milp.A[_rows_of(_blocks(milp, *_TARGETS))]).indices
    in_y = (cols >= y_of[0, 0]) & (cols < y_of[0, 0] + y_of.size)
    offset = cols[in_y] - y_of[0, 0]
    np.minimum.at(due, schedule.pair_type[offset % n_pairs], offset // n_pairs)
    if x_of.size:
        in_x = (cols >= x_of[0, 0]) & (cols < x_of[0, 0] + x_of.size)
        offset = cols[in_x] - x_of[0, 0]
        np.minimum.at(due, cover_type[offset % x_of.shape[1]], offset // x_of.shape[1])
    return due


def _collapse(milp: Milp, schedule: Schedule, y_of: IntArray, x_of: IntArray, cover_type: IntArray,
              due: IntArray, existing: npt.NDArray[np.bool_]) -> tuple[Milp, IntArray]:
    """The one-snapshot model (Y then X; C2 links first) and the phased model's yearly capital rows."""
    periods, n_pairs = y_of.shape
    n_cover = x_of.shape[1]
    period = np.arange(periods)[:, None]
    y_live = (period >= due[schedule.pair_type][None, :]) | existing[None, :]
    x_live = period >= due[cover_type][None, :]
    new_of = np.full(milp.n_vars, -1, dtype=np.int64)
    new_of[y_of[y_live]] = np.broadcast_to(np.arange(n_pairs), y_of.shape)[y_live]
    new_of[x_of[x_live]] = n_pairs + np.broadcast_to(np.arange(n_cover), x_of.shape)[x_live]
    kept = np.flatnonzero(new_of >= 0)
    n = n_pairs + n_cover
    P = sp.csr_array((np.ones(len(kept)), (kept, new_of[kept])), shape=(milp.n_vars, n))
    links = _blocks(milp, _LINK)
    link_rows = _rows_of(links[-1:])   # the last year's links: every year's, once all is open
    cap_rows = np.asarray(schedule.capital_year_rows, dtype=np.int64)
    skipped = np.zeros(milp.n_rows, dtype=bool)
    skipped[_rows_of(_blocks(milp, *_DROPPED, _LINK))] = True
    skipped[cap_rows] = True
    other = np.flatnonzero(~skipped & (np.isfinite(milp.row_lb) | np.isfinite(milp.row_ub)))
    A = sp.csr_array(milp.A)
    cumulative = sp.csr_array(np.tril(np.ones((len(cap_rows), len(cap_rows))))) @ sp.csr_array(A[cap_rows] @ P)
    stacked = sp.csr_array(sp.vstack([A[link_rows] @ P, A[other] @ P, cumulative]))
    stacked.eliminate_zeros()
    last = np.concatenate([y_of[-1], x_of[-1]])
    collapsed = Milp(P.T @ milp.c, milp.offset, milp.lb[last].copy(), milp.ub[last].copy(),  # type: ignore[arg-type]
                     np.concatenate([np.full(n_pairs, INTEGER), np.full(n_cover, IMPLIED_INTEGER)]).astype(np.int8),
                     stacked,
                     np.concatenate([milp.row_lb[link_rows], milp.row_lb[other], np.full(len(cap_rows), -np.inf)]),
                     np.concatenate([milp.row_ub[link_rows], milp.row_ub[other], np.cumsum(milp.row_ub[cap_rows])]),
                     (Block("y", 0, n_pairs), Block("x", n_pairs, n)),
                     (Block(_LINK, 0, len(link_rows)), Block("rows", len(link_rows), stacked.shape[0])))
    return collapsed, cap_rows


def _opening_years(opened: IntArray, due: IntArray, capex: FloatArray, caps: FloatArray,
                   periods: int) -> IntArray | None:
    """Per pair, its opening period (-1: not opened by the plan), or None when some facility fits
    in no year up to its due year: from the last year back, each year takes the dearest of those
    due then or later that still fit its cap."""
    opening = np.full(len(due), -1, dtype=np.int64)
    left = opened[np.argsort(-capex[opened], kind="stable")]
    for p in range(periods - 1, -1, -1):
        room = float(caps[p]) if p < len(caps) else np.inf
        for j in left[due[left] >= p]:
            if capex[j] <= room + 1e-6 * max(1.0, abs(room)):
                opening[j] = p
                room -= capex[j]
        left = left[opening[left] < 0]
    return None if len(left) else opening


def _phased_vector(milp: Milp, y_of: IntArray, existing: npt.NDArray[np.bool_], opening: IntArray) -> FloatArray:
    """The whole vector: open from the opening year on, coverage per year, co-location factors."""
    v = np.clip(np.zeros(milp.n_vars), milp.lb, milp.ub)
    periods = y_of.shape[0]
    is_open = existing[None, :] | ((opening[None, :] >= 0) & (np.arange(periods)[:, None] >= opening[None, :]))
    v[y_of] = is_open.astype(np.float64)
    A = sp.csr_array(milp.A)
    links = _rows_of(_blocks(milp, _LINK))
    if len(links):
        link = sp.csr_array(A[links])
        x_of_row = covered_by_link(link)
        reached = -(link @ v)     # x and d are 0 here: the open facilities in reach
        has = x_of_row >= 0
        v[x_of_row[has]] = np.minimum(milp.ub[x_of_row[has]], np.maximum(0.0, reached[has]))
    _discounts(milp, A, v, y_of, opening)
    return v


def _discounts(milp: Milp, A: sp.csr_array, v: FloatArray, y_of: IntArray, opening: IntArray) -> None:
    """d = 1 for each new facility's best factor among hosts open in its opening year (C1a, C1b)."""
    d_block = _var_block(milp, "dp")
    if not d_block.size:
        return
    host = discount_partner(sp.csr_array(A[_rows_of(_blocks(milp, "C1a "))]), d_block)
    owner = discount_partner(sp.csr_array(A[_rows_of(_blocks(milp, "C1b "))]), d_block)
    d = np.arange(d_block.start, d_block.stop)
    n_pairs = y_of.shape[1]
    owner_pair = np.where(owner >= 0, (owner - y_of[0, 0]) % n_pairs, 0)
    owner_period = np.where(owner >= 0, (owner - y_of[0, 0]) // n_pairs, -1)
    saving = discount_value(milp, d)
    usable = (host >= 0) & (owner >= 0) & (milp.ub[d] > 0.5) & (saving > 0)
    usable[usable] &= (v[host[usable]] > 0.5) & (opening[owner_pair[usable]] == owner_period[usable])
    if not usable.any():
        return
    cand = np.flatnonzero(usable)
    order = cand[np.lexsort((-saving[cand], owner[cand]))]
    first = np.concatenate([[True], owner[order][1:] != owner[order][:-1]])
    v[d[order[first]]] = 1.0


