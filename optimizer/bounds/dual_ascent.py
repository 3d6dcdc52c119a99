"""Good Lagrange multipliers for covering models in a few sparse passes (the bound's start).

Subgradient alone climbs slowly on large covering models, and LP solvers need minutes on the
largest ones. The structure gives most of the dual directly (Erlenkotter's dual ascent for
facility location, in its covering form):

- a co-location row (C1b) is priced at its best saving, so a facility's price in the bound is
  its cheapest co-located cost; once the ascent is done, what of that price the hosts' unused
  reduced cost can carry moves onto their rows (C1a), and the ascent runs again: the guest's
  units can then rise (`_moved_to_hosts`);
- every covering item — a full-coverage or count row over open variables, or a unit's
  coverage link (C2) — raises its multiplier until one facility in its reach has no reduced
  cost left (links are also capped by what covering the unit is worth);
- what covering a unit is worth comes from a price per unit of weight on each share row (and
  a price per yuan or per facility on each budget or count-maximum row); each such price is
  searched on a log scale, all at once, because the model falls apart into independent parts
  (types, zones) whose bounds can be read separately.
The multipliers are only a start: `optimizer.bounds.subgradient.evaluate` computes the bound they give
exactly, and the subgradient ascent improves them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import cast

import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.bounds.blocks import window_ascent
from optimizer.bounds.dual_adjust import adjust
from optimizer.bounds.subgradient import evaluate, integral_bound, terms
from optimizer.model.components import components
from optimizer.model.milp import Milp, covered_by_link
from optimizer.tuning import TUNING

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
# scipy keeps a CSR matrix's indptr and indices int32 until it needs int64
CsrIndex = npt.NDArray[np.int32] | npt.NDArray[np.int64]
_GOLD = 0.6180339887498949


@dataclass(frozen=True)
class _Rows:
    """Row roles for the ascent."""

    link: IntArray        # C2: x - sum y <= 0
    cover: IntArray       # y-only rows with a positive lower side (full coverage, count minimum)
    share: IntArray       # rows over x with a positive lower side (coverage shares, levels)
    resource: IntArray    # y-only rows with an upper side and non-negative entries (budgets, maxima)
    colocation: IntArray  # C1b


def open_mask(milp: Milp) -> BoolArray:
    """Which variables are facility openings (the ``y`` block): what dual ascent prices."""
    mask = np.zeros(milp.n_vars, dtype=bool)
    block = next((b for b in milp.var_blocks if b.name == "y"), None)
    if block is not None:
        mask[block.start:block.stop] = True
    return mask


def covering_bound(milp: Milp, adjust_s: float = 5.0, blocks_s: float = 0.0) -> tuple[float, FloatArray, FloatArray]:
    """(bound, multipliers, the dual ascent's site ranking) from covering dual ascent (a few
    sparse passes, fast even on large models), up to `adjust_s` of dual adjustment, then up to
    `blocks_s` of block re-solves (`optimizer.bounds.blocks`), which climb on towards the LP
    bound. The ascent's reduced costs rank sites for `optimizer.search.core` (better than the
    blocks' do)."""
    found = ascent(milp, open_mask(milp), adjust_s=adjust_s)
    if blocks_s <= 0:
        return integral_bound(milp, found.value), found.multipliers, found.site_rank
    lam = window_ascent(milp, found.multipliers, time_limit_s=blocks_s)
    return integral_bound(milp, evaluate(milp, lam)[0]), lam, found.site_rank


@dataclass(frozen=True)
class Ascent:
    """The dual ascent's multipliers, L at them, and the reduced costs that rank sites for core
    search: theirs, ties (most sites sit at 0) broken by those before the co-location prices
    moved to the hosts (`_moved_to_hosts`). Ranked by the moved ones alone, core search finds
    little; with the ties broken it does better than by the unmoved ones alone."""

    multipliers: FloatArray
    value: float
    site_rank: FloatArray


def dual_ascent(milp: Milp, is_y: BoolArray, adjust_s: float = 5.0) -> FloatArray:
    """Multipliers (one per row) for `optimizer.bounds.subgradient.evaluate`; zeros where no structure.
    `adjust_s`: seconds of dual adjustment at the chosen prices."""
    return ascent(milp, is_y, adjust_s).multipliers


