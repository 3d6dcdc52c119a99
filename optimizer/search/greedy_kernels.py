"""Compiled loops of the covering heuristic (`optimizer.search.greedy`): greedy, drop, swap.

The state is plain arrays so that numba compiles the loops: facilities k (the model's y
variables), coverage variables x, and aggregate rows r (every row the heuristic must keep:
coverage shares and levels, full-coverage rows, counts, land, budgets).

    x_ptr/x_idx      facility k -> coverage variables it covers
    yx_ptr/yx_idx    coverage variable -> facilities that cover it
    gy_ptr/gy_row/gy_val   facility k -> (row, coefficient) in the aggregate rows
    gx_ptr/gx_row/gx_val   coverage variable -> (row, coefficient)
    ry_ptr/ry_idx    aggregate row -> facilities in it directly (full-coverage and count rows)

A coverage variable counts as covered (1) when at least one open facility covers it.
"""

from __future__ import annotations

import heapq

import numba
import numpy as np

from optimizer.tuning import TUNING

TOL = 1e-7
_NEIGHBOUR_ROW_LIMIT = TUNING.neighbour_row_limit   # a compile-time constant of the kernels


@numba.njit(cache=True, nogil=True)
def _slack(value: float) -> float:
    return TOL * max(1.0, abs(value))


@numba.njit(cache=True, nogil=True)
def change_of(k, sign, x_ptr, x_idx, cover, gy_ptr, gy_row, gy_val, gx_ptr, gx_row, gx_val,
              delta, touched, mark):
    """Row changes if facility k opens (sign 1: x with cover 0 become covered) or closes
    (sign -1: x with cover 1 become uncovered). Fills delta/touched; returns the count."""
    n = _add_column(k, sign, gy_ptr, gy_row, gy_val, 0, delta, touched, mark)
    want = 0 if sign > 0 else 1
    for p in range(x_ptr[k], x_ptr[k + 1]):
        x = x_idx[p]
        if cover[x] == want:
            n = _add_column(x, sign, gx_ptr, gx_row, gx_val, n, delta, touched, mark)
    return n


@numba.njit(cache=True, nogil=True)
def _add_column(j, sign, ptr, row, val, n, delta, touched, mark):
    """delta += sign * column j; rows seen for the first time join `touched` (count n)."""
    for p in range(ptr[j], ptr[j + 1]):
        r = row[p]
        if not mark[r]:
            mark[r] = True
            touched[n] = r
            n += 1
        delta[r] += sign * val[p]
    return n


@numba.njit(cache=True, nogil=True)
def clear(n, touched, delta, mark):
    for i in range(n):
        r = touched[i]
        delta[r] = 0.0
        mark[r] = False


@numba.njit(cache=True, nogil=True)
def objective_change(k, sign, c_y, c_x, x_ptr, x_idx, cover, co):
    """Objective change of opening (sign 1) or closing (sign -1) facility k, co-location
    included: k's own best saving among the open hosts at its site, and what k being open
    adds to the savings of the open guests it hosts (`co`: ptr, host, saving, is_open, and the
    reverse map rev_ptr, rev_guest)."""
    co_ptr, co_host, co_saving, is_open, rev_ptr, rev_guest = co
    want = 0 if sign > 0 else 1
    total = c_y[k] - _best_saving(k, -1, co_ptr, co_host, co_saving, is_open)
    for p in range(rev_ptr[k], rev_ptr[k + 1]):
        g = rev_guest[p]
        if is_open[g]:   # the guest's saving with k open minus without
            with_k = _best_saving(g, k, co_ptr, co_host, co_saving, is_open)
            without = _best_saving(g, -2 - k, co_ptr, co_host, co_saving, is_open)
            total -= with_k - without
    for p in range(x_ptr[k], x_ptr[k + 1]):
        x = x_idx[p]
        if cover[x] == want:
            total += c_x[x]
    return sign * total


@numba.njit(cache=True, nogil=True)
def _best_saving(g, host, co_ptr, co_host, co_saving, is_open):
    """Best saving of guest g among open hosts; host >= 0 counts that host as open, host <= -2
    counts host -2 - host as closed, -1 takes the hosts as they are."""
    best = 0.0
    for p in range(co_ptr[g], co_ptr[g + 1]):
        h = co_host[p]
        is_on = is_open[h]
        if h == host:
            is_on = True
        elif h == -2 - host:
            is_on = False
        if is_on and co_saving[p] > best:
            best = co_saving[p]
    return best


