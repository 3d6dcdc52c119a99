"""PuLP backend: the `Milp` through any solver PuLP drives (bundled CBC by default).

PuLP reports two codes: ``prob.status`` and ``prob.sol_status``. PuLP 3.3.2's CBC wrapper says
status *Optimal* for a run stopped by its time limit with an incumbent (``pulp/apis/
coin_api.py``, ``get_status``: "Stopped on time - objective value ..." becomes ``(Optimal,
IntegerFeasible)``); only ``sol_status`` tells. Both are mapped through `_STATUS_TABLE`, and a
plan is called optimal only when ``sol_status`` says so.

PuLP is imported inside functions only: ``import pulp`` itself imports highspy when installed
(``pulp/apis/highs_api.py`` tries it at class definition), and highspy cannot share a process
with ortools (see PERF_NOTES). Hence ``native_family == "highspy"`` whenever highspy is
installed, whatever the solver.
"""

from __future__ import annotations

import importlib.util
import inspect
import time
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from optimizer.errors import BackendError
from optimizer.model.milp import INTEGER, Milp
from optimizer.solvers.base import BRANCH_AND_BOUND, CONTINUOUS, MIP, START, Backend, SolveOptions, SolveResult, Status

if TYPE_CHECKING:
    import pulp

DEFAULT_SOLVER = "PULP_CBC_CMD"
CBC_NAMES = frozenset({"PULP_CBC_CMD", "COIN_CMD"})
SOLVER_ALIASES = {"CBC": "PULP_CBC_CMD"}

# PuLP 3.3.2 codes (``pulp.constants``), spelled out so this module loads without pulp;
# tests check them against pulp.
LP_STATUS_NOT_SOLVED = 0  # LpStatusNotSolved
LP_STATUS_OPTIMAL = 1  # LpStatusOptimal
LP_STATUS_INFEASIBLE = -1  # LpStatusInfeasible
LP_STATUS_UNBOUNDED = -2  # LpStatusUnbounded
LP_SOLUTION_NO_SOLUTION_FOUND = 0  # LpSolutionNoSolutionFound
LP_SOLUTION_OPTIMAL = 1  # LpSolutionOptimal
LP_SOLUTION_INTEGER_FEASIBLE = 2  # LpSolutionIntegerFeasible
LP_SOLUTION_INFEASIBLE = -1  # LpSolutionInfeasible
LP_SOLUTION_UNBOUNDED = -2  # LpSolutionUnbounded

# (prob.status, prob.sol_status) -> (our status, stopped by the time limit).
# (NOT_SOLVED, NO_SOLUTION_FOUND) is decided by the wall time in `map_status`;
# every other pair (e.g. LpStatusUndefined) is Status.UNKNOWN.
_STATUS_TABLE: dict[tuple[int, int], tuple[Status, bool]] = {
    (LP_STATUS_OPTIMAL, LP_SOLUTION_OPTIMAL): (Status.OPTIMAL, False),
    # CBC "Stopped on time - objective value", HiGHS kTimeLimit with a plan.
    (LP_STATUS_OPTIMAL, LP_SOLUTION_INTEGER_FEASIBLE): (Status.TIME_LIMIT_FEASIBLE, True),
    (LP_STATUS_INFEASIBLE, LP_SOLUTION_INFEASIBLE): (Status.INFEASIBLE, False),
    # CBC "Integer infeasible": PuLP leaves sol_status at NoSolutionFound.
    (LP_STATUS_INFEASIBLE, LP_SOLUTION_NO_SOLUTION_FOUND): (Status.INFEASIBLE, False),
    (LP_STATUS_UNBOUNDED, LP_SOLUTION_UNBOUNDED): (Status.UNBOUNDED, False),
}
# A run without a plan counts as time-limited when it used at least this share of its limit.
_LIMIT_REACHED_SHARE = 0.99

FloatArray = npt.NDArray[np.float64]


def _native_family() -> str:
    """``"highspy"`` when highspy is installed: ``import pulp`` then loads it."""
    return "highspy" if importlib.util.find_spec("highspy") is not None else ""


