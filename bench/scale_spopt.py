"""The scale models through PySAL spopt (the peer): dense cost matrix, PuLP model, CBC.

spopt's p-median has no radius; to solve the same problem as ours (every unit assigned
within 1,000 m), pairs beyond the radius get a penalty distance so large that any plan using
one is worse than every plan that does not.
"""

from __future__ import annotations

import time

import numpy as np
import pulp
from scipy.spatial.distance import cdist

from bench.scale_city import RADIUS_M, City, Outcome


def _xy(frame: object) -> np.ndarray:
    geometry = frame.geometry  # type: ignore[attr-defined]
    return np.column_stack([geometry.x, geometry.y])


def _model(city: City, model: str) -> object:
    """The spopt model, built from its dense demand x site cost matrix."""
    from spopt.locate import LSCP, MCLP, PMedian

    demand = city.demand if model == "mclp" else city.demand[city.reachable]
    cost = cdist(_xy(demand), _xy(city.sites))
    weights = demand["pop60"].to_numpy(dtype=np.float64)
    if model == "lscp":
        return LSCP.from_cost_matrix(cost, service_radius=RADIUS_M)
    if model == "mclp":
        return MCLP.from_cost_matrix(cost, weights, service_radius=RADIUS_M, p_facilities=city.p_mclp)
    penalty = RADIUS_M * (1.0 + weights.sum() / weights[weights > 0].min())
    cost[cost > RADIUS_M] = penalty
    return PMedian.from_cost_matrix(cost, weights, p_facilities=city.p_median)


def run_spopt(city: City, model: str, time_limit_s: float) -> Outcome:
    """Build and solve with CBC (2 threads, relative gap 1e-4, the time limit)."""
    start = time.perf_counter()
    solver_model = _model(city, model)
    built = time.perf_counter()
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, threads=2, gapRel=1e-4)
    out = Outcome(build_s=built - start)
    try:
        solver_model.solve(solver)  # type: ignore[attr-defined]
    except Exception as exc:   # spopt raises when PuLP's status is not optimal
        out.note = f"{type(exc).__name__}: {exc}"[:120]
    out.solve_s = time.perf_counter() - built
    problem = solver_model.problem  # type: ignore[attr-defined]
    # PuLP calls a CBC run stopped by its limit with an incumbent "Optimal"; sol_status tells.
    out.status = {1: "optimal", 2: "time_limit_feasible", 0: "not_solved", -1: "infeasible",
                  -2: "unbounded", -3: "undefined"}.get(problem.sol_status, str(problem.sol_status))
    value = pulp.value(problem.objective)
    out.objective = None if value is None else float(value)
    out.note = f"PuLP {pulp.LpStatus[problem.status]} / {pulp.LpSolution[problem.sol_status]}" + (
        "; spopt raised" if out.note else "")
    return out
