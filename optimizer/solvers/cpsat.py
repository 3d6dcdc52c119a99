"""OR-Tools CP-SAT backend: the `Milp` as an all-integer CP-SAT model, scaling reported.

CP-SAT has integer variables and integer row coefficients only. Integer and implied-integer
columns become ``IntVar``s; a truly continuous column is refused with a `BackendError`
(never approximated). Each row is multiplied by the smallest power of ten that makes its
coefficients integral, and its bounds are rounded inwards; how many rows were scaled, and by
how much, is reported in ``SolveResult.notes``. A fractional objective is scaled the same way
(CP-SAT then optimises it exactly; the bound is scaled back); only an objective that no power of
ten up to ``10**MAX_SCALE_EXPONENT`` makes integral within ``2**53`` is passed as floats, which
CP-SAT approximates by its own scaling (and may then call a slightly worse plan optimal).

OR-Tools is imported inside functions only: ortools 9.15 and highspy 1.15 each carry their own
HiGHS and cannot be loaded into one process (see PERF_NOTES), so importing this module loads
neither.
"""

from __future__ import annotations

import importlib.util
import time
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.errors import BackendError, Problem
from optimizer.model.milp import CONTINUOUS, IMPLIED_INTEGER, Block, Milp
from optimizer.solvers.base import (
    BOUND,
    BRANCH_AND_BOUND,
    MIP,
    SLOW_SET_UP,
    START,
    Backend,
    SolveOptions,
    SolveResult,
    Status,
    relative_gap,
)

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

# Stand-in for an infinite variable bound: large, yet far from int64 overflow in row sums.
BIG_BOUND = 2**40
# Row scales tried: 10**0 .. 10**MAX_SCALE_EXPONENT.
MAX_SCALE_EXPONENT = 6
# A scaled coefficient counts as integral within this relative tolerance (floor 1.0).
COEF_RTOL = 1e-9
# Bounds are rounded inwards after allowing float noise of max(BOUND_TOL, BOUND_RTOL*|b|)
# (the relative part covers a few thousand ulps, so 1e8-sized budgets round correctly).
BOUND_TOL = 1e-9
BOUND_RTOL = 1e-12
# Scaled coefficients beyond this are not exact in float64: refused.
MAX_EXACT_COEF = 2**53
# Row bounds are clipped to this (CP-SAT requires domains within +-int64max/2); a row sum
# cannot get there anyway, since CP-SAT rejects rows whose activity could overflow int64.
_MAX_DOMAIN = 2**62 - 1
_CONTINUOUS_MESSAGE = (
    "is continuous; CP-SAT has integer variables only. Declare it INTEGER or IMPLIED_INTEGER "
    "if that keeps the optimum, or use the HiGHS backend."
)
_ROW_ADVICE = "; CP-SAT needs integer row coefficients. Round the data or use the HiGHS backend."
_EXACT_ADVICE = "; CP-SAT would not be exact. Rescale the data or use the HiGHS backend."
# Listed problems per BackendError, so a huge model does not produce a huge message.
_MAX_LISTED = 10

