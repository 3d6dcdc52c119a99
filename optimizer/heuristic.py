"""A feasible plan fast for covering models: Lagrangian greedy, then drop what is redundant.

Works on the `Milp` the model builds for uncapacitated facility types (blocks ``y`` open, ``x``
covered, ``d`` co-location; rows C1a/C1b, C2 and any rows over y and x such as full-coverage
rows, shares, counts, land and budgets). It chooses which facilities open; everything else is
completed exactly: a unit counts as covered when a facility in its reach is open, and each new
facility takes its best open host's co-location factor. Models with assignment or elastic
variables are not its business (`greedy_plan` returns None and the caller uses a solver).

1. Feasibility: while a lower-bounded row falls short, open the facility with the best price
   per unit of shortfall removed (weighted by each row's requirement), where the price is the
   Lagrangian reduced cost when multipliers are given (Caprara-Fischetti-Toth's rule for set
   covering) and the objective coefficient otherwise. Facilities that would break an upper
   bound (budget, count maximum) are never opened.
2. Objective: while opening a facility still improves the objective (coverage), open the best
   gain per share of the scarcest remaining resource.
3. Drop: close open facilities, dearest first, whenever every row stays satisfied and the
   objective improves.
Evaluation is lazy (a facility's ratio only falls as coverage grows), so each step looks at a
handful of candidates, each through sparse column slices.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.milp import Milp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_TOL = 1e-7
_OWN_BLOCKS = {"y", "x", "d"}


@dataclass
class _State:
    """The covering structure of the Milp and the current choice of open facilities."""

    milp: Milp
    y: IntArray                 # y variable indices
    x_of_y: sp.csr_array        # [y position] -> x variables it covers
    G: sp.csc_array             # aggregate rows over all variables (C2, C1 excluded)
    lo: FloatArray
    hi: FloatArray
    weight: FloatArray          # per aggregate row: 1 / requirement scale
    open: npt.NDArray[np.bool_]
    cover: IntArray             # per variable: open facilities covering it (x variables only)
    act: FloatArray             # aggregate row activities


def greedy_plan(milp: Milp, reduced_costs: FloatArray | None = None,
                seed: npt.NDArray[np.bool_] | None = None) -> FloatArray | None:
    """A feasible solution vector of `milp`, or None when the model is outside this heuristic
    (other variable blocks) or no plan was found. `seed` (over all variables) names facilities
    to open first when no upper-bounded row forbids it, e.g. those a Lagrangian solution opens."""
    if any(b.size and b.name not in _OWN_BLOCKS for b in milp.var_blocks):
        return None
    state = _structure(milp)
    if state is None:
        return None
    price = milp.c if reduced_costs is None else reduced_costs
    if seed is not None:
        _open_seed(state, np.flatnonzero(seed[state.y]))
    if not _fill_shortfalls(state, price):
        return None
    _improve_objective(state)
    _drop_redundant(state)
    v = complete(milp, state.y[state.open])
    return v if is_feasible(milp, v) else None


def complete(milp: Milp, open_y: IntArray) -> FloatArray:
    """The full vector for a set of open facilities: coverage, and each new facility's best
    co-location factor among its open hosts."""
    v = np.clip(np.zeros(milp.n_vars), milp.lb, milp.ub)
    v[open_y] = 1.0
    x_block = _block(milp, "x")
    if x_block is not None and x_block.size:
        rows = _row_slice(milp, "C2 coverage link")
        link = milp.A[rows.start:rows.stop]
        coverage = -(link @ v)   # x and d are still 0 here: minus the open facilities in reach
        x_of_row = _x_of_rows(link, x_block)
        v[x_of_row] = np.minimum(1.0, np.maximum(0.0, coverage))
    _complete_discounts(milp, v)
    return v


def is_feasible(milp: Milp, v: FloatArray, *, tol: float = 1e-6) -> bool:
    """Whether `v` satisfies every bound and row of `milp` (relative tolerance)."""
    slack = tol * np.maximum(1.0, np.abs(v))
    if (v < milp.lb - slack).any() or (v > milp.ub + slack).any():
        return False
    act = milp.activity(v)
    row_slack = tol * np.maximum(1.0, np.abs(act))
    return bool(((act >= milp.row_lb - row_slack) & (act <= milp.row_ub + row_slack)).all())


def _block(milp: Milp, name: str):
    return next((b for b in milp.var_blocks if b.name == name), None)


def _row_slice(milp: Milp, name: str) -> slice:
    block = next((b for b in milp.row_blocks if b.name == name), None)
    return slice(0, 0) if block is None else slice(block.start, block.stop)


def _x_of_rows(link: sp.csr_array, x_block) -> IntArray:
    """The x variable of each C2 row (its one entry inside the x block)."""
    coo = link.tocoo()
    inside = (coo.col >= x_block.start) & (coo.col < x_block.stop) & (coo.data > 0)
    x_of_row = np.full(link.shape[0], -1, dtype=np.int64)
    x_of_row[coo.row[inside]] = coo.col[inside]
    return x_of_row


def _structure(milp: Milp) -> _State | None:
    y_block = _block(milp, "y")
    if y_block is None or not y_block.size:
        return None
    y = np.arange(y_block.start, y_block.stop, dtype=np.int64)
    excluded = np.zeros(milp.n_rows, dtype=bool)
    for block in milp.row_blocks:
        if block.name.startswith(("C1a", "C1b", "C2 ")):
            excluded[block.start:block.stop] = True
    x_of_y = _x_of_y(milp, y_block)
    free = ~np.isfinite(milp.row_lb) & ~np.isfinite(milp.row_ub)
    keep = np.flatnonzero(~excluded & ~free)
    G = milp.A[keep].tocsc()
    lo, hi = milp.row_lb[keep], milp.row_ub[keep]
    scale = np.where(np.isfinite(lo), np.abs(lo), 0.0)
    weight = 1.0 / np.maximum(scale, 1.0)
    open_ = milp.lb[y] > 0.5
    v = complete(milp, y[open_])
    cover = np.zeros(milp.n_vars, dtype=np.int64)
    np.add.at(cover, x_of_y[np.flatnonzero(open_)].indices if open_.any() else np.zeros(0, np.int64), 1)
    return _State(milp, y, x_of_y, G, lo, hi, weight, open_, cover, milp.A[keep] @ v)


def _x_of_y(milp: Milp, y_block) -> sp.csr_array:
    """[y position, x variable] = 1 where opening y covers x (from the C2 rows)."""
    rows = _row_slice(milp, "C2 coverage link")
    link = milp.A[rows.start:rows.stop]
    x_block = _block(milp, "x")
    n_y = y_block.size
    if x_block is None or not link.shape[0]:
        return sp.csr_array((n_y, milp.n_vars))
    x_of_row = _x_of_rows(link, x_block)
    coo = link.tocoo()
    is_y = (coo.col >= y_block.start) & (coo.col < y_block.stop)
    data = np.ones(int(is_y.sum()))
    return sp.csr_array((data, (coo.col[is_y] - y_block.start, x_of_row[coo.row[is_y]])),
                        shape=(n_y, milp.n_vars))


def _newly_covered(state: _State, k: int) -> IntArray:
    xs = state.x_of_y.indices[state.x_of_y.indptr[k]:state.x_of_y.indptr[k + 1]]
    return xs[state.cover[xs] == 0]


def _only_covered(state: _State, k: int) -> IntArray:
    xs = state.x_of_y.indices[state.x_of_y.indptr[k]:state.x_of_y.indptr[k + 1]]
    return xs[state.cover[xs] == 1]


def _delta(state: _State, cols: IntArray) -> tuple[IntArray, FloatArray]:
    """(aggregate rows, change of activity) when every variable in `cols` goes from 0 to 1."""
    G = state.G
    starts, stops = G.indptr[cols], G.indptr[cols + 1]
    lengths = stops - starts
    if not lengths.sum():
        return np.zeros(0, np.int64), np.zeros(0)
    pos = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    rows, vals = G.indices[pos], G.data[pos]
    uniq, inv = np.unique(rows, return_inverse=True)
    return uniq, np.bincount(inv, weights=vals)


def _opening(state: _State, k: int) -> tuple[IntArray, IntArray, FloatArray, float]:
    """What opening y position k does: x newly covered, rows touched, their change, objective change."""
    new = _newly_covered(state, k)
    cols = np.concatenate([[state.y[k]], new])
    rows, change = _delta(state, cols)
    return new, rows, change, float(state.milp.c[cols].sum())


def _breaks_upper(state: _State, rows: IntArray, change: FloatArray) -> bool:
    after = state.act[rows] + change
    return bool((after > state.hi[rows] + _TOL * np.maximum(1.0, np.abs(state.hi[rows]))).any())


def _shortfall_removed(state: _State, rows: IntArray, change: FloatArray) -> float:
    need = np.maximum(state.lo[rows] - state.act[rows], 0.0)
    return float((state.weight[rows] * np.minimum(np.maximum(change, 0.0), need)).sum())


def _short(state: _State) -> bool:
    return bool((state.act < state.lo - _TOL * np.maximum(1.0, np.abs(state.lo))).any())


def _apply(state: _State, k: int, new: IntArray, rows: IntArray, change: FloatArray) -> None:
    state.open[k] = True
    xs = state.x_of_y.indices[state.x_of_y.indptr[k]:state.x_of_y.indptr[k + 1]]
    state.cover[xs] += 1
    state.act[rows] += change


def _open_seed(state: _State, positions: IntArray) -> None:
    for k in positions:
        if state.open[k] or state.milp.ub[state.y[k]] < 0.5:
            continue
        new, rows, change, _ = _opening(state, int(k))
        if not _breaks_upper(state, rows, change):
            _apply(state, int(k), new, rows, change)


def _fill_shortfalls(state: _State, price: FloatArray) -> bool:
    """Step 1; False when rows stay short with no facility left that helps."""
    def ratio(k: int) -> float | None:
        new, rows, change, _ = _opening(state, k)
        gain = _shortfall_removed(state, rows, change)
        if gain <= 0 or _breaks_upper(state, rows, change):
            return None
        p = float(price[state.y[k]] + price[new].sum())
        return p / gain if p > 0 else p * gain   # CFT: free columns first, most useful first
    return _lazy_greedy(state, ratio, stop=lambda: not _short(state))


def _improve_objective(state: _State) -> None:
    """Step 2: open facilities that still lower the objective (e.g. add coverage)."""
    def ratio(k: int) -> float | None:
        _, rows, change, dobj = _opening(state, k)
        if dobj >= -_TOL or _breaks_upper(state, rows, change):
            return None
        room = state.hi[rows] - state.act[rows]
        use = np.where(np.isfinite(room) & (change > 0), change / np.maximum(room, 1e-12), 0.0)
        return dobj / max(float(use.max(initial=0.0)), 1e-9)
    _lazy_greedy(state, ratio, stop=lambda: False)


def _lazy_greedy(state: _State, ratio, stop) -> bool:
    """Open facilities in increasing `ratio` (None: not useful now; ratios only rise)."""
    heap = []
    for k in np.flatnonzero(~state.open & (state.milp.ub[state.y] > 0.5)):
        r = ratio(int(k))
        if r is not None:
            heap.append((r, int(k)))
    heapq.heapify(heap)
    while not stop():
        if not heap:
            return False
        _, k = heapq.heappop(heap)
        r = ratio(k)
        if r is None:
            continue
        if heap and r > heap[0][0] + 1e-12:
            heapq.heappush(heap, (r, k))
            continue
        new, rows, change, _ = _opening(state, k)
        _apply(state, k, new, rows, change)
    return True


def _drop_redundant(state: _State) -> None:
    """Step 3: close open facilities, dearest first, while every row holds and the objective falls."""
    c = state.milp.c[state.y]
    closable = np.flatnonzero(state.open & (state.milp.lb[state.y] < 0.5))
    for k in closable[np.argsort(-c[closable], kind="stable")]:
        lost = _only_covered(state, int(k))
        cols = np.concatenate([[state.y[k]], lost])
        rows, change = _delta(state, cols)
        dobj = -float(state.milp.c[cols].sum())
        if dobj >= -_TOL:
            continue
        after = state.act[rows] - change
        lo, hi = state.lo[rows], state.hi[rows]
        short = (after < lo - _TOL * np.maximum(1.0, np.abs(lo))).any()
        if short or (after > hi + _TOL * np.maximum(1.0, np.abs(hi))).any():
            continue
        state.open[k] = False
        xs = state.x_of_y.indices[state.x_of_y.indptr[k]:state.x_of_y.indptr[k + 1]]
        state.cover[xs] -= 1
        state.act[rows] -= change


def _complete_discounts(milp: Milp, v: FloatArray) -> None:
    """d = 1 for each new facility's best co-location factor among open hosts (C1a/C1b)."""
    d_block = _block(milp, "d")
    if d_block is None or not d_block.size:
        return
    host_rows, owner_rows = _row_slice(milp, "C1a host open"), _row_slice(milp, "C1b one factor")
    d = np.arange(d_block.start, d_block.stop)
    host = _partner(milp.A[host_rows], d_block)
    owner = _partner(milp.A[owner_rows], d_block)
    value = _discount_value(milp, d)
    usable = (v[host] > 0.5) & (v[owner] > 0.5) & (value > 0)
    v[d] = 0.0
    if not usable.any():
        return
    cand = np.flatnonzero(usable)
    order = cand[np.lexsort((-value[cand], owner[cand]))]
    first = np.concatenate([[True], owner[order][1:] != owner[order][:-1]])
    v[d[order[first]]] = 1.0


def _partner(rows: sp.csr_array, d_block) -> IntArray:
    """For each d variable, the y variable with coefficient -1 in the same C1 row."""
    coo = sp.csr_array(rows).tocoo()
    partner = np.full(d_block.size, -1, dtype=np.int64)
    in_d = (coo.col >= d_block.start) & (coo.col < d_block.stop)
    neg = coo.data < 0
    y_of_row = np.full(rows.shape[0], -1, dtype=np.int64)
    y_of_row[coo.row[neg]] = coo.col[neg]
    partner[coo.col[in_d] - d_block.start] = y_of_row[coo.row[in_d]]
    return partner


def _discount_value(milp: Milp, d: IntArray) -> FloatArray:
    """How much a factor saves: its objective reward, else its capital-budget reward."""
    value = -milp.c[d]
    capital = _row_slice(milp, "C6 capital budget")
    if capital.stop > capital.start:
        row = milp.A[[capital.start]].toarray().ravel()
        value = np.where(value > 0, value, -row[d])
    return value
