"""Row-weighting local search for models that are pure set covering (least-cost full coverage).

A model is pure set covering when it has only facility variables (no coverage or co-location
variables) and every row that binds is ``sum of some y >= 1`` with unit coefficients: the
location set-covering problem ("every community within reach of a station, at the least
capital"). There, the general search (swaps, core MIPs, windows) stalls a few per cent above the
covers this search reaches in the same time (see bench/RESULTS.md).

The search is RWLS (Gao, Weise and Li, "An efficient local search heuristic with row weighting
for the unweighted set covering problem", EJOR 2015), for costs as well: every uncovered row
carries a weight that grows each step it stays uncovered, so the search is pulled towards the
rows that are hard to cover. Each step closes the open site whose closing loses least weight
per unit of cost (not the one opened the step before), then opens, among the sites covering a
random uncovered row, the one covering most weight per unit of cost, skipping sites whose
neighbourhood has not changed since they closed (configuration checking: no cycling back).
Whenever every row is covered the plan is recorded if cheaper, and a site closes. The loops
are compiled (numba) and run in chunks so that the deadline is checked between them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.model.milp import INTEGER, Milp
from optimizer.search.windows import SearchReport
from optimizer.tuning import TUNING

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SetCover:
    """The part of a pure set-covering model still to decide: the rows no fixed-open site
    covers, over the sites free to open."""

    milp: Milp
    always: IntArray         # sites free to open at no cost: open in every plan
    columns: IntArray        # free site -> its variable in `milp`
    cost: FloatArray         # per free site
    row_ptr: IntArray        # row -> free sites covering it (CSR)
    row_idx: IntArray
    col_ptr: IntArray        # free site -> rows it covers (CSC)
    col_idx: IntArray

    def plan_of(self, is_open: npt.NDArray[np.bool_]) -> FloatArray:
        """The whole model's vector: fixed variables at their bound, free sites as chosen."""
        v = self.milp.lb.copy()
        v[self.always] = 1.0
        v[self.columns[is_open]] = 1.0
        return v


def set_cover(milp: Milp) -> SetCover | None:
    """The model as a set-covering instance, or None if it is not one (other variable
    blocks, rows other than unit-coefficient ``>= 1`` rows binding, a negative cost, a
    non-binary variable)."""
    if any(b.size and b.name != "y" for b in milp.var_blocks):
        return None
    if milp.n_vars == 0 or (milp.integrality != INTEGER).any() or (milp.lb < 0).any() or (milp.ub > 1).any():
        return None
    can_open = milp.ub > 0.5
    if (milp.c[can_open & (milp.lb < 0.5)] < 0).any():
        return None
    fixed_open = can_open & ((milp.lb > 0.5) | (milp.c <= 0))   # at no cost: opened, never closed
    free = can_open & ~fixed_open
    binding = np.isfinite(milp.row_lb) | np.isfinite(milp.row_ub)
    A = sp.csr_array(milp.A)
    rows = A[np.flatnonzero(binding)]
    if np.isfinite(milp.row_ub[binding]).any() or (milp.row_lb[binding] != 1.0).any() or (rows.data != 1.0).any():
        return None
    done = (rows @ fixed_open.astype(np.float64)) >= 1.0
    open_rows = rows[np.flatnonzero(~done)]
    columns = np.flatnonzero(free)
    sub = sp.csr_array(open_rows[:, columns])
    if (np.diff(sub.indptr) == 0).any():
        return None   # a row nothing free can cover: infeasible, the solver says so
    sub.sort_indices()
    csc = sub.tocsc()
    csc.sort_indices()
    return SetCover(milp, np.flatnonzero(fixed_open & (milp.lb < 0.5)), columns, milp.c[columns].astype(np.float64),
                    sub.indptr.astype(np.int64), sub.indices.astype(np.int64), csc.indptr.astype(np.int64),
                    csc.indices.astype(np.int64))