# CP-SAT status name -> (our status, stopped by the time limit). "UNKNOWN" is decided by the
# wall time in `map_status`; anything else unmapped stays Status.UNKNOWN.
_STATUS_TABLE: dict[str, tuple[Status, bool]] = {
    "OPTIMAL": (Status.OPTIMAL, False),
    "FEASIBLE": (Status.TIME_LIMIT_FEASIBLE, True),
    "INFEASIBLE": (Status.INFEASIBLE, False),
    "MODEL_INVALID": (Status.ERROR, False),
}
# An UNKNOWN run counts as time-limited when it used at least this share of its limit.
_LIMIT_REACHED_SHARE = 0.99

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class CpSatBackend(Backend):
    """CP-SAT (OR-Tools 9.15) behind the common backend interface.

    Parameters set on every run: ``max_time_in_seconds``, ``relative_gap_limit``,
    ``num_workers`` (at least 1), ``linearization_level=2`` and, with more than one worker,
    ``extra_subsolvers=["max_lp"]`` so that an LP-based worker is always scheduled (with one
    worker the single search itself runs at linearization level 2, which is ``max_lp``).
    """

    name = "cpsat"
    capabilities = frozenset({MIP, START, BOUND, BRANCH_AND_BOUND, SLOW_SET_UP})
    native_family = "ortools"

    @classmethod
    def is_available(cls) -> bool:
        """Whether ortools is installed (checked without loading its native library)."""
        return importlib.util.find_spec("ortools") is not None

    def solve(self, model: Milp, options: SolveOptions) -> SolveResult:
        """Translate `model` to CP-SAT, solve it and map the outcome.

        Raises
        ------
        BackendError
            When a variable is continuous, or a row has no power-of-ten scale up to
            ``10**MAX_SCALE_EXPONENT`` that makes its coefficients integral.
        """
        from ortools.sat.python import cp_model

        started = time.perf_counter()
        cp, variables, objective_scale, notes = build_cp_model(model)
        if options.start is not None:
            add_hint(cp, variables, model, options.start)
            notes.append("solution hint given from options.start")
        solver = cp_model.CpSolver()
        set_parameters(solver, options)
        notes.append(f"model built in {time.perf_counter() - started:.3f} s")
        solve_started = time.perf_counter()
        code = solver.solve(cp)
        seconds = time.perf_counter() - solve_started
        if solver.status_name(code) == "MODEL_INVALID":
            notes.append(f"CP-SAT rejected the model: {cp.validate()}")
        native = solver.status_name(code)
        return read_result(model, solver, native, seconds, options, notes, objective_scale)


def build_cp_model(
    model: Milp,
) -> tuple[cp_model.CpModel, list[cp_model.IntVar], int, list[str]]:
    """Build the all-integer CP-SAT model of `model`.

    Returns the model, its variables, the objective scale (CP-SAT minimises
    ``scale * c @ v``; see `set_objective`) and notes. Variable ``j`` of `model` is CP-SAT
    variable ``j`` (created first, in order), so the response's solution vector reads back
    in bulk.
    """
    from ortools.sat.python import cp_model

    var_lo, var_hi, notes = integer_bounds(model)
    scale, coefs = row_scales(model)
    row_lo, row_hi = scaled_row_bounds(model.row_lb, model.row_ub, scale)
    cp = cp_model.CpModel()
    variables = [
        cp.new_int_var(lo, hi, f"v{j}")
        for j, (lo, hi) in enumerate(zip(var_lo.tolist(), var_hi.tolist(), strict=True))
    ]
    add_rows(cp, variables, model.A, coefs, row_lo, row_hi)
    objective_scale, note = set_objective(cp, variables, model.c, var_lo, var_hi)
    notes.append(note)
    scaled = scale > 1
    notes.append(
        f"{int(scaled.sum())} of {model.n_rows} rows scaled to integer coefficients"
        + (f" (largest scale {int(scale.max())})" if scaled.any() else "")
    )
    return cp, variables, objective_scale, notes


def integer_bounds(model: Milp) -> tuple[IntArray, IntArray, list[str]]:
    """Integer variable bounds ``(ceil(lb), floor(ub))``; infinite ones become ``+-BIG_BOUND``.

    Raises
    ------
    BackendError
        Naming every continuous variable (CP-SAT cannot represent them) or finite bound
        beyond ``2**53``.
    """
    continuous = np.flatnonzero(model.integrality == CONTINUOUS)
    _raise_for(model, "variable", continuous, _CONTINUOUS_MESSAGE)
    lb_finite, ub_finite = np.isfinite(model.lb), np.isfinite(model.ub)
    lb = np.where(lb_finite, model.lb, 0.0)
    ub = np.where(ub_finite, model.ub, 0.0)
    huge = np.flatnonzero(np.maximum(np.abs(lb), np.abs(ub)) > MAX_EXACT_COEF)
    _raise_for(model, "variable", huge, "has a finite bound beyond 2**53" + _EXACT_ADVICE)
    lo = np.where(lb_finite, np.ceil(lb - _noise(lb)), -BIG_BOUND).astype(np.int64)
    hi = np.where(ub_finite, np.floor(ub + _noise(ub)), BIG_BOUND).astype(np.int64)
    notes = []
    n_infinite = int((~lb_finite).sum() + (~ub_finite).sum())
    if n_infinite:
        notes.append(f"{n_infinite} infinite variable bounds replaced by +-2**40")
    n_implied = int((model.integrality == IMPLIED_INTEGER).sum())
    if n_implied:
        notes.append(f"{n_implied} implied-integer variables declared integer")
    return lo, hi, notes