def ascent(milp: Milp, is_y: BoolArray, adjust_s: float = 5.0) -> Ascent:
    """`dual_ascent`'s multipliers, L at them and the reduced costs that rank sites (`Ascent`):
    the co-location prices moved to the hosts where that raises L."""
    rows = _roles(milp, is_y)
    items = _items(milp, rows, is_y)
    guest_priced = _guest_priced(milp, rows, items, is_y, adjust_s)
    value, reduced_costs, _ = evaluate(milp, guest_priced)
    moved = _moved_to_hosts(milp, items, rows, guest_priced, adjust_s)
    if moved is not None:
        moved_value, moved_reduced_costs, _ = evaluate(milp, moved)
        if moved_value > value:
            return Ascent(moved, moved_value, moved_reduced_costs + TUNING.rank_tie_weight * reduced_costs)
    return Ascent(guest_priced, value, reduced_costs)


def _guest_priced(milp: Milp, rows: _Rows, items: _Items, is_y: BoolArray, adjust_s: float) -> FloatArray:
    """The ascent with every co-location priced at the guest's best saving (C1b)."""
    lam = np.zeros(milp.n_rows)
    _price_colocation(milp, rows.colocation, lam)
    searched = np.concatenate([rows.share, rows.resource])
    if not len(searched):
        return _ascend(milp, items, lam, adjust_s)
    part_of_row, part_of_var = _parts(milp, rows)
    scale = _initial_prices(milp, rows, lam, is_y)
    part = part_of_row[searched]
    n_parts = int(part_of_row.max()) + 1

    def trial(logs: FloatArray) -> tuple[FloatArray, FloatArray]:
        cand = lam.copy()
        cand[searched] = _signed(milp, searched, np.exp(logs))
        cand = _ascend(milp, items, cand)
        return _part_values(milp, cand, part_of_row, part_of_var), cand

    # Golden-section search on log(price), every part at once (parts are independent, so each
    # keeps its own bracket; the prices of one part move together): one ascent per round.
    lo, hi = np.log(scale) - np.log(TUNING.ascent_range), np.log(scale) + np.log(TUNING.ascent_range)
    x1, x2 = hi - _GOLD * (hi - lo), lo + _GOLD * (hi - lo)
    (f1, lam1), (f2, lam2) = trial(x1), trial(x2)
    best_lam, best_value = lam.copy(), np.full(n_parts, -np.inf)
    for values, cand in ((f1, lam1), (f2, lam2)):
        best_lam, best_value = _keep_better(best_lam, best_value, cand, values, part_of_row)
    for _ in range(TUNING.ascent_search_rounds):
        left_part = f1 >= f2                 # per part: the maximum lies in [lo, x2]
        left = left_part[part]
        hi, lo = np.where(left, x2, hi), np.where(left, lo, x1)
        x1, x2 = np.where(left, hi - _GOLD * (hi - lo), x2), np.where(left, x1, lo + _GOLD * (hi - lo))
        f1, f2 = np.where(left_part, -np.inf, f2), np.where(left_part, f1, -np.inf)
        f_new, lam_new = trial(np.where(left, x1, x2))
        f1, f2 = np.where(left_part, f_new, f1), np.where(left_part, f2, f_new)
        best_lam, best_value = _keep_better(best_lam, best_value, lam_new, f_new, part_of_row)
    prices = lam.copy()
    prices[searched] = best_lam[searched]
    adjusted = _ascend(milp, items, prices, adjust_s)
    best_lam, _ = _keep_better(best_lam, best_value, adjusted,
                               _part_values(milp, adjusted, part_of_row, part_of_var), part_of_row)
    return best_lam


def _moved_to_hosts(milp: Milp, items: _Items, rows: _Rows, lam: FloatArray,
                    adjust_s: float) -> FloatArray | None:
    """`lam` with each guest's co-location price moved, as far as its hosts' unused reduced cost
    allows, onto the hosts' rows (C1a), then the ascent and adjustment run again from there;
    None where no co-location has a host row. The ascent prices every co-location at the
    guest's whole saving (C1b), which uses up the guest's reduced cost: the units in its reach
    get less. A host that no unit's multiplier could use any more can carry that price instead,
    and the guest's units then rise: on models with co-location this raises the bound more, and
    much faster, than block re-solves do."""
    pairs = _pairs(milp, rows.colocation)
    if not (pairs.host >= 0).any():
        return None
    return _ascend(milp, items, _shift_to_hosts(milp, lam, pairs), adjust_s)


@dataclass(frozen=True)
class _Pairs:
    """Every co-location factor d of a guest's row (C1b: sum d - y_guest <= 0): that row, and its
    host row (C1a: d - y_host <= 0) with the host's variable, or -1 for both where no such row
    holds d (that d keeps its guest's price)."""

    d: IntArray
    b_rows: IntArray
    a_rows: IntArray
    host: IntArray


