"""A feasible plan fast for covering models: greedy, drop, swap local search.

Works on the `Milp` the model builds for uncapacitated facility types (blocks ``y`` open, ``x``
covered, ``d`` co-location; rows C1a/C1b, C2 and any rows over y and x such as full-coverage
rows, shares, counts, land and budgets). It chooses which facilities open; everything else is
completed exactly: a unit counts as covered when a facility in its reach is open, and each new
facility takes its best open host's co-location factor. Models with assignment or elastic
variables are not its business (`greedy_plan` returns None and the caller uses a solver).

1. Feasibility: while a lower-bounded row falls short, open the facility with the best price
   per unit of shortfall removed (weighted by each row's requirement); the price is the
   Lagrangian reduced cost when given (Caprara-Fischetti-Toth's rule for set covering), the
   objective coefficient otherwise. Facilities that would break an upper bound (budget, count
   maximum) are never opened.
2. Objective: while opening a facility still improves the objective (coverage), open the best
   gain per share of the scarcest remaining resource.
3. Drop: close open facilities, dearest first, whenever every row holds and the objective falls.
4. Swap (while time is left): close an open facility and repair with its neighbours (those
   sharing units or small rows with it) when the repair costs less; then drop again. Pure set
   covering instead gets row weighting (`optimizer.search.row_weighting`) until it stalls: it
   reaches cheaper covers than swaps and destroy-and-repair, which stall a few sites short.
Co-location savings are left out while choosing (a conservative estimate of capital) and
counted exactly in the completed plan. The loops are compiled (`optimizer.search.greedy_kernels`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.model.milp import Block, Milp, covered_by_link
from optimizer.search import greedy_kernels as hk
from optimizer.search.row_weighting import SetCover, row_weighting_search, set_cover
from optimizer.tuning import TUNING

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
# The kernels' argument groups, in the order `_Arrays` lists them; fixed-length so that mypy can
# check the calls that unpack them.
_Structure = tuple[IntArray, IntArray, IntArray, IntArray, IntArray, FloatArray, IntArray, IntArray, FloatArray]
_Neighbours = tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]
_Colocation = tuple[IntArray, IntArray, FloatArray, IntArray, IntArray]
_Scratch = tuple[FloatArray, IntArray, npt.NDArray[np.bool_]]
_OWN_BLOCKS = {"y", "x", "d"}


@dataclass
class _Arrays:
    """The covering structure as flat arrays for the compiled loops."""

    y: IntArray                 # facility k -> its y variable
    x: IntArray                 # coverage index -> its x variable
    st: _Structure              # (x_ptr, x_idx, cover, gy_ptr, gy_row, gy_val, gx_ptr, gx_row, gx_val)
    nb: _Neighbours             # (yx_ptr, yx_idx, gy_ptr, gy_row, ry_ptr, ry_idx)
    lo: FloatArray
    hi: FloatArray
    weight: FloatArray
    act: FloatArray
    is_open: npt.NDArray[np.bool_]
    closable: npt.NDArray[np.bool_]
    usable: npt.NDArray[np.bool_]
    co: _Colocation             # (co_ptr, co_host, co_saving, rev_ptr, rev_guest): hosts and savings


def greedy_plan(milp: Milp, reduced_costs: FloatArray | None = None,
                seed: npt.NDArray[np.bool_] | None = None, *, time_limit_s: float = 0.0,
                target: float = -np.inf, cover: SetCover | None = None) -> FloatArray | None:
    """A feasible solution vector of `milp`, or None when the model is outside this heuristic
    (other variable blocks) or no plan was found. `seed` (over all variables) names facilities
    to open first where no upper-bounded row forbids it; `time_limit_s` > 0 allows local search,
    which stops early once the objective reaches `target` (a proven bound) or stalls. `cover`:
    the model's set-covering view where the caller has built it (`set_cover`, which is costly on
    large models, so it is built once); otherwise it is built here when there is time to search."""
    if not handles(milp):
        return None
    y_block = _block(milp, "y")
    if y_block is None or not y_block.size:   # e.g. a part of a model with units no site reaches
        v = complete(milp, np.zeros(0, np.int64))
        return v if milp.is_feasible(v) else None
    arrays = _structure(milp)
    if arrays is None:
        return None
    deadline = time.perf_counter() + time_limit_s
    c_y, c_x = milp.c[arrays.y], milp.c[arrays.x]
    price = milp.c if reduced_costs is None else reduced_costs
    scratch = _scratch(arrays)
    candidates = np.flatnonzero(arrays.usable)
    co = _co(arrays)
    # Lagrangian prices already count the cheapest co-location: no saving on top of them.
    fill_co = co if reduced_costs is None else (co[0], co[1], np.zeros_like(co[2]), *co[3:])
    if seed is not None:
        _open_seed(arrays, np.flatnonzero(seed[arrays.y] & arrays.usable), scratch)
    if not hk.lazy_greedy(hk.FILL, candidates, arrays.st, price[arrays.y], price[arrays.x], arrays.lo,
                          arrays.hi, arrays.weight, arrays.act, arrays.is_open, *scratch, fill_co):
        return None
    hk.lazy_greedy(hk.IMPROVE, candidates, arrays.st, c_y, c_x, arrays.lo, arrays.hi, arrays.weight,
                   arrays.act, arrays.is_open, *scratch, co)
    _drop(arrays, c_y, scratch)
    searching = time_limit_s > 0
    if searching and cover is None:
        cover = set_cover(milp)
    if searching and cover is None:
        _local_search(arrays, c_y, c_x, scratch, deadline)
        _destroy_and_repair(arrays, c_y, c_x, scratch, deadline, target - milp.offset)
    v = complete(milp, arrays.y[arrays.is_open])
    if not milp.is_feasible(v):
        return None
    if searching and cover is not None:   # pure set covering: row weighting gains where swaps stall
        v, _ = row_weighting_search(cover, v, time_limit_s=deadline - time.perf_counter(), target=target,
                                    stall=True)
    return v


def handles(milp: Milp) -> bool:
    """Whether the model is this heuristic's business: open, cover and co-location variables only."""
    return not any(b.size and b.name not in _OWN_BLOCKS for b in milp.var_blocks)


