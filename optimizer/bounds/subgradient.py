"""A proven lower bound for any `Milp`: the Lagrangian dual of its rows, by subgradient ascent.

Every row ``row_lb <= a_r v <= row_ub`` is priced by a multiplier ``lam_r`` (>= 0 where only the
lower side is finite, <= 0 where only the upper side is, free for ranges), which leaves one
problem per variable over its box:

    L(lam) = sum_r (max(lam_r, 0) row_lb_r + min(lam_r, 0) row_ub_r)
             + sum_j min_{lb_j <= v_j <= ub_j} (c_j - a_j^T lam) v_j

For every admissible ``lam`` this is a lower bound on the MILP (and on its LP relaxation), so the
bound we report is an exact evaluation, never an estimate; the ascent only decides how good it
is. The maximum over ``lam`` equals the LP bound. The step is Beasley's (1993): a Polyak step
towards `Tuning.subgradient_overshoot` beyond the target, its factor starting at
`initial_factor` and halved after `Tuning.subgradient_patience` steps without a new best bound,
with subgradient components that cannot move a multiplier off its sign bound zeroed. Halving
only when the bound stops improving keeps the step large while the bound still climbs fast;
a rule that halves it whenever recent bounds spread out shrinks it too early.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.model.milp import CONTINUOUS, Milp
from optimizer.tuning import TUNING

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LagrangianBound:
    """The best bound found, the multipliers that give it, and their reduced costs."""

    bound: float
    multipliers: FloatArray          # per row of the Milp (0 on free rows)
    reduced_costs: FloatArray        # c - A^T lam at the best multipliers
    iterations: int
    seconds: float


def terms(milp: Milp, lam: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """L(lam) term by term: (per variable, per row, reduced costs, the box minimiser v(lam)).
    A variable unbounded on the side its reduced cost rewards contributes -inf."""
    rc = milp.c - milp.A.T @ lam
    v = np.where(rc > 0, milp.lb, np.where(rc < 0, milp.ub, np.clip(0.0, milp.lb, milp.ub)))
    everything = np.arange(milp.n_vars)
    return var_terms(milp, everything, rc), row_terms(milp, np.arange(milp.n_rows), lam), rc, v


def var_terms(milp: Milp, cols: IntArray, rc_cols: FloatArray) -> FloatArray:
    """Each variable's term of L: the least of ``rc * v`` over its box (-inf where the box is open
    on the side its reduced cost rewards)."""
    lb, ub = milp.lb[cols], milp.ub[cols]
    with np.errstate(invalid="ignore"):
        return np.where(rc_cols > 0, rc_cols * lb, np.where(rc_cols < 0, rc_cols * ub, 0.0))


def row_terms(milp: Milp, rows: IntArray, lam_rows: FloatArray) -> FloatArray:
    """Each row's term of L: its multiplier times the bound on the side it prices."""
    out = np.zeros(len(rows))
    pos, neg = lam_rows > 0, lam_rows < 0
    out[pos] = lam_rows[pos] * milp.row_lb[rows][pos]
    out[neg] = lam_rows[neg] * milp.row_ub[rows][neg]
    return out