def row_scales(model: Milp) -> tuple[IntArray, IntArray]:
    """Per-row power-of-ten scale making the row integral, and the scaled coefficients.

    For each row, the smallest ``10**k`` (``k = 0 .. MAX_SCALE_EXPONENT``) such that every
    ``a[r, j] * 10**k`` is within ``COEF_RTOL`` (relative, floor 1) of an integer.

    Returns
    -------
    scale : int64 array, (n_rows,)
    coefs : int64 array, (nnz,)
        The scaled coefficients, in the order of ``model.A.data``.

    Raises
    ------
    BackendError
        Naming every row that no scale makes integral, or whose scaled coefficients exceed
        ``2**53``.
    """
    data = model.A.data.astype(np.float64)
    row_of = np.repeat(np.arange(model.n_rows), np.diff(model.A.indptr))
    free = ~np.isfinite(model.row_lb) & ~np.isfinite(model.row_ub)
    exponent = np.full(model.n_rows, -1, dtype=np.int64)
    for k in range(MAX_SCALE_EXPONENT + 1):
        scaled = data * 10.0**k
        off = np.abs(scaled - np.rint(scaled)) > COEF_RTOL * np.maximum(np.abs(scaled), 1.0)
        off &= ~free[row_of]   # a row bounded on neither side is never added
        has_off = np.bincount(row_of[off], minlength=model.n_rows) > 0
        exponent[(exponent < 0) & ~has_off] = k
    unscalable = np.flatnonzero(exponent < 0)
    _raise_for(model, "row", unscalable, "has no integer scale up to 10**6" + _ROW_ADVICE)
    scale = 10 ** np.maximum(exponent, 0)
    scaled = np.where(free[row_of], 0.0, np.rint(data * scale[row_of]))
    too_big = np.unique(row_of[np.abs(scaled) > MAX_EXACT_COEF])
    _raise_for(model, "row", too_big, "has scaled coefficients beyond 2**53" + _EXACT_ADVICE)
    return scale, scaled.astype(np.int64)


def _noise(values: FloatArray) -> FloatArray:
    """Float noise allowed before rounding a bound inwards: ``max(1e-9, 1e-12 * |value|)``."""
    return np.maximum(BOUND_TOL, BOUND_RTOL * np.abs(values))


def _raise_for(model: Milp, kind: str, indices: IntArray, why: str) -> None:
    """Raise one `BackendError` naming each variable or row in `indices`, if any."""
    if indices.size == 0:
        return
    blocks = model.var_blocks if kind == "variable" else model.row_blocks
    problems = [Problem(_label(kind, int(i), blocks), why) for i in indices[:_MAX_LISTED]]
    if indices.size > _MAX_LISTED:
        problems.append(Problem(f"{kind}s", f"{indices.size - _MAX_LISTED} more like these"))
    raise BackendError(problems)


