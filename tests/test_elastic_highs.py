"""Elastic mode on HiGHS: the least-cost phase after the shortfall phase finds the least cost.

With the shortfall level row (C9) fixed just above the level (1e-9), HiGHS 1.15.1's presolve
(probing) declared the cost phase infeasible and, handed the shortfall plan as its start, returned
that plan as kOptimal with no dual bound: 1,135 where CP-SAT and CBC found 245. The HiGHS backend
now re-runs such a solve without presolve (`optimizer.solvers.highs._unproven_optimum`).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer.plan import Prepared, prepare_tables, solve_prepared
from optimizer.search.phases import _fix_phase
from optimizer.solvers.base import SolveOptions, Status
from optimizer.solvers.registry import run_backend
from tests.test_reduce import random_tables

# (seed of random_tables(seed, "partial"), exact reductions): each once gave a dearer HiGHS plan.
CASES = [(244, True), (244, False), (329, False), (45, False), (66, False)]


def _prepared(seed: int, reduce: bool, backend: str) -> Prepared:
    doc, demand, sites, pairs = random_tables(seed, "partial")
    doc = {**doc, "elastic": True, "solver": {**doc["solver"], "backend": backend}}
    return prepare_tables(doc, demand, sites, pairs, reduce=reduce)


def _figures(prep: Prepared) -> tuple[str, float, float]:
    result = solve_prepared(prep)
    assert result.checked is not None and result.solution.x is not None
    level = float(prep.model.shortfall_c @ result.solution.x)
    return result.status, round(level, 6), round(result.checked.cost["total"], 3)


@pytest.mark.parametrize(("seed", "reduce"), CASES)
def test_highs_elastic_cost_equals_cbc(seed: int, reduce: bool) -> None:
    highs = _figures(_prepared(seed, reduce, "highs"))
    cbc = _figures(_prepared(seed, reduce, "pulp:CBC"))
    assert highs == cbc


def test_highs_cost_phase_from_the_shortfall_plan_is_proven() -> None:
    """The backend itself: the cost phase started from the shortfall plan, as `run_phases` runs
    it, ends at the least cost with a dual bound, not at the start labelled optimal."""
    prep = _prepared(244, False, "highs")
    pm = prep.model
    # The scenario's thread count: HiGHS keeps the first one it ran with for the whole process.
    options = SolveOptions(time_limit_s=30, mip_gap=0.0, threads=prep.scenario.solver.threads)
    shortfall = run_backend("highs", pm.milp.with_objective(pm.shortfall_c, 0.0), options)
    assert shortfall.status == Status.OPTIMAL and shortfall.x is not None
    cost_phase = _fix_phase(pm.milp, pm, "shortfall", shortfall.x).with_objective(pm.cost_c, 0.0)
    cost = run_backend("highs", cost_phase, replace(options, start=shortfall.x))
    assert cost.status == Status.OPTIMAL
    assert cost.objective == pytest.approx(245.0)
    assert cost.bound == pytest.approx(245.0)