@numba.njit(cache=True, nogil=True)
def apply(k, sign, n, touched, delta, act, is_open, x_ptr, x_idx, cover):
    for i in range(n):
        r = touched[i]
        act[r] += delta[r]
    for p in range(x_ptr[k], x_ptr[k + 1]):
        cover[x_idx[p]] += sign
    is_open[k] = sign > 0


@numba.njit(cache=True, nogil=True)
def _fill_ratio(k, st, price_y, price_x, lo, hi, weight, act, delta, touched, mark, co):
    """(ratio, usable): price per unit of weighted shortfall removed by opening k."""
    (x_ptr, x_idx, cover, gy_ptr, gy_row, gy_val, gx_ptr, gx_row, gx_val) = st
    n = change_of(k, 1.0, x_ptr, x_idx, cover, gy_ptr, gy_row, gy_val, gx_ptr, gx_row, gx_val,
                  delta, touched, mark)
    gain = 0.0
    usable = True
    for i in range(n):
        r = touched[i]
        after = act[r] + delta[r]
        if after > hi[r] + _slack(hi[r]):
            usable = False
        need = lo[r] - act[r]
        if need > 0 and delta[r] > 0:
            gain += weight[r] * min(delta[r], need)
    clear(n, touched, delta, mark)
    if not usable or gain <= 0:
        return np.inf, False
    p = objective_change(k, 1.0, price_y, price_x, x_ptr, x_idx, cover, co)
    return (p / gain if p > 0 else p * gain), True


@numba.njit(cache=True, nogil=True)
def _short(lo, act):
    for r in range(len(lo)):   # noqa: SIM110 - numba compiles loops, not generators
        if act[r] < lo[r] - _slack(lo[r]):
            return True
    return False


@numba.njit(cache=True, nogil=True)
def _short_in(rows, lo, act):
    for r in rows:   # noqa: SIM110 - numba compiles loops, not generators
        if act[r] < lo[r] - _slack(lo[r]):
            return True
    return False


@numba.njit(cache=True, nogil=True)
def _improve_ratio(k, st, c_y, c_x, hi, act, delta, touched, mark, co):
    (x_ptr, x_idx, cover) = st[0], st[1], st[2]
    dobj = objective_change(k, 1.0, c_y, c_x, x_ptr, x_idx, cover, co)
    if dobj >= -TOL:
        return np.inf, False
    n = change_of(k, 1.0, *st, delta, touched, mark)  # type: ignore[call-arg]  # mypy can't size the untyped *st
    use = 0.0
    usable = True
    for i in range(n):
        r = touched[i]
        if delta[r] <= 0:
            continue
        if act[r] + delta[r] > hi[r] + _slack(hi[r]):
            usable = False
        room = hi[r] - act[r]
        if np.isfinite(room):
            use = max(use, delta[r] / max(room, 1e-12))
    clear(n, touched, delta, mark)
    if not usable:
        return np.inf, False
    return dobj / max(use, 1e-9), True


FILL, IMPROVE = 0, 1


@numba.njit(cache=True, nogil=True)
def _ratio(mode, k, st, price_y, price_x, lo, hi, weight, act, delta, touched, mark, co):
    if mode == FILL:
        return _fill_ratio(k, st, price_y, price_x, lo, hi, weight, act, delta, touched, mark, co)
    return _improve_ratio(k, st, price_y, price_x, hi, act, delta, touched, mark, co)