def evaluate(milp: Milp, lam: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    """(L(lam), reduced costs, the box minimiser v(lam)); L is -inf when a variable is unbounded
    on the side its reduced cost rewards."""
    var_term, row_term, rc, v = terms(milp, lam)
    total = float(np.sum(var_term) + np.sum(row_term)) + milp.offset
    return (total if np.isfinite(total) else -np.inf), rc, v


def integral_bound(milp: Milp, bound: float) -> float:
    """Round a bound up when every plan's objective is an integer (every objective
    coefficient integral and on an integer variable, integral offset)."""
    live = milp.c != 0
    if not np.isfinite(bound) or (milp.integrality[live] == CONTINUOUS).any():
        return bound
    if not np.allclose(milp.c[live], np.round(milp.c[live])) or milp.offset != round(milp.offset):
        return bound
    return float(np.ceil(bound - 1e-6 * max(1.0, abs(bound))))


def lagrangian_bound(milp: Milp, *, target: float | None = None, time_limit_s: float = 10.0,
                     max_iterations: int = 5000, start: FloatArray | None = None,
                     tolerance: float = 1e-4, initial_factor: float = 2.0,
                     incumbent: FloatArray | None = None) -> LagrangianBound:
    """Subgradient ascent on L(lam) within `time_limit_s`.

    `target` is an objective value known to be reachable (a feasible plan's); it guides the step
    and stops the ascent once the bound is within `tolerance` of it. `incumbent` (that plan)
    breaks ties: a variable whose reduced cost is (nearly) zero takes the plan's value in the
    subgradient. After a dual ascent most facilities sit at zero reduced cost, and taking them
    all closed points every step the wrong way.
    """
    t0 = time.perf_counter()
    has_lo, has_hi = np.isfinite(milp.row_lb), np.isfinite(milp.row_ub)
    lam = np.zeros(milp.n_rows) if start is None else project(start.copy(), has_lo, has_hi)
    best, rc_best, lam_best = -np.inf, milp.c.copy(), lam.copy()
    factor, since_best, iterations = initial_factor, 0, 0
    # the start is always evaluated, whatever the time left: its value is a bound too
    while iterations < max_iterations and (iterations == 0 or time.perf_counter() - t0 < time_limit_s):
        value, rc, v = evaluate(milp, lam)
        iterations += 1
        if value > best:
            best, rc_best, lam_best, since_best = value, rc, lam.copy(), 0
        else:
            since_best += 1
            if since_best >= TUNING.subgradient_patience:
                factor, since_best = factor / 2.0, 0
        if target is not None and np.isfinite(best) and target - best <= tolerance * max(1.0, abs(target)):
            break
        if incumbent is not None:
            tie = np.abs(rc) <= 1e-9 * np.maximum(1.0, np.abs(milp.c))
            v = np.where(tie, incumbent, v)
        g = _subgradient(milp, lam, v, has_lo, has_hi)
        norm2 = float(g @ g)
        if norm2 <= 1e-18:
            break   # v(lam) is feasible for every priced row: L(lam) is the optimum of the box
        if target is not None:
            aim = target + TUNING.subgradient_overshoot * max(1.0, abs(target))
        else:
            aim = abs(best) * 0.01 + 1.0 + best if np.isfinite(best) else 1.0
        gap = max(aim - (value if np.isfinite(value) else best), 1e-9 * max(1.0, abs(aim)))
        lam = project(lam + factor * gap / norm2 * g, has_lo, has_hi)
    return LagrangianBound(best, lam_best, rc_best, iterations, time.perf_counter() - t0)


def _subgradient(milp: Milp, lam: FloatArray, v: FloatArray, has_lo: npt.NDArray[np.bool_],
                 has_hi: npt.NDArray[np.bool_]) -> FloatArray:
    """Row violations at v(lam); components that would push a multiplier past its sign bound
    are zeroed (they cannot change it and only shrink the step)."""
    act = milp.A @ v
    g = np.zeros(milp.n_rows)
    below = has_lo & (act < milp.row_lb)
    above = has_hi & (act > milp.row_ub)
    g[below] = (milp.row_lb - act)[below]
    g[above] = (milp.row_ub - act)[above]
    # A multiplier already priced on one side moves back towards zero when the row is slack.
    pos = (lam > 0) & ~below & ~above
    g[pos] = (milp.row_lb - act)[pos]
    neg = (lam < 0) & ~below & ~above
    g[neg] = (milp.row_ub - act)[neg]
    return g


def project(lam: FloatArray, has_lo: npt.NDArray[np.bool_], has_hi: npt.NDArray[np.bool_]) -> FloatArray:
    """`lam` in place, each multiplier kept on the side of a finite row bound (0 otherwise)."""
    lam[~has_hi & (lam < 0)] = 0.0
    lam[~has_lo & (lam > 0)] = 0.0
    return lam