class PulpBackend(Backend):
    """Any PuLP solver behind the common backend interface.

    Parameters
    ----------
    solver_name : str
        A name from ``pulp.listSolvers()`` (e.g. ``"PULP_CBC_CMD"``, ``"HiGHS"``,
        ``"HiGHS_CMD"``), or ``"CBC"`` for the bundled CBC. Checked when solving.

    Notes
    -----
    Implied-integer variables stay continuous (``LpContinuous``). PuLP reports no dual bound,
    so ``bound`` is None; ``gap`` is 0 when the solver proved optimality (within ``mip_gap``)
    and None otherwise.
    """

    capabilities = frozenset({MIP, CONTINUOUS, START, BRANCH_AND_BOUND})
    native_family = _native_family()

    def __init__(self, solver_name: str = DEFAULT_SOLVER) -> None:
        self.solver_name = SOLVER_ALIASES.get(solver_name, solver_name)
        self.name = f"pulp:{self.solver_name}"

    @classmethod
    def is_available(cls) -> bool:
        """Whether pulp is installed (checked without importing it, which loads highspy)."""
        return importlib.util.find_spec("pulp") is not None

    def solve(self, model: Milp, options: SolveOptions) -> SolveResult:
        """Build an ``LpProblem`` from `model`, solve it and map both PuLP status codes.

        Raises
        ------
        BackendError
            For an unknown or unavailable solver name, a malformed start vector, or a
            solver run that fails (PuLP's ``PulpSolverError``).
        """
        import pulp

        if options.start is not None:
            check_start(model, options.start)
        solver, warm_start, notes = make_solver(self.solver_name, options)
        prob, variables = build_problem(model)
        if warm_start and options.start is not None:
            notes.append(set_start(variables, model, options.start))
        started = time.perf_counter()
        try:
            prob.solve(solver)
        except pulp.PulpSolverError as exc:
            raise BackendError(str(exc), location=f"PuLP solver {self.solver_name}") from exc
        seconds = time.perf_counter() - started
        result = read_result(model, prob, variables, seconds, options)
        return replace(result, backend=self.name, notes=(*notes, *result.notes))


def make_solver(solver_name: str, options: SolveOptions) -> tuple[pulp.LpSolver, bool, list[str]]:
    """``pulp.getSolver(solver_name, msg=False, timeLimit=..., gapRel=..., threads=...)``.

    Only keywords the solver class accepts are passed; ``warmStart=True`` when a start is
    given and the class names that keyword.

    Returns
    -------
    solver : pulp.LpSolver
    warm_start : bool
        Whether the solver was told to use initial values.
    notes : list of str

    Raises
    ------
    BackendError
        When the name is unknown to PuLP or the solver is not available here.
    """
    import pulp

    if solver_name not in pulp.listSolvers():
        raise BackendError(
            f"unknown PuLP solver {solver_name!r}; available here: "
            f"{pulp.listSolvers(onlyAvailable=True)} ('CBC' means PULP_CBC_CMD)",
            location="solver",
        )
    with warnings.catch_warnings():
        # PuLP 3.3.2 deprecates its bundled CBC for 4.0; the run itself is unaffected.
        warnings.filterwarnings("ignore", "PULP_CBC_CMD is deprecated", DeprecationWarning)
        accepted = _accepted_keywords(type(pulp.getSolver(solver_name, msg=False)))
        warm_start = options.start is not None and "warmStart" in accepted
        wanted: dict[str, object] = {
            "timeLimit": float(options.time_limit_s),
            "gapRel": float(options.mip_gap),
            "threads": max(1, int(options.threads)),
            "warmStart": warm_start,
        }
        kwargs = {k: v for k, v in wanted.items() if k in accepted}
        if solver_name in CBC_NAMES and "options" in accepted:
            # CBC 2.10.3's integer preprocessing can return a plan far dearer than the optimum,
            # labelled optimal, on small co-location models (tests/test_properties.py); with
            # preprocessing off it finds the optimum HiGHS and CP-SAT prove.
            kwargs["options"] = ["preprocess off"]
        solver = pulp.getSolver(solver_name, msg=False, **kwargs)
    if not solver.available():
        raise BackendError(
            f"PuLP solver {solver_name!r} is not available here; available: "
            f"{pulp.listSolvers(onlyAvailable=True)}",
            location="solver",
        )
    notes = [f"{solver_name} given {sorted(kwargs)}"]
    if options.start is not None and not warm_start:
        notes.append(f"{solver_name} takes no warmStart: options.start not used")
    return solver, warm_start, notes


def _accepted_keywords(solver_class: type) -> frozenset[str]:
    """Keywords the solver's ``__init__`` names, plus timeLimit/gapRel if it takes ``**kwargs``.

    `LpSolver` stores extra keywords in ``optionsDict``, where solvers look for ``gapRel``;
    any other unnamed keyword would be silently ignored, so it is not passed.
    """
    params = inspect.signature(solver_class.__init__).parameters   # type: ignore[misc]  # the class's own __init__
    named = frozenset(params)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return named | {"timeLimit", "gapRel"}
    return named


def build_problem(model: Milp) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """``min c @ v`` over variables ``v0 .. v{n-1}`` with one or two constraints per row.

    Every variable enters the objective (zero costs included), so each column is part of
    the problem even when no row uses it.
    """
    import pulp

    prob = pulp.LpProblem("milp", pulp.LpMinimize)
    lb = [None if not np.isfinite(b) else b for b in model.lb.tolist()]
    ub = [None if not np.isfinite(b) else b for b in model.ub.tolist()]
    cats = np.where(model.integrality == INTEGER, pulp.LpInteger, pulp.LpContinuous).tolist()
    variables = [
        prob.add_variable(f"v{j}", lo, hi, cat)
        for j, (lo, hi, cat) in enumerate(zip(lb, ub, cats, strict=True))
    ]
    prob.setObjective(pulp.LpAffineExpression(zip(variables, model.c.tolist(), strict=True)))
    add_rows(prob, variables, model)
    return prob, variables