def complete(milp: Milp, open_y: IntArray) -> FloatArray:
    """The full vector for a set of open facilities: coverage, and each new facility's best
    co-location factor among its open hosts."""
    v = np.clip(np.zeros(milp.n_vars), milp.lb, milp.ub)
    v[open_y] = 1.0
    x_block = _block(milp, "x")
    if x_block is not None and x_block.size:
        link = _rows(milp, "C2 coverage link")
        live = np.isfinite(milp.row_ub[_row_slice(milp, "C2 coverage link")])
        coverage = -(link @ v)   # x and d are still 0 here: minus the open facilities in reach
        x_of_row = covered_by_link(link)
        has = (x_of_row >= 0) & live
        v[x_of_row[has]] = np.minimum(milp.ub[x_of_row[has]], np.maximum(0.0, coverage[has]))
    _complete_discounts(milp, v)
    return v


def _co(arrays: _Arrays) -> tuple[IntArray, IntArray, FloatArray, npt.NDArray[np.bool_], IntArray, IntArray]:
    """The co-location arrays in the order the kernels read them (is_open shared, live)."""
    co_ptr, co_host, co_saving, rev_ptr, rev_guest = arrays.co
    return co_ptr, co_host, co_saving, arrays.is_open, rev_ptr, rev_guest


def _scratch(arrays: _Arrays) -> tuple[FloatArray, IntArray, npt.NDArray[np.bool_]]:
    n_rows = len(arrays.lo)
    return np.zeros(n_rows), np.zeros(n_rows, dtype=np.int64), np.zeros(n_rows, dtype=bool)


def _open_seed(arrays: _Arrays, positions: IntArray, scratch: _Scratch) -> None:
    delta, touched, mark = scratch
    x_ptr, x_idx, cover = arrays.st[0], arrays.st[1], arrays.st[2]
    for k in positions:
        n = hk.change_of(k, 1.0, *arrays.st, delta, touched, mark)
        rows = touched[:n]
        fits = (arrays.act[rows] + delta[rows] <= arrays.hi[rows] + hk.TOL * np.maximum(1.0, np.abs(arrays.hi[rows])))
        if fits.all() and not arrays.is_open[k]:
            hk.apply(k, 1.0, n, touched, delta, arrays.act, arrays.is_open, x_ptr, x_idx, cover)
        hk.clear(n, touched, delta, mark)