def _pairs(milp: Milp, colocation: IntArray) -> _Pairs:
    A = sp.csr_array(milp.A)
    guest_rows = A[colocation].tocoo()
    in_b = guest_rows.data > 0
    d, b_rows = guest_rows.col[in_b].astype(np.int64), colocation[guest_rows.row[in_b]]
    a_row_of, host_of = np.full(milp.n_vars, -1), np.full(milp.n_vars, -1)
    a_rows = np.concatenate([np.arange(b.start, b.stop) for b in milp.row_blocks if b.name.startswith("C1a")]
                            + [np.zeros(0, np.int64)])
    host_rows = A[a_rows].tocoo()
    host_of_row = np.full(len(a_rows), -1)
    is_host = host_rows.data < 0
    host_of_row[host_rows.row[is_host]] = host_rows.col[is_host]
    with_host = ~is_host & (host_of_row[host_rows.row] >= 0)
    a_row_of[host_rows.col[with_host]] = a_rows[host_rows.row[with_host]]
    host_of[host_rows.col[with_host]] = host_of_row[host_rows.row[with_host]]
    return _Pairs(d, b_rows, a_row_of[d], host_of[d])


def _shift_to_hosts(milp: Milp, lam: FloatArray, pairs: _Pairs) -> FloatArray:
    """Multipliers with each guest's price beta (= -lam on C1b) lowered and its hosts' alpha
    (= -lam on C1a) raised so that every d stays as protected as before (alpha + beta no lower,
    up to what d needs to keep a reduced cost >= 0) and no host's reduced cost goes below 0
    (a host in several pairs lends each an equal part of what it has spare; a host held open
    has none). L never falls."""
    rc = milp.c - milp.A.T @ lam
    has_host = pairs.host >= 0
    alpha = np.where(has_host, -lam[np.maximum(pairs.a_rows, 0)], 0.0)
    beta = -lam[pairs.b_rows]
    # what d needs from alpha + beta: its reduced cost without the co-location rows, negated
    need = np.minimum(np.maximum(-(rc[pairs.d] - alpha - beta), 0.0), alpha + beta)
    hosts = pairs.host[has_host]
    spare = np.zeros(len(pairs.d))
    # a host held open (an existing facility) pays its reduced cost in L whatever its sign: none spare
    free = milp.lb[hosts] <= 0.0
    spare[has_host] = np.where(free, np.maximum(rc[hosts], 0.0), 0.0) / np.bincount(hosts, minlength=milp.n_vars)[hosts]
    floor = np.zeros(milp.n_rows)
    np.maximum.at(floor, pairs.b_rows, need - alpha - spare)   # beta may fall to this, factor by factor
    out = lam.copy()
    b_rows = np.unique(pairs.b_rows)
    out[b_rows] = -np.minimum(-lam[b_rows], floor[b_rows])
    raised = np.maximum(alpha, need + out[pairs.b_rows])
    out[pairs.a_rows[has_host]] = -raised[has_host]
    return out


def _keep_better(best_lam: FloatArray, best_value: FloatArray, cand: FloatArray, values: FloatArray,
                 part_of_row: IntArray) -> tuple[FloatArray, FloatArray]:
    better = values > best_value
    return np.where(better[part_of_row], cand, best_lam), np.where(better, values, best_value)


def _roles(milp: Milp, is_y: BoolArray) -> _Rows:
    A = milp.A
    role = np.full(milp.n_rows, "", dtype=object)
    for block in milp.row_blocks:
        if block.name.startswith("C2 "):
            role[block.start:block.stop] = "link"
        elif block.name.startswith("C1b"):
            role[block.start:block.stop] = "colocation"
        elif block.name.startswith("C1a"):
            role[block.start:block.stop] = "skip"
    row_of = np.repeat(np.arange(milp.n_rows), np.diff(A.indptr))
    has_neg = np.zeros(milp.n_rows, dtype=bool)
    has_neg[row_of[A.data < 0]] = True
    has_x = np.zeros(milp.n_rows, dtype=bool)
    has_x[row_of[~is_y[A.indices]]] = True
    lower = np.isfinite(milp.row_lb) & (milp.row_lb > 0) & ~np.isfinite(milp.row_ub)
    upper = np.isfinite(milp.row_ub) & ~np.isfinite(milp.row_lb)
    unbounded = ~np.isfinite(milp.row_lb) & ~np.isfinite(milp.row_ub)   # e.g. freed by reductions
    role[unbounded] = "skip"
    free = role == ""
    return _Rows(
        link=np.flatnonzero(role == "link"),
        cover=np.flatnonzero(free & lower & ~has_neg & ~has_x),
        share=np.flatnonzero(free & lower & ~has_neg & has_x),
        resource=np.flatnonzero(free & upper & ~has_neg & ~has_x & (milp.row_ub > 0)),
        colocation=np.flatnonzero(role == "colocation"))


