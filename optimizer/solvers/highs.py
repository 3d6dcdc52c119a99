"""HiGHS through highspy: the whole model in one `passModel`, solutions read in bulk."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from optimizer.errors import BackendError
from optimizer.model.milp import INTEGER, Milp
from optimizer.solvers.base import (
    BOUND,
    BRANCH_AND_BOUND,
    CONTINUOUS,
    MIP,
    SLOW_SET_UP,
    START,
    Backend,
    SolveOptions,
    SolveResult,
    Status,
    relative_gap,
)

# HiGHS model statuses (by name) -> ours. Time/iteration/interrupt stops are resolved by
# whether a primal solution exists; anything not listed stays UNKNOWN.
_STATUS = {
    "kOptimal": Status.OPTIMAL,
    "kInfeasible": Status.INFEASIBLE,
    "kUnbounded": Status.UNBOUNDED,
    "kModelEmpty": Status.OPTIMAL,
    "kLoadError": Status.ERROR,
    "kModelError": Status.ERROR,
    "kPresolveError": Status.ERROR,
    "kSolveError": Status.ERROR,
    "kPostsolveError": Status.ERROR,
}
_STOPPED = {"kTimeLimit", "kIterationLimit", "kInterrupt", "kSolutionLimit", "kMemoryLimit"}
_FEASIBLE_POINT = 2  # HiGHS solution status kSolutionStatusFeasible
_scheduler_threads: int | None = None   # the thread count HiGHS's global scheduler has now


class HighsBackend(Backend):
    """HiGHS branch-and-cut (highspy)."""

    name = "highs"
    capabilities = frozenset({MIP, CONTINUOUS, START, BOUND, BRANCH_AND_BOUND, SLOW_SET_UP})
    native_family = "highspy"

    @classmethod
    def is_available(cls) -> bool:
        """Whether highspy imports."""
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def solve(self, model: Milp, options: SolveOptions) -> SolveResult:
        """Pass the arrays, run, and map the status through `_STATUS`."""
        import highspy

        h = highspy.Highs()
        for key, value in (("output_flag", False), ("time_limit", float(options.time_limit_s)),
                           ("mip_rel_gap", float(options.mip_gap)),
                           ("threads", int(options.threads)), ("random_seed", 0)):
            h.setOptionValue(key, value)
        if not options.presolve:
            h.setOptionValue("presolve", "off")
        use_threads(highspy, int(options.threads))
        status = h.passModel(highs_lp(highspy, model))
        if status == highspy.HighsStatus.kError:
            raise BackendError("HiGHS rejected the model (passModel failed)", "solver.backend")
        if options.start is not None:
            # Integer columns only: given a full start (continuous columns too), HiGHS 1.15.1
            # can return a worse plan labelled optimal with bound = objective (on co-location
            # models; tests/test_properties.py). HiGHS completes the rest itself.
            idx = np.flatnonzero(model.integrality == INTEGER).astype(np.int32)
            h.setSolution(len(idx), idx, np.round(np.asarray(options.start, dtype=np.float64)[idx]))
        if options.on_incumbent is not None:
            _report_incumbents(h, options.on_incumbent)
        start = time.perf_counter()
        h.run()
        if options.start is not None and options.presolve and _unproven_optimum(h, model):
            # HiGHS 1.15.1's presolve (its probing) can declare a model infeasible that the start
            # satisfies (a phase's level row fixed just above the level, e.g. 1e-9 over the
            # shortfall level: tests/test_elastic_highs.py). It then reports the start, completed,
            # as kOptimal with no dual bound: a dearer plan labelled optimal.
            # The start proves the model feasible, so presolve is wrong: solve again without it.
            left = max(1.0, options.time_limit_s - (time.perf_counter() - start))
            retry = self.solve(model, replace(options, presolve=False, time_limit_s=left))
            return replace(retry, notes=(*retry.notes, "HiGHS presolve declared the model infeasible "
                                         "although the start satisfies it; re-run without presolve"))
        result = _result(h, model, time.perf_counter() - start, options)
        if not options.presolve:
            result = replace(result, notes=(*result.notes, "presolve off (started from a feasible plan)"))
        if result.native_status == "kSolveError" and options.start is not None:
            # HiGHS can fail with kSolveError when started from the previous phase's (feasible)
            # plan, where a fresh run without the start solves the same model.
            retry = self.solve(model, replace(options, start=None, presolve=True,
                                              time_limit_s=max(1.0, options.time_limit_s - result.seconds)))
            return replace(retry, notes=(*retry.notes, "HiGHS failed from the start solution; re-run without it"))
        return result


def _report_incumbents(h: Any, report: Callable[[float | None, float | None], None]) -> None:
    """Pass HiGHS's best plan and dual bound to `report` from its search callbacks (improving
    solutions and the interrupt checks it makes throughout the branch and bound)."""

    def finite(value: float) -> float | None:
        return float(value) if np.isfinite(value) else None

    def on_event(event: Any) -> None:
        data = event.data_out
        report(finite(data.mip_primal_bound), finite(data.mip_dual_bound))

    h.cbMipImprovingSolution.subscribe(on_event)
    h.cbMipInterrupt.subscribe(on_event)


def use_threads(highspy: Any, threads: int) -> None:
    """HiGHS keeps one global thread scheduler per process, sized by the first run: a later run
    asking for another thread count fails with status kNotset (a worker solving a 2-thread
    scenario, then a 1-thread one). A different count resets the scheduler first."""
    global _scheduler_threads
    if _scheduler_threads is not None and _scheduler_threads != threads:
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads = threads


def highs_lp(highspy: Any, model: Milp) -> Any:
    """The model as a `highspy.HighsLp` (integrality kept where any variable is integer)."""
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_vars
    lp.num_row_ = model.n_rows
    lp.col_cost_ = model.c
    lp.offset_ = model.offset
    lp.col_lower_ = model.lb
    lp.col_upper_ = model.ub
    lp.row_lower_ = model.row_lb
    lp.row_upper_ = model.row_ub
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = model.A.indptr
    lp.a_matrix_.index_ = model.A.indices
    lp.a_matrix_.value_ = model.A.data
    if (model.integrality == INTEGER).any():
        kinds = np.where(model.integrality == INTEGER, 1, 0)
        lp.integrality_ = [highspy.HighsVarType(int(k)) for k in kinds]
    return lp


def _unproven_optimum(h: Any, model: Milp) -> bool:
    """Whether HiGHS called a MIP optimal without any dual bound: nothing was proven."""
    if h.getModelStatus().name != "kOptimal" or not (model.integrality == INTEGER).any():
        return False
    return not np.isfinite(float(h.getInfo().mip_dual_bound))


def _result(h: Any, model: Milp, seconds: float, options: SolveOptions) -> SolveResult:
    native = h.getModelStatus().name
    info = h.getInfo()
    has_point = info.primal_solution_status == _FEASIBLE_POINT
    status = _STATUS.get(native, Status.UNKNOWN)
    if native in _STOPPED:
        status = Status.TIME_LIMIT_FEASIBLE if has_point else Status.TIME_LIMIT_NO_SOLUTION
    elif native == "kUnboundedOrInfeasible":
        bounded = np.isfinite(model.lb).all() and np.isfinite(model.ub).all()
        status = Status.INFEASIBLE if bounded else Status.UNKNOWN
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if status.has_solution else None
    objective = float(info.objective_function_value) if x is not None else None
    is_mip = bool((model.integrality == INTEGER).any())
    bound = float(info.mip_dual_bound) if is_mip else objective
    if status == Status.OPTIMAL and (bound is None or not np.isfinite(bound)):
        bound = objective
    nodes = int(info.mip_node_count) if is_mip else 0
    return SolveResult(status, x, objective, bound, relative_gap(objective, bound), seconds,
                       nodes, native in _STOPPED, "highs", native)