def _drop(arrays: _Arrays, c_y: FloatArray, scratch: _Scratch) -> None:
    order = np.argsort(-c_y, kind="stable")
    c_x = np.zeros(len(arrays.x))   # dropping never trades coverage for cost here
    hk.drop(order, arrays.closable, arrays.st, c_y, c_x, arrays.lo, arrays.hi, arrays.act,
            arrays.is_open, *scratch, _co(arrays))


def _local_search(arrays: _Arrays, c_y: FloatArray, c_x: FloatArray, scratch: _Scratch, deadline: float) -> None:
    """Swap passes, dearest open facility first, in chunks so the deadline is honoured."""
    seen = np.zeros(len(arrays.y), dtype=bool)
    out = np.zeros(len(arrays.y), dtype=np.int64)
    while time.perf_counter() < deadline:
        order = np.flatnonzero(arrays.is_open & arrays.closable)
        order = order[np.argsort(-c_y[order], kind="stable")]
        moves = 0
        for start in range(0, len(order), TUNING.swap_chunk):
            if time.perf_counter() >= deadline:
                break
            moves += hk.swap(order[start:start + TUNING.swap_chunk], arrays.closable, arrays.usable, arrays.st,
                             arrays.nb, c_y, c_x, arrays.lo, arrays.hi, arrays.weight, arrays.act,
                             arrays.is_open, *scratch, seen, out, _co(arrays))
        _drop(arrays, c_y, scratch)
        if moves == 0:
            break


def _destroy_and_repair(arrays: _Arrays, c_y: FloatArray, c_x: FloatArray, scratch: _Scratch,
                        deadline: float, target: float) -> None:
    """Large-neighbourhood search until the deadline: close a random open facility and every
    open neighbour, reopen greedily among their neighbours, swap there, drop; keep the result
    when the objective falls, else go back to the best plan."""
    rng = np.random.default_rng(0)
    co = _co(arrays)
    seen = np.zeros(len(arrays.y), dtype=bool)
    out = np.zeros(len(arrays.y), dtype=np.int64)
    best = _snapshot(arrays)
    best_value = hk.plan_objective(c_y, c_x, arrays.st[2], arrays.is_open, co)
    failures = 0
    while time.perf_counter() < deadline and not _reached(best_value, target):
        open_now = np.flatnonzero(arrays.is_open & arrays.closable)
        if not len(open_now) or failures > TUNING.stall_kicks * len(open_now):
            return   # nothing to move, or every facility was kicked a few times in vain
        failures += 1
        region = _region(arrays, int(rng.choice(open_now)), seen, out)
        for k in region[arrays.is_open[region] & arrays.closable[region]]:
            n = hk.change_of(k, -1.0, *arrays.st, *scratch)
            hk.apply(k, -1.0, n, scratch[1], scratch[0], arrays.act, arrays.is_open, *arrays.st[:3])
            hk.clear(n, scratch[1], scratch[0], scratch[2])
        candidates = region[arrays.usable[region]]
        if hk.lazy_greedy(hk.FILL, candidates, arrays.st, c_y, c_x, arrays.lo, arrays.hi, arrays.weight,
                          arrays.act, arrays.is_open, *scratch, co):
            order = region[arrays.is_open[region]]
            hk.swap(order, arrays.closable, arrays.usable, arrays.st, arrays.nb, c_y, c_x, arrays.lo, arrays.hi,
                    arrays.weight, arrays.act, arrays.is_open, *scratch, seen, out, co)
            _drop(arrays, c_y, scratch)
            value = hk.plan_objective(c_y, c_x, arrays.st[2], arrays.is_open, co)
            if value < best_value - 1e-9 * max(1.0, abs(best_value)):
                best, best_value, failures = _snapshot(arrays), value, 0
                continue
        _restore(arrays, best)


def _reached(value: float, target: float) -> bool:
    """Whether `value` is as good as `target` (a proven bound; -inf when none is given)."""
    return bool(np.isfinite(target)) and value <= target + 1e-9 * max(1.0, abs(target))


def _region(arrays: _Arrays, k: int, seen: npt.NDArray[np.bool_], out: IntArray) -> IntArray:
    """k, its neighbours, and their neighbours' candidates: where one kick acts."""
    n = hk.neighbours(k, arrays.st[0], arrays.st[1], *arrays.nb, seen, out)
    return np.concatenate([[k], out[:n]]).astype(np.int64)