def add_rows(prob: pulp.LpProblem, variables: list[pulp.LpVariable], model: Milp) -> None:
    """``row_lb[r] <= A[r] @ v <= row_ub[r]`` from CSR slices: equality, ``>=``, ``<=`` or both.

    Rows named ``r{r}`` (``r{r}_lo`` / ``r{r}_hi`` when two-sided); free rows are skipped.
    """
    import pulp

    var_array = np.empty(len(variables), dtype=object)
    var_array[:] = variables
    indptr, indices, data = model.A.indptr, model.A.indices, model.A.data
    has_lo, has_hi = np.isfinite(model.row_lb), np.isfinite(model.row_ub)
    is_eq = has_lo & has_hi & (model.row_lb == model.row_ub)
    two_sided = has_lo & has_hi & ~is_eq
    for r in np.flatnonzero(has_lo | has_hi).tolist():
        start, stop = indptr[r], indptr[r + 1]
        expr = pulp.LpAffineExpression(
            zip(var_array[indices[start:stop]].tolist(), data[start:stop].tolist(), strict=True)
        )
        if is_eq[r]:
            senses = [(f"r{r}", pulp.LpConstraintEQ, model.row_lb[r])]
        else:
            lo_name, hi_name = (f"r{r}_lo", f"r{r}_hi") if two_sided[r] else (f"r{r}", f"r{r}")
            senses = [(lo_name, pulp.LpConstraintGE, model.row_lb[r])] if has_lo[r] else []
            senses += [(hi_name, pulp.LpConstraintLE, model.row_ub[r])] if has_hi[r] else []
        for name, sense, rhs in senses:
            rhs_value = float(rhs)
            row_expr = pulp.LpAffineExpression(expr)
            prob.addConstraint(pulp.LpConstraint(row_expr, sense, rhs=rhs_value), name=name)


def check_start(model: Milp, start: FloatArray) -> None:
    """Raise `BackendError` unless `start` has one entry per variable."""
    if start.shape != (model.n_vars,):
        raise BackendError(
            f"has shape {start.shape}, expected ({model.n_vars},)", location="options.start"
        )


def set_start(variables: list[pulp.LpVariable], model: Milp, start: FloatArray) -> str:
    """Set initial values from `start` (clipped to bounds, integers rounded); return a note."""
    values = np.clip(start, model.lb, model.ub)
    values = np.where(model.integrality == INTEGER, np.rint(values), values)
    finite = np.flatnonzero(np.isfinite(values))
    for j, value in zip(finite.tolist(), values[finite].tolist(), strict=True):
        variables[j].setInitialValue(value)
    return f"warm start from options.start ({finite.size} values)"


def read_result(
    model: Milp,
    prob: pulp.LpProblem,
    variables: list[pulp.LpVariable],
    seconds: float,
    options: SolveOptions,
) -> SolveResult:
    """Map ``(prob.status, prob.sol_status)`` and read the values in bulk.

    ``backend`` is left empty for the caller to fill in.
    """
    status, time_limited = map_status(
        int(prob.status), int(prob.sol_status), seconds, options.time_limit_s
    )
    x = objective = None
    if status.has_solution:
        x = np.array([v.varValue for v in variables], dtype=np.float64)  # None -> nan
        objective = float(model.c @ x + model.offset)
    return SolveResult(
        status=status,
        x=x,
        objective=objective,
        bound=None,
        gap=0.0 if status is Status.OPTIMAL else None,
        seconds=seconds,
        nodes=None,
        time_limited=time_limited,
        backend="",
        native_status=f"status={prob.status} sol_status={prob.sol_status}",
        notes=("PuLP reports no dual bound: bound left empty, gap only when optimal",),
    )


def map_status(
    lp_status: int, sol_status: int, seconds: float, limit_s: float
) -> tuple[Status, bool]:
    """Our status for PuLP's pair; a run without a plan is a time-out if it used the limit."""
    if (lp_status, sol_status) in _STATUS_TABLE:
        return _STATUS_TABLE[(lp_status, sol_status)]
    no_plan = (lp_status, sol_status) == (LP_STATUS_NOT_SOLVED, LP_SOLUTION_NO_SOLUTION_FOUND)
    if no_plan and seconds >= _LIMIT_REACHED_SHARE * limit_s:
        return Status.TIME_LIMIT_NO_SOLUTION, True
    return Status.UNKNOWN, False