def _price_colocation(milp: Milp, rows: IntArray, lam: FloatArray) -> None:
    """lam = -(best saving among the row's factors): each d then has reduced cost >= 0."""
    if not len(rows):
        return
    block = milp.A[rows]
    reward = np.where(block.data > 0, np.maximum(-milp.c[block.indices], 0.0), 0.0)
    lam[rows] = -np.nan_to_num(row_reduce(np.maximum, reward, block.indptr), neginf=0.0)


def _signed(milp: Milp, rows: IntArray, price: FloatArray) -> FloatArray:
    """A price as a multiplier: positive on lower-bounded rows, negative on upper-bounded."""
    return np.where(np.isfinite(milp.row_lb[rows]), price, -price)


def _initial_prices(milp: Milp, rows: _Rows, lam: FloatArray, is_y: BoolArray) -> FloatArray:
    """A price scale per searched row: the median cost of a facility over what it brings."""
    rc = milp.c - milp.A.T @ lam
    y_cost = np.where(is_y, np.maximum(rc, 0.0), 0.0)
    link = milp.A[rows.link]
    prices = []
    for r in rows.share:
        weight = np.zeros(milp.n_vars)
        row = milp.A[[r]]
        weight[row.indices] = row.data
        per_link = link @ weight                       # a link row's x weight in row r
        brought = np.abs(link.T @ per_link) * is_y     # weight in reach of each facility
        ok = (brought > 0) & (y_cost > 0)
        prices.append(np.median(y_cost[ok] / brought[ok]) if ok.any() else 1.0)
    for r in rows.resource:
        row = milp.A[[r]]
        use = np.zeros(milp.n_vars)
        use[row.indices] = row.data
        ok = use > 0
        gain = np.maximum(-rc, 0.0) + np.abs(milp.c)
        prices.append(np.median(gain[ok] / use[ok]) if ok.any() and gain[ok].any() else 1.0)
    return np.maximum(np.array(prices, dtype=np.float64), 1e-12)


def _parts(milp: Milp, rows: _Rows) -> tuple[IntArray, IntArray]:
    """Independent parts of the priced rows and their variables (labels per row and per var)."""
    # Co-location rows are left out: their multipliers are set once (best saving) and their
    # terms are zero, so they do not tie a guest type's price to its hosts' prices.
    priced = np.zeros(milp.n_rows, dtype=bool)
    priced[np.concatenate([rows.link, rows.cover, rows.share, rows.resource])] = True
    part_of_row, part_of_var = components(sp.csr_array(milp.A), priced)
    part_of_row[~priced] = max(part_of_row.max(initial=-1), part_of_var.max(initial=-1)) + 1
    return part_of_row, part_of_var


def _part_values(milp: Milp, lam: FloatArray, part_of_row: IntArray, part_of_var: IntArray) -> FloatArray:
    """`optimizer.bounds.subgradient.evaluate`'s terms summed per part."""
    var_term, row_term, _, _ = terms(milp, lam)
    n = int(part_of_row.max()) + 1
    # cast: numpy's stub types bincount as intp, also when it sums float weights
    return cast(FloatArray, np.bincount(part_of_var, weights=var_term, minlength=n)[:n]
                + np.bincount(part_of_row, weights=row_term, minlength=n)[:n])


@dataclass(frozen=True)
class _Items:
    """The covering items (links, then cover rows) as a CSR over open variables, built once."""

    rows: IntArray
    sign: FloatArray          # multiplier = sign * raise (links are <= rows: negative)
    S: sp.csr_array           # |coefficient| of each open variable in each item
    x_of_link: IntArray       # the coverage variable of each link (-1: none)
    order: IntArray           # items few facilities serve first (Beasley)
    facilities: IntArray      # the open variables some item contains