@numba.njit(cache=True, nogil=True)
def lazy_greedy(mode, candidates, st, price_y, price_x, lo, hi, weight, act, is_open, delta, touched, mark, co):
    """Open candidates in increasing ratio. FILL: price per weighted shortfall removed, until no
    row falls short (False if rows stay short with nothing left that helps). IMPROVE: objective
    gain per share of the scarcest resource, while any opening still improves the objective.
    Lazy: a candidate's ratio only rises as coverage grows, so a stale ratio is a lower bound."""
    heap = [(0.0, np.int64(0))]
    heap.pop()
    for k in candidates:
        if is_open[k]:
            continue
        ratio, ok = _ratio(mode, k, st, price_y, price_x, lo, hi, weight, act, delta, touched, mark, co)
        if ok:
            heap.append((ratio, np.int64(k)))
    heapq.heapify(heap)
    while mode == IMPROVE or _short(lo, act):
        if len(heap) == 0:
            return mode == IMPROVE
        _, k = heapq.heappop(heap)
        if is_open[k]:
            continue
        ratio, ok = _ratio(mode, k, st, price_y, price_x, lo, hi, weight, act, delta, touched, mark, co)
        if not ok:
            continue
        if len(heap) > 0 and ratio > heap[0][0] + 1e-12 * max(1.0, abs(ratio)):
            heapq.heappush(heap, (ratio, k))
            continue
        _toggle(k, 1.0, st, act, is_open, delta, touched, mark)
    return True


@numba.njit(cache=True, nogil=True)
def try_close(k, st, c_y, c_x, lo, hi, act, is_open, delta, touched, mark, co):
    """Close k if every row still holds and the objective falls; True if closed."""
    (x_ptr, x_idx, cover) = st[0], st[1], st[2]
    if objective_change(k, -1.0, c_y, c_x, x_ptr, x_idx, cover, co) >= -TOL:
        return False
    n = change_of(k, -1.0, *st, delta, touched, mark)  # type: ignore[call-arg]  # mypy can't size the untyped *st
    ok = True
    for i in range(n):
        r = touched[i]
        after = act[r] + delta[r]
        if after < lo[r] - _slack(lo[r]) or after > hi[r] + _slack(hi[r]):
            ok = False
            break
    if ok:
        apply(k, -1.0, n, touched, delta, act, is_open, x_ptr, x_idx, cover)
    clear(n, touched, delta, mark)
    return ok


@numba.njit(cache=True, nogil=True)
def drop(order, closable, st, c_y, c_x, lo, hi, act, is_open, delta, touched, mark, co):
    """Close open facilities in `order` whenever every row holds and the objective falls."""
    for k in order:
        if is_open[k] and closable[k]:
            try_close(k, st, c_y, c_x, lo, hi, act, is_open, delta, touched, mark, co)


@numba.njit(cache=True, nogil=True)
def _collect(k, members, start, stop, seen, out, n):
    """Append members[start:stop] (not k, not seen yet) to `out`; the new count."""
    for q in range(start, stop):
        j = members[q]
        if j != k and not seen[j]:
            seen[j] = True
            out[n] = j
            n += 1
    return n


@numba.njit(cache=True, nogil=True)
def neighbours(k, x_ptr, x_idx, yx_ptr, yx_idx, gy_ptr, gy_row, ry_ptr, ry_idx, seen, out):
    """Facilities sharing a coverage variable or a small row with k (into `out`); count."""
    n = 0
    for p in range(x_ptr[k], x_ptr[k + 1]):
        x = x_idx[p]
        n = _collect(k, yx_idx, yx_ptr[x], yx_ptr[x + 1], seen, out, n)
    for p in range(gy_ptr[k], gy_ptr[k + 1]):
        r = gy_row[p]
        if ry_ptr[r + 1] - ry_ptr[r] <= _NEIGHBOUR_ROW_LIMIT:
            n = _collect(k, ry_idx, ry_ptr[r], ry_ptr[r + 1], seen, out, n)
    for i in range(n):
        seen[out[i]] = False
    return n


@numba.njit(cache=True, nogil=True)
def _toggle(k, sign, st, act, is_open, delta, touched, mark):
    n = change_of(k, sign, *st, delta, touched, mark)  # type: ignore[call-arg]  # mypy can't size the untyped *st
    apply(k, sign, n, touched, delta, act, is_open, st[0], st[1], st[2])
    clear(n, touched, delta, mark)