def scaled_row_bounds(
    row_lb: FloatArray, row_ub: FloatArray, scale: IntArray
) -> tuple[IntArray, IntArray]:
    """Row bounds times `scale`, rounded inwards: ``ceil(lb*s - tol)``, ``floor(ub*s + tol)``.

    ``tol`` is ``max(1e-9, 1e-12 * |bound * s|)``: float noise, not a relaxation.

    Infinite bounds become ``+-(2**62 - 1)`` (no constraint on that side).
    """
    lo = np.full(row_lb.shape, -_MAX_DOMAIN, dtype=np.int64)
    hi = np.full(row_ub.shape, _MAX_DOMAIN, dtype=np.int64)
    has_lo, has_hi = np.isfinite(row_lb), np.isfinite(row_ub)
    lo_scaled = row_lb[has_lo] * scale[has_lo]
    hi_scaled = row_ub[has_hi] * scale[has_hi]
    lo_f = np.ceil(lo_scaled - _noise(lo_scaled))
    hi_f = np.floor(hi_scaled + _noise(hi_scaled))
    lo[has_lo] = np.clip(lo_f, -_MAX_DOMAIN, _MAX_DOMAIN).astype(np.int64)
    hi[has_hi] = np.clip(hi_f, -_MAX_DOMAIN, _MAX_DOMAIN).astype(np.int64)
    return lo, hi


def add_rows(
    cp: cp_model.CpModel,
    variables: list[cp_model.IntVar],
    matrix: sp.csr_array,
    coefs: IntArray,
    row_lo: IntArray,
    row_hi: IntArray,
) -> None:
    """Add ``row_lo[r] <= sum_j coefs[r, j] v[j] <= row_hi[r]`` per row of `matrix` (CSR)."""
    from ortools.sat.python import cp_model

    var_array = np.empty(len(variables), dtype=object)
    var_array[:] = variables
    indptr, indices = matrix.indptr, matrix.indices
    for r, (lo, hi) in enumerate(zip(row_lo.tolist(), row_hi.tolist(), strict=True)):
        if lo == -_MAX_DOMAIN and hi == _MAX_DOMAIN:
            continue   # free row (e.g. a lexicographic level row not in use)
        start, stop = indptr[r], indptr[r + 1]
        expr = cp_model.LinearExpr.weighted_sum(
            var_array[indices[start:stop]].tolist(), coefs[start:stop].tolist()
        )
        cp.add_linear_constraint(expr, lo, hi)


def set_objective(
    cp: cp_model.CpModel,
    variables: list[cp_model.IntVar],
    c: FloatArray,
    var_lo: IntArray,
    var_hi: IntArray,
) -> tuple[int, str]:
    """Minimise ``scale * c @ v`` (the offset is added when reading results).

    ``scale`` is the smallest ``10**k`` (``k = 0 .. MAX_SCALE_EXPONENT``) making every cost
    integral, as for rows (`row_scales`), and none zero; the scaled costs are passed as integers, so CP-SAT
    optimises the objective exactly. Scaling is used only while the scaled objective stays
    exact: coefficients, and ``sum |c_j| * scale * max(|lo_j|, |hi_j|)`` over the integer
    bounds, within ``2**53``. Otherwise (no such scale) the costs are passed as floats, which
    CP-SAT scales internally, approximately, and ``scale`` is 1.

    Returns
    -------
    scale : int
        Divide CP-SAT's objective value and bound by it.
    note : str
    """
    from ortools.sat.python import cp_model

    nz = np.flatnonzero(c)
    if nz.size == 0:
        return 1, "objective is zero: feasibility run"
    picked = [variables[j] for j in nz.tolist()]
    costs = c[nz]
    reach = np.maximum(np.abs(var_lo[nz]), np.abs(var_hi[nz])).astype(np.float64)
    for k in range(MAX_SCALE_EXPONENT + 1):
        scaled = costs * 10.0**k
        weights = np.rint(scaled)
        off = np.abs(scaled - weights) > COEF_RTOL * np.maximum(np.abs(scaled), 1.0)
        if np.any(off | (weights == 0)):   # a tiny cost is never rounded away
            continue
        exact: np.bool_ | bool = np.all(np.abs(weights) <= MAX_EXACT_COEF)
        if k > 0:   # an integral objective is passed as it is; scaling must stay exact
            exact = exact and float(np.abs(weights) @ reach) <= MAX_EXACT_COEF
        if not exact:
            break
        cp.minimize(cp_model.LinearExpr.weighted_sum(picked, weights.astype(np.int64).tolist()))
        if k == 0:
            return 1, "integer objective"
        return 10**k, f"fractional objective scaled by {10**k} to integer coefficients"
    cp.minimize(cp_model.LinearExpr.weighted_sum(picked, costs.tolist()))
    return 1, (
        "fractional objective: CP-SAT scales it itself, approximately "
        f"(no power of ten up to 10**{MAX_SCALE_EXPONENT} makes it integral within 2**53)"
    )