def row_weighting_search(cover: SetCover, plan: FloatArray, *, time_limit_s: float,
                         target: float = -np.inf, seed: int = 0,
                         stall: bool = False) -> tuple[FloatArray, SearchReport]:
    """A plan at least as good as the feasible `plan` within `time_limit_s`, stopping once its
    objective reaches `target` (a proven bound), or, with `stall`, once the steps since its last
    gain are more than both `TUNING.weighting_stall_steps` and the steps it took to get there; and the report
    for the plan's notes."""
    t0 = time.perf_counter()
    milp = cover.milp
    start = float(milp.c @ plan + milp.offset)
    state = _State.new(cover, plan[cover.columns] > 0.5, seed)
    reached = target + 1e-9 * max(1.0, abs(target)) if np.isfinite(target) else -np.inf
    fixed = start - float(cover.cost @ state.best)   # fixed sites' cost and the offset
    steps = last_gain = 0
    chunk = TUNING.weighting_first_chunk
    while time.perf_counter() - t0 < time_limit_s and fixed + state.best_cost[0] > reached:
        gains, began = state.improvements[0], time.perf_counter()
        taken = _run(cover.row_ptr, cover.row_idx, cover.col_ptr, cover.col_idx, cover.cost, *state.arrays(),
                     chunk)
        steps += taken
        if taken < chunk:
            break   # every site closed and no row left: nothing cheaper exists
        chunk = int(np.clip(chunk * TUNING.weighting_chunk_s / max(time.perf_counter() - began, 1e-6), 100, 1_000_000))
        last_gain = steps if state.improvements[0] > gains else last_gain
        if stall and steps - last_gain > max(TUNING.weighting_stall_steps, last_gain):
            break
    best = cover.plan_of(state.best)
    objective = float(milp.c @ best + milp.offset)
    if objective >= start or not milp.is_feasible(best):
        best, objective = plan, start
    improved = int(state.improvements[0])
    return best, SearchReport(steps, improved, start, objective, time.perf_counter() - t0,
                              int((best > 0.5).sum()), "row-weighting")


@dataclass
class _State:
    """The search's arrays, kept between compiled chunks."""

    count: IntArray                  # row -> open sites covering it
    weight: FloatArray               # row weight
    score: FloatArray                # site -> weight it would cover (closed) or lose (open, < 0)
    is_open: npt.NDArray[np.bool_]
    open_list: IntArray              # the open sites, positions in `open_pos`
    open_pos: IntArray
    uncovered: IntArray              # the uncovered rows, positions in `uncovered_pos`
    uncovered_pos: IntArray
    changed: npt.NDArray[np.bool_]   # configuration checking: a neighbour changed since it closed
    stamp: IntArray                  # step a site last changed (older first among equals)
    counters: IntArray               # [uncovered rows, open sites, step, tabu site, rng state]
    best: npt.NDArray[np.bool_]
    best_cost: FloatArray            # [cost of `best`]
    improvements: IntArray           # [times `best` improved]

    @classmethod
    def new(cls, cover: SetCover, is_open: npt.NDArray[np.bool_], seed: int) -> _State:
        n_rows, n_sites = len(cover.row_ptr) - 1, len(cover.col_ptr) - 1
        state = cls(np.zeros(n_rows, np.int64), np.ones(n_rows), np.diff(cover.col_ptr).astype(np.float64),
                    np.zeros(n_sites, np.bool_), np.zeros(n_sites, np.int64), np.full(n_sites, -1, np.int64),
                    np.arange(n_rows, dtype=np.int64), np.arange(n_rows, dtype=np.int64),
                    np.ones(n_sites, np.bool_), np.zeros(n_sites, np.int64),
                    np.array([n_rows, 0, 0, -1, seed * 2654435761 + 1], dtype=np.int64),
                    is_open.copy(), np.array([float(cover.cost @ is_open)]), np.zeros(1, np.int64))
        _start(cover.row_ptr, cover.row_idx, cover.col_ptr, cover.col_idx, cover.cost, *state.arrays(),
               np.flatnonzero(is_open))
        return state

    def arrays(self) -> tuple[IntArray, FloatArray, FloatArray, npt.NDArray[np.bool_], IntArray, IntArray, IntArray,
                              IntArray, npt.NDArray[np.bool_], IntArray, IntArray, npt.NDArray[np.bool_], FloatArray,
                              IntArray]:
        """The arrays in the order the kernels take them."""
        return (self.count, self.weight, self.score, self.is_open, self.open_list, self.open_pos,
                self.uncovered, self.uncovered_pos, self.changed, self.stamp, self.counters, self.best,
                self.best_cost, self.improvements)