@numba.njit(cache=True, nogil=True)
def _repair(rows_k, cands, st, c_y, c_x, lo, hi, weight, act, is_open, delta, touched, mark, co, opened):
    """Open the best-priced candidates until no row of `rows_k` falls short.
    Returns (rows hold, number opened, cost of what was opened)."""
    n_open = 0
    spent = 0.0
    while _short_in(rows_k, lo, act):
        best, best_ratio = -1, np.inf
        for j in cands:
            if is_open[j]:
                continue
            ratio, good = _fill_ratio(j, st, c_y, c_x, lo, hi, weight, act, delta, touched, mark, co)
            if good and ratio < best_ratio:
                best, best_ratio = j, ratio
        if best < 0:
            return False, n_open, spent
        spent += objective_change(best, 1.0, c_y, c_x, st[0], st[1], st[2], co)
        _toggle(best, 1.0, st, act, is_open, delta, touched, mark)
        opened[n_open] = best
        n_open += 1
    return True, n_open, spent


@numba.njit(cache=True, nogil=True)
def _close_redundant(near, closable, st, c_y, c_x, lo, hi, act, is_open, delta, touched, mark, co, closed):
    """Close every open neighbour the rows no longer need. Returns (number closed, saving < 0)."""
    n_closed = 0
    saved = 0.0
    for j in near:
        if is_open[j] and closable[j]:
            change = objective_change(j, -1.0, c_y, c_x, st[0], st[1], st[2], co)
            if try_close(j, st, c_y, c_x, lo, hi, act, is_open, delta, touched, mark, co):
                saved += change
                closed[n_closed] = j
                n_closed += 1
    return n_closed, saved


@numba.njit(cache=True, nogil=True)
def swap(order, closable, usable, st, nb, c_y, c_x, lo, hi, weight, act, is_open,
         delta, touched, mark, seen, out, co):
    """Local search: close an open facility, repair with its neighbours (greedy), close the
    neighbours that became redundant; keep the change when the objective falls, else undo.
    One pass over `order`; returns the number of improving moves."""
    (yx_ptr, yx_idx, gy_ptr, gy_row, ry_ptr, ry_idx) = nb
    moves = 0
    for k in order:
        if not is_open[k] or not closable[k]:
            continue
        before = objective_change(k, -1.0, c_y, c_x, st[0], st[1], st[2], co)   # < 0: saving
        n = change_of(k, -1.0, *st, delta, touched, mark)  # type: ignore[call-arg]  # mypy can't size the untyped *st
        rows_k = touched[:n].copy()          # only these rows can fall short by closing k
        apply(k, -1.0, n, touched, delta, act, is_open, st[0], st[1], st[2])
        clear(n, touched, delta, mark)
        m = neighbours(k, st[0], st[1], yx_ptr, yx_idx, gy_ptr, gy_row, ry_ptr, ry_idx, seen, out)
        near = out[:m].copy()
        cands = near[~is_open[near] & usable[near]]
        opened = np.empty(len(cands), dtype=np.int64)
        closed = np.empty(m, dtype=np.int64)
        ok, n_open, spent = _repair(rows_k, cands, st, c_y, c_x, lo, hi, weight, act, is_open,
                                    delta, touched, mark, co, opened)
        n_closed = 0
        if ok:
            n_closed, saved = _close_redundant(near, closable, st, c_y, c_x, lo, hi, act, is_open,
                                               delta, touched, mark, co, closed)
            spent += saved
        if ok and spent + before < -TOL * max(1.0, abs(before)):
            moves += 1
            continue
        for i in range(n_closed):             # undo: reopen what was closed,
            _toggle(closed[i], 1.0, st, act, is_open, delta, touched, mark)
        for i in range(n_open - 1, -1, -1):   # close what was opened, reopen k
            _toggle(opened[i], -1.0, st, act, is_open, delta, touched, mark)
        _toggle(k, 1.0, st, act, is_open, delta, touched, mark)
    return moves


@numba.njit(cache=True, nogil=True)
def plan_objective(c_y, c_x, cover, is_open, co):
    """Objective of the current choice, co-location savings included (exact, like `complete`)."""
    co_ptr, co_host, co_saving = co[0], co[1], co[2]
    total = 0.0
    for k in range(len(c_y)):
        if is_open[k]:
            total += c_y[k] - _best_saving(k, -1, co_ptr, co_host, co_saving, is_open)
    for x in range(len(c_x)):
        if cover[x] > 0:
            total += c_x[x]
    return total