def _snapshot(arrays: _Arrays) -> tuple[npt.NDArray[np.bool_], IntArray, FloatArray]:
    return arrays.is_open.copy(), arrays.st[2].copy(), arrays.act.copy()


def _restore(arrays: _Arrays, state: tuple[npt.NDArray[np.bool_], IntArray, FloatArray]) -> None:
    arrays.is_open[:], arrays.st[2][:], arrays.act[:] = state


def _block(milp: Milp, name: str) -> Block | None:
    return next((b for b in milp.var_blocks if b.name == name), None)


def _row_slice(milp: Milp, name: str) -> slice:
    block = next((b for b in milp.row_blocks if b.name == name), None)
    return slice(0, 0) if block is None else slice(block.start, block.stop)


def _rows(milp: Milp, name: str) -> sp.csr_array:
    rows = _row_slice(milp, name)
    return sp.csr_array(milp.A[rows.start:rows.stop])


def _structure(milp: Milp) -> _Arrays | None:
    y_block, x_block = _block(milp, "y"), _block(milp, "x")
    if y_block is None or not y_block.size:
        return None
    y = np.arange(y_block.start, y_block.stop, dtype=np.int64)
    x = (np.arange(x_block.start, x_block.stop, dtype=np.int64) if x_block is not None
         else np.zeros(0, np.int64))
    x_of_y = _cover_map(milp, y_block, x_block)
    G, lo, hi = _aggregate_rows(milp)
    Gy, Gx = G[:, y].tocsc(), G[:, x].tocsc()
    ry = G[:, y].tocsr()
    yx = x_of_y.T.tocsr()
    is_open = milp.lb[y] > 0.5
    cover = np.asarray(x_of_y[np.flatnonzero(is_open)].sum(axis=0)).ravel().astype(np.int64) \
        if is_open.any() else np.zeros(len(x), np.int64)
    v = complete(milp, y[is_open])
    act = np.asarray(G @ v, dtype=np.float64)
    act -= _discount_part(G, milp, v)     # choices ignore co-location savings
    st = (x_of_y.indptr.astype(np.int64), x_of_y.indices.astype(np.int64), cover,
          Gy.indptr.astype(np.int64), Gy.indices.astype(np.int64), Gy.data.astype(np.float64),
          Gx.indptr.astype(np.int64), Gx.indices.astype(np.int64), Gx.data.astype(np.float64))
    nb = (yx.indptr.astype(np.int64), yx.indices.astype(np.int64), st[3], st[4],
          ry.indptr.astype(np.int64), ry.indices.astype(np.int64))
    weight = 1.0 / np.maximum(np.where(np.isfinite(lo), np.abs(lo), 0.0), 1.0)
    usable = milp.ub[y] > 0.5
    return _Arrays(y, x, st, nb, lo, hi, weight, act, is_open, milp.lb[y] < 0.5, usable,
                   _colocation(milp, y_block))


def _colocation(milp: Milp, y_block: Block) -> tuple[IntArray, IntArray, FloatArray, IntArray, IntArray]:
    """Per facility: its possible hosts and what each saves in the objective; and per host the
    guests it may serve."""
    d_block = _block(milp, "d")
    n_y = y_block.size
    if d_block is None or not d_block.size:
        empty = np.zeros(0, np.int64)
        return np.zeros(n_y + 1, np.int64), empty, np.zeros(0), np.zeros(n_y + 1, np.int64), empty
    host = discount_partner(_rows(milp, "C1a host open"), d_block) - y_block.start
    owner = discount_partner(_rows(milp, "C1b one factor"), d_block) - y_block.start
    saving = np.maximum(-milp.c[d_block.start:d_block.stop], 0.0)
    ok = (host >= 0) & (owner >= 0) & (saving > 0)
    host, owner, saving = host[ok], owner[ok], saving[ok]
    by_owner, by_host = np.argsort(owner, kind="stable"), np.argsort(host, kind="stable")
    return (_pointers(owner, n_y), host[by_owner].astype(np.int64), saving[by_owner],
            _pointers(host, n_y), owner[by_host].astype(np.int64))


def _pointers(keys: IntArray, n: int) -> IntArray:
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr


def _discount_part(G: sp.csr_array, milp: Milp, v: FloatArray) -> FloatArray:
    """The share of G @ v that comes from co-location variables (left out while choosing)."""
    d_block = _block(milp, "d")
    if d_block is None or not d_block.size:
        return np.zeros(G.shape[0])
    only_d = np.zeros(milp.n_vars)
    only_d[d_block.start:d_block.stop] = v[d_block.start:d_block.stop]
    return np.asarray(G @ only_d, dtype=np.float64)


def _aggregate_rows(milp: Milp) -> tuple[sp.csr_array, FloatArray, FloatArray]:
    """Every row the choice must respect: all but co-location, coverage links and free rows."""
    excluded = np.zeros(milp.n_rows, dtype=bool)
    for block in milp.row_blocks:
        if block.name.startswith(("C1a", "C1b", "C2 ")):
            excluded[block.start:block.stop] = True
    free = ~np.isfinite(milp.row_lb) & ~np.isfinite(milp.row_ub)
    keep = np.flatnonzero(~excluded & ~free)
    return sp.csr_array(milp.A[keep]), milp.row_lb[keep], milp.row_ub[keep]


def _cover_map(milp: Milp, y_block: Block, x_block: Block | None) -> sp.csr_array:
    """[facility k, coverage index] = 1 where opening k covers it (from the live C2 rows)."""
    n_y = y_block.size
    n_x = 0 if x_block is None else x_block.size
    link = _rows(milp, "C2 coverage link")
    if x_block is None or not link.shape[0]:
        return sp.csr_array((n_y, n_x))
    live = np.isfinite(milp.row_ub[_row_slice(milp, "C2 coverage link")])
    x_of_row = covered_by_link(link)
    coo = link.tocoo()
    keep = (coo.col >= y_block.start) & (coo.col < y_block.stop) & live[coo.row] & (x_of_row[coo.row] >= 0)
    data = np.ones(int(keep.sum()))
    M = sp.csr_array((data, (coo.col[keep] - y_block.start, x_of_row[coo.row[keep]] - x_block.start)),
                     shape=(n_y, n_x))
    M.sum_duplicates()
    return M


def _complete_discounts(milp: Milp, v: FloatArray) -> None:
    """d = 1 for each new facility's best co-location factor among open hosts (C1a/C1b)."""
    d_block = _block(milp, "d")
    if d_block is None or not d_block.size:
        return
    d = np.arange(d_block.start, d_block.stop)
    host = discount_partner(_rows(milp, "C1a host open"), d_block)
    owner = discount_partner(_rows(milp, "C1b one factor"), d_block)
    value = discount_value(milp, d)
    usable = (host >= 0) & (owner >= 0) & (milp.ub[d] > 0.5)
    usable[usable] &= (v[host[usable]] > 0.5) & (v[owner[usable]] > 0.5) & (value[usable] > 0)
    v[d] = 0.0
    if not usable.any():
        return
    cand = np.flatnonzero(usable)
    order = cand[np.lexsort((-value[cand], owner[cand]))]
    first = np.concatenate([[True], owner[order][1:] != owner[order][:-1]])
    v[d[order[first]]] = 1.0


def discount_partner(rows: sp.csr_array, d_block: Block) -> IntArray:
    """For each discount (d) variable, the variable with coefficient -1 in its C1 row: the host's y,
    or (phased models) the owner's y in its opening year."""
    coo = rows.tocoo()
    partner = np.full(d_block.size, -1, dtype=np.int64)
    in_d = (coo.col >= d_block.start) & (coo.col < d_block.stop)
    neg = coo.data < 0
    y_of_row = np.full(rows.shape[0], -1, dtype=np.int64)
    y_of_row[coo.row[neg]] = coo.col[neg]
    partner[coo.col[in_d] - d_block.start] = y_of_row[coo.row[in_d]]
    return partner


def discount_value(milp: Milp, d: IntArray) -> FloatArray:
    """How much a factor saves: its objective reward, else its capital-budget reward."""
    value = -milp.c[d]
    capital = _row_slice(milp, "C6 capital budget")
    if capital.stop > capital.start:
        row = milp.A[[capital.start]].toarray().ravel()
        value = np.where(value > 0, value, -row[d])
    return value