def add_hint(
    cp: cp_model.CpModel, variables: list[cp_model.IntVar], model: Milp, start: FloatArray
) -> None:
    """Hint ``v[j] = round(start[j])`` (clipped to the bounds) for every finite entry."""
    if start.shape != (model.n_vars,):
        raise BackendError(
            f"has shape {start.shape}, expected ({model.n_vars},)", location="options.start"
        )
    lo, hi, _ = integer_bounds(model)
    finite = np.flatnonzero(np.isfinite(start))
    values = np.clip(np.rint(start[finite]), lo[finite], hi[finite]).astype(np.int64)
    for j, value in zip(finite.tolist(), values.tolist(), strict=True):
        cp.add_hint(variables[j], value)


def set_parameters(solver: cp_model.CpSolver, options: SolveOptions) -> None:
    """Time limit, gap, workers, and an LP-based subsolver (see `CpSatBackend`)."""
    params = solver.parameters
    params.max_time_in_seconds = float(options.time_limit_s)
    params.relative_gap_limit = float(options.mip_gap)
    params.num_workers = max(1, int(options.threads))
    params.linearization_level = 2
    if params.num_workers > 1:
        params.extra_subsolvers.append("max_lp")


def read_result(
    model: Milp,
    solver: cp_model.CpSolver,
    native: str,
    seconds: float,
    options: SolveOptions,
    notes: list[str],
    objective_scale: int = 1,
) -> SolveResult:
    """Map CP-SAT's answer to a `SolveResult` (objective and bound include the offset).

    The objective is ``c @ x`` of the solution; CP-SAT's bound is divided by
    `objective_scale` (see `set_objective`).
    """
    status, time_limited = map_status(native, seconds, options.time_limit_s)
    x = objective = None
    if status.has_solution:
        x = np.asarray(solver.response_proto.solution, dtype=np.float64)[: model.n_vars]
        objective = float(model.c @ x + model.offset)
    bound = None
    if status not in (Status.INFEASIBLE, Status.ERROR) and np.isfinite(solver.best_objective_bound):
        bound = float(solver.best_objective_bound / objective_scale + model.offset)
    return SolveResult(
        status=status,
        x=x,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        seconds=seconds,
        nodes=int(solver.num_branches),
        time_limited=time_limited,
        backend=CpSatBackend.name,
        native_status=native,
        notes=tuple(notes),
    )


def map_status(native: str, seconds: float, limit_s: float) -> tuple[Status, bool]:
    """Our status for CP-SAT's `native` one; UNKNOWN is a time-out when the limit was used."""
    if native in _STATUS_TABLE:
        return _STATUS_TABLE[native]
    if native == "UNKNOWN" and seconds >= _LIMIT_REACHED_SHARE * limit_s:
        return Status.TIME_LIMIT_NO_SOLUTION, True
    return Status.UNKNOWN, False


def _label(kind: str, index: int, blocks: tuple[Block, ...]) -> str:
    """``"row 12 ('C2 coverage link' #3)"``: the index and, if known, its named block."""
    for block in blocks:
        if block.start <= index < block.stop:
            return f"{kind} {index} ({block.name!r} #{index - block.start})"
    return f"{kind} {index}"