@numba.njit(cache=True, nogil=True)
def _open(j, rp, ri, cp, ci, count, weight, score, is_open, open_list, open_pos, unc, unc_pos, changed,
          counters):
    """Open site j: coverage counts, the scores they change, and the uncovered list."""
    is_open[j] = True
    open_pos[j] = counters[1]
    open_list[counters[1]] = j
    counters[1] += 1
    for p in range(cp[j], cp[j + 1]):
        i = ci[p]
        count[i] += 1
        if count[i] == 1:   # newly covered: no longer worth anything to the others; j its sole cover
            q, last = unc_pos[i], unc[counters[0] - 1]
            unc[q], unc_pos[last], unc_pos[i] = last, q, -1
            counters[0] -= 1
            for t in range(rp[i], rp[i + 1]):
                if ri[t] != j:
                    score[ri[t]] -= weight[i]
            score[j] -= 2.0 * weight[i]
        elif count[i] == 2:   # the former sole cover no longer loses row i by closing
            for t in range(rp[i], rp[i + 1]):
                k = ri[t]
                if k != j and is_open[k]:
                    score[k] += weight[i]
                    break
        for t in range(rp[i], rp[i + 1]):
            changed[ri[t]] = True


@numba.njit(cache=True, nogil=True)
def _close(j, rp, ri, cp, ci, count, weight, score, is_open, open_list, open_pos, unc, unc_pos, changed,
           counters):
    """Close site j (the mirror of `_open`); j's configuration is reset."""
    is_open[j] = False
    q = open_pos[j]
    last = open_list[counters[1] - 1]
    open_list[q], open_pos[last], open_pos[j] = last, q, -1
    counters[1] -= 1
    for p in range(cp[j], cp[j + 1]):
        i = ci[p]
        count[i] -= 1
        if count[i] == 0:
            unc[counters[0]], unc_pos[i] = i, counters[0]
            counters[0] += 1
            for t in range(rp[i], rp[i + 1]):
                if ri[t] != j:
                    score[ri[t]] += weight[i]
            score[j] += 2.0 * weight[i]
        elif count[i] == 1:
            for t in range(rp[i], rp[i + 1]):
                k = ri[t]
                if is_open[k]:
                    score[k] -= weight[i]
                    break
        for t in range(rp[i], rp[i + 1]):
            changed[ri[t]] = True
    changed[j] = False


@numba.njit(cache=True, nogil=True)
def _start(rp, ri, cp, ci, cost, count, weight, score, is_open, open_list, open_pos, unc, unc_pos, changed,
           stamp, counters, best, best_cost, improvements, seed_open):
    """Open the start plan's sites (scores start as each site's row count: all rows uncovered)."""
    for j in seed_open:
        _open(j, rp, ri, cp, ci, count, weight, score, is_open, open_list, open_pos, unc, unc_pos, changed,
              counters)


@numba.njit(cache=True, nogil=True)
def _better(a_score, a_cost, a_stamp, b_score, b_cost, b_stamp):
    """Whether a site (score, cost, stamp) ranks before another: more score per unit of cost,
    then the one unchanged longest."""
    left, right = a_score * b_cost, b_score * a_cost   # a_score / a_cost > b_score / b_cost, costs > 0
    return left > right or (left == right and a_stamp < b_stamp)