def _items(milp: Milp, rows: _Rows, is_y: BoolArray) -> _Items:
    items = np.concatenate([rows.link, rows.cover])
    block = sp.csr_array(milp.A[items])
    coef = np.where(is_y[block.indices], np.abs(block.data), 0.0)
    S = sp.csr_array((coef, block.indices.copy(), block.indptr.copy()), shape=block.shape)
    S.eliminate_zeros()   # in place: hence the copies, `block` is still read below
    sign = np.concatenate([-np.ones(len(rows.link)), np.ones(len(rows.cover))])
    x_of_link = covered_by_link(block[:len(rows.link)])
    return _Items(items, sign, S, x_of_link, np.argsort(np.diff(S.indptr), kind="stable"),
                  np.flatnonzero(np.bincount(S.indices, minlength=milp.n_vars)))


def _ascend(milp: Milp, items: _Items, lam: FloatArray, adjust_s: float = 0.0) -> FloatArray:
    """Raise link and cover multipliers one by one while every facility keeps a reduced
    cost >= 0; links stop at what covering their unit is worth. Then dual adjustment
    (`optimizer.bounds.dual_adjust`) for up to `adjust_s` seconds."""
    lam = lam.copy()
    if not len(items.rows):
        return lam
    rc = milp.c - milp.A.T @ lam
    room = np.full(len(items.rows), np.inf)
    xs = items.x_of_link
    # a link's room: what its x earns in the share rows and objective, -rc[x] with lam_link = 0
    room[:len(xs)] = np.where(xs >= 0, np.maximum(-rc[np.maximum(xs, 0)], 0.0), 0.0)
    residual = np.zeros(milp.n_vars)
    residual[items.facilities] = np.maximum(rc[items.facilities], 0.0)
    # An open existing facility (fixed variable) gives its units coverage for nothing: raising
    # their multipliers against it gains nothing and only uses up the other facilities in reach.
    residual[milp.lb >= milp.ub] = 0.0
    S = items.S
    raised, residual = _sequential_ascent(S.indptr, S.indices, S.data, items.order, room, residual)
    if adjust_s > 0:
        _adjust(milp, items, room, raised, residual, time.perf_counter() + adjust_s)
    lam[items.rows] += items.sign * raised
    return lam


def _adjust(milp: Milp, items: _Items, room: FloatArray, raised: FloatArray, residual: FloatArray,
            deadline: float) -> None:
    """Adjustment passes, most raised items first, in chunks until no pass gains or time is up."""
    S, St = items.S, items.S.T.tocsr()
    gain = np.ones(len(items.rows))
    n_link = len(items.x_of_link)
    gain[n_link:] = milp.row_lb[items.rows[n_link:]]   # a cover row earns its requirement
    for _ in range(TUNING.adjust_passes):
        order = np.argsort(-raised, kind="stable")
        order = order[raised[order] > 0]
        grew = 0.0
        for start in range(0, len(order), TUNING.adjust_chunk):
            if time.perf_counter() >= deadline:
                return
            grew += adjust(S.indptr, S.indices, S.data, St.indptr, St.indices, room, raised, residual, gain,
                           order[start:start + TUNING.adjust_chunk], 1)
        if grew <= 0:
            return


@numba.njit(cache=True, nogil=True)
def _sequential_ascent(indptr: CsrIndex, indices: CsrIndex, coef: FloatArray, order: IntArray,
                       room: FloatArray, residual: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Raise each item in turn as far as its tightest facility and its room allow
    (Gauss-Seidel: each raise sees the residuals the earlier ones left)."""
    residual = residual.copy()
    raised = np.zeros(len(room))
    for r in order:
        step = room[r]
        for k in range(indptr[r], indptr[r + 1]):
            step = min(step, residual[indices[k]] / coef[k])
        if step <= 0.0 or not np.isfinite(step):
            continue
        raised[r] = step
        for k in range(indptr[r], indptr[r + 1]):
            residual[indices[k]] = max(residual[indices[k]] - coef[k] * step, 0.0)
    return raised, residual


def _row_min(S: sp.csr_array, per_col: FloatArray) -> FloatArray:
    """min over each row's columns of per_col[column] / coefficient."""
    return row_reduce(np.minimum, per_col[S.indices] / S.data, S.indptr)


def row_reduce(ufunc: np.ufunc, values: FloatArray, indptr: CsrIndex) -> FloatArray:
    """`ufunc` (np.minimum or np.maximum) over each CSR row's values; empty rows get the
    ufunc's neutral element (inf for minimum, -inf for maximum)."""
    neutral = np.inf if ufunc is np.minimum else -np.inf
    n = len(indptr) - 1
    out = np.full(n, neutral)
    nonempty = np.diff(indptr) > 0
    if values.size and nonempty.any():
        out[nonempty] = ufunc.reduceat(values, indptr[:-1][nonempty])
    return out
