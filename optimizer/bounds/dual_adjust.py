"""Dual adjustment after a covering dual ascent (Erlenkotter's DUALOC idea, covering form).

After the sequential ascent every item (a unit's coverage link, or a full-coverage row) is
blocked: some facility in its reach has no reduced cost left, or the item reached what covering
its unit is worth. Lowering one item's multiplier frees that amount at every facility of its
reach; items blocked only there can then rise, and the item itself rises again as far as it
can. When the freed facilities carry two or more such items, the bound grows. Each attempt is
kept only if the bound grew, and undone otherwise, so the bound never falls.

Arrays: items x facilities (``ptr``, ``idx``, ``coef``) and its transpose (``t_ptr``, ``t_idx``);
``room`` (what an item may reach), ``raised`` (its multiplier), ``residual`` (reduced cost left
per facility), ``gain`` (what a unit of an item's multiplier adds to the bound).
"""

from __future__ import annotations

import numba
import numpy as np

_EPS = 1e-9


@numba.njit(cache=True, nogil=True)
def adjust(ptr, idx, coef, t_ptr, t_idx, room, raised, residual, gain, order, passes):
    """Adjustment passes over `order` (items, most raised first); updates raised and residual
    in place and returns the bound's total increase."""
    n_items, n_fac = len(room), len(residual)
    tight = _tight_counts(ptr, idx, residual)
    log_item = np.empty(n_items, np.int64)
    old_raised = np.empty(n_items)
    item_logged = np.zeros(n_items, np.bool_)
    log_fac = np.empty(n_fac, np.int64)
    old_residual = np.empty(n_fac)
    fac_logged = np.zeros(n_fac, np.bool_)
    total = 0.0
    for _ in range(passes):
        grew = 0.0
        for j in order:
            if raised[j] <= _EPS:
                continue
            counts = np.zeros(2, np.int64)   # logged items, logged facilities
            before = raised[j] * gain[j]
            _set_raised(j, 0.0, raised, log_item, old_raised, item_logged, counts)
            for p in range(ptr[j], ptr[j + 1]):
                _set_residual(idx[p], residual[idx[p]] + coef[p] * old_raised[0], residual, t_ptr, t_idx,
                              tight, log_fac, old_residual, fac_logged, counts)
            after = 0.0
            for p in range(ptr[j], ptr[j + 1]):   # the items sharing a facility with j, then j
                for q in range(t_ptr[idx[p]], t_ptr[idx[p] + 1]):
                    i = t_idx[q]   # the check inline: a call per neighbour costs far more
                    if i != j and tight[i] == 0 and raised[i] < room[i] - _EPS:
                        after += _raise(i, ptr, idx, coef, t_ptr, t_idx, room, raised, residual, gain,
                                        tight, log_item, old_raised, item_logged, log_fac, old_residual,
                                        fac_logged, counts)
            after += _raise(j, ptr, idx, coef, t_ptr, t_idx, room, raised, residual, gain, tight,
                            log_item, old_raised, item_logged, log_fac, old_residual, fac_logged, counts)
            change = after - before
            if change > _EPS * max(1.0, before):
                grew += change
            else:
                _undo(raised, residual, t_ptr, t_idx, tight, log_item, old_raised, log_fac, old_residual, counts)
            _forget(item_logged, log_item, counts[0])
            _forget(fac_logged, log_fac, counts[1])
        total += grew
        if grew <= 0:
            break
    return total


@numba.njit(cache=True, nogil=True)
def _forget(logged, log, n):
    for k in range(n):
        logged[log[k]] = False


@numba.njit(cache=True, nogil=True)
def _tight_counts(ptr, idx, residual):
    """Per item: how many of its facilities have no reduced cost left."""
    tight = np.zeros(len(ptr) - 1, np.int64)
    for i in range(len(ptr) - 1):
        for p in range(ptr[i], ptr[i + 1]):
            if residual[idx[p]] <= _EPS:
                tight[i] += 1
    return tight


@numba.njit(cache=True, nogil=True)
def _raise(i, ptr, idx, coef, t_ptr, t_idx, room, raised, residual, gain, tight,
           log_item, old_raised, item_logged, log_fac, old_residual, fac_logged, counts):
    """Raise item i as far as its facilities and room allow; returns the bound's gain."""
    if tight[i] > 0 or raised[i] >= room[i] - _EPS:
        return 0.0
    step = room[i] - raised[i]
    for p in range(ptr[i], ptr[i + 1]):
        step = min(step, residual[idx[p]] / coef[p])
    if step <= _EPS or not np.isfinite(step):
        return 0.0
    _set_raised(i, raised[i] + step, raised, log_item, old_raised, item_logged, counts)
    for p in range(ptr[i], ptr[i + 1]):
        _set_residual(idx[p], max(residual[idx[p]] - coef[p] * step, 0.0), residual, t_ptr, t_idx,
                      tight, log_fac, old_residual, fac_logged, counts)
    return step * gain[i]


@numba.njit(cache=True, nogil=True)
def _set_raised(i, value, raised, log_item, old_raised, item_logged, counts):
    if not item_logged[i]:
        item_logged[i] = True
        log_item[counts[0]] = i
        old_raised[counts[0]] = raised[i]
        counts[0] += 1
    raised[i] = value


@numba.njit(cache=True, nogil=True)
def _set_residual(s, value, residual, t_ptr, t_idx, tight, log_fac, old_residual, fac_logged, counts):
    if not fac_logged[s]:
        fac_logged[s] = True
        log_fac[counts[1]] = s
        old_residual[counts[1]] = residual[s]
        counts[1] += 1
    _retight(s, residual[s], value, t_ptr, t_idx, tight)
    residual[s] = value


@numba.njit(cache=True, nogil=True)
def _retight(s, old, new, t_ptr, t_idx, tight):
    """Keep each item's count of facilities without reduced cost left."""
    was, now = old <= _EPS, new <= _EPS
    if was == now:
        return
    step = 1 if now else -1
    for q in range(t_ptr[s], t_ptr[s + 1]):
        tight[t_idx[q]] += step


@numba.njit(cache=True, nogil=True)
def _undo(raised, residual, t_ptr, t_idx, tight, log_item, old_raised, log_fac, old_residual, counts):
    for k in range(counts[0]):
        raised[log_item[k]] = old_raised[k]
    for k in range(counts[1]):
        s = log_fac[k]
        _retight(s, residual[s], old_residual[k], t_ptr, t_idx, tight)
        residual[s] = old_residual[k]