@numba.njit(cache=True, nogil=True)
def _best_open(cost, score, open_list, n_open, stamp, tabu):
    best = -1
    for q in range(n_open):
        j = open_list[q]
        if j != tabu and (best < 0 or _better(score[j], cost[j], stamp[j], score[best], cost[best], stamp[best])):
            best = j
    return best


@numba.njit(cache=True, nogil=True)
def _next_random(counters):
    """xorshift64 in counters[4]: reproducible per seed, no global state shared by threads."""
    x = counters[4]
    x ^= (x << 13)
    x ^= (x >> 7) & 0x01FFFFFFFFFFFFFF
    x ^= (x << 17)
    counters[4] = x
    return x & 0x7FFFFFFFFFFFFFFF


@numba.njit(cache=True, nogil=True)
def _record(cost, is_open, open_list, counters, best, best_cost, improvements):
    """Every row covered: keep the open sites if they cost less than the best so far."""
    total = 0.0
    for q in range(counters[1]):
        total += cost[open_list[q]]
    if total < best_cost[0] - 1e-9 * max(1.0, abs(best_cost[0])):
        best_cost[0] = total
        best[:] = is_open
        improvements[0] += 1


@numba.njit(cache=True, nogil=True)
def _site_to_open(row, rp, ri, cost, score, changed, stamp):
    """The best site covering `row` among those whose neighbourhood changed since they closed;
    the best of all when none did."""
    k = -1
    for t in range(rp[row], rp[row + 1]):
        s = ri[t]
        if changed[s] and (k < 0 or _better(score[s], cost[s], stamp[s], score[k], cost[k], stamp[k])):
            k = s
    if k >= 0:
        return k
    for t in range(rp[row], rp[row + 1]):
        s = ri[t]
        if k < 0 or _better(score[s], cost[s], stamp[s], score[k], cost[k], stamp[k]):
            k = s
    return k


@numba.njit(cache=True, nogil=True)
def _weigh_uncovered(rp, ri, weight, score, unc, n_uncovered):
    """Rows still uncovered weigh one more, and so do the scores of the sites covering them."""
    for q in range(n_uncovered):
        i = unc[q]
        weight[i] += 1.0
        for t in range(rp[i], rp[i + 1]):
            score[ri[t]] += 1.0


@numba.njit(cache=True, nogil=True)
def _run(rp, ri, cp, ci, cost, count, weight, score, is_open, open_list, open_pos, unc, unc_pos, changed,
         stamp, counters, best, best_cost, improvements, n_steps):
    """`n_steps` steps of the search; returns the steps taken (fewer only when nothing is open
    and every row covered: no row at all)."""
    for step_no in range(n_steps):
        counters[2] += 1
        step = counters[2]
        while counters[0] == 0:   # every row covered: record, then close a site
            _record(cost, is_open, open_list, counters, best, best_cost, improvements)
            if counters[1] == 0:
                return step_no
            j = _best_open(cost, score, open_list, counters[1], stamp, -1)
            _close(j, rp, ri, cp, ci, count, weight, score, is_open, open_list, open_pos, unc, unc_pos,
                   changed, counters)
            stamp[j] = step
        j = _best_open(cost, score, open_list, counters[1], stamp, counters[3])
        if j >= 0:
            _close(j, rp, ri, cp, ci, count, weight, score, is_open, open_list, open_pos, unc, unc_pos,
                   changed, counters)
            stamp[j] = step
        k = _site_to_open(unc[_next_random(counters) % counters[0]], rp, ri, cost, score, changed, stamp)
        _open(k, rp, ri, cp, ci, count, weight, score, is_open, open_list, open_pos, unc, unc_pos, changed,
              counters)
        stamp[k] = step
        counters[3] = k
        _weigh_uncovered(rp, ri, weight, score, unc, counters[0])
    return n_steps
