"""Lexicographic phases (optimizer.search.phases.run_phases) with every installed branch-and-bound
backend, on a hand-built instance with one facility type ``f`` (no annual cost)::

    unit (people)   a (10)   b (20)   c (30)   d (40)   e (50)
    in reach of     X, W     X, W     X, Y     Y, Z     nothing

    site     X     Y     Z     W
    capital  100   70    50    60
    covers   abc   cd    d     ab
    people   60    70    40    30

max_coverage within a capital budget of 120: single sites give 60, 70, 40, 30; the pairs within
budget are Y+Z (120: c, d = 70) and Z+W (110: a, b, d = 70); no triple fits. The most coverage is
70 people, reached by {Y} at 70, {Z, W} at 110 and {Y, Z} at 120: the cost phase picks {Y} at 70.

Every unit covered (min_share 1.0, elastic): e is out of reach of every site, so the best is 4 of
5 units, a shortfall of 1 unit (penalty round(10^6 / 5) / 10^6 = 0.2 per unit). Covering a-d
costs {W, Y} 130, {X, Z} 150, {X, Y} 170: the cost phase picks {W, Y} at 130.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pandas as pd
import pytest

from optimizer.model.build import PlanModel
from optimizer.plan import prepare_tables
from optimizer.search.backends import capabilities
from optimizer.search.phases import Solution, open_facilities, run_phases
from optimizer.solvers.base import BRANCH_AND_BOUND, SolveOptions, Status

# backend -> the library it needs; found without importing it (highspy and ortools cannot share a
# process, and a test module that loaded one at collection would skip other modules' cases)
CANDIDATES = {"highs": "highspy", "cpsat": "ortools", "pulp:CBC": "pulp"}
BACKENDS = [name for name, library in CANDIDATES.items()
            if importlib.util.find_spec(library) is not None and BRANCH_AND_BOUND in capabilities(name)]
REACH = [("a", "X"), ("b", "X"), ("c", "X"), ("c", "Y"), ("d", "Y"), ("d", "Z"), ("a", "W"), ("b", "W")]
DEMAND = pd.DataFrame({"id": list("abcde"), "group": "g", "zone": "Z", "w": [10, 20, 30, 40, 50]})
SITES = pd.DataFrame({"id": list("XYZW"), "c_f": [100.0, 70.0, 50.0, 60.0], "existing": ""})
PAIRS = pd.DataFrame({"demand_id": [u for u, _ in REACH], "site_id": [s for _, s in REACH], "distance": 1.0})
ALL_UNITS = {"kind": "coverage", "facility": "f", "min_share": 1.0}


def test_the_installed_branch_and_bound_backends_include_highs_and_cbc() -> None:
    assert {"highs", "pulp:CBC"} <= set(BACKENDS)
    assert BRANCH_AND_BOUND not in capabilities("lagrangian")


def _model(*, costs: bool = True, **extra: Any) -> tuple[PlanModel, list[str]]:
    """The instance as a model (no reductions), and the site ids by index."""
    doc: dict[str, Any] = {
        "format": 1,
        "demand": {"id": "id", "group": "group", "zone": "zone", "weights": {"people": "w"}},
        "sites": {"id": "id", "existing": "existing", "cost": {"f": "c_f"} if costs else {}},
        "facility_types": {"f": {"radius_m": 10, "capital_cost": 0, "annual_cost": 0}},
        "targets": [], "solver": {"mip_gap": 0.0, "time_limit_s": 30},
    }
    doc.update(extra)
    prep = prepare_tables(doc, DEMAND, SITES, PAIRS, reduce=False)
    return prep.model, [str(s) for s in prep.region.sites.ids]


def _run(pm: PlanModel, backend: str, *, objective: str = "min_cost", elastic: bool = False) -> Solution:
    return run_phases(pm, backend=backend, objective=objective, elastic=elastic,
                      options=SolveOptions(time_limit_s=30, mip_gap=0.0))


def _chosen(pm: PlanModel, ids: list[str], solution: Solution) -> list[str]:
    assert solution.x is not None
    sites, _ = open_facilities(pm, solution.x)
    return sorted(ids[s] for s in sites)


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_coverage_then_least_cost_picks_the_cheapest_of_the_best_covering_plans(backend: str) -> None:
    pm, ids = _model(objective="max_coverage", budget={"capital": 120})
    solution = _run(pm, backend, objective="max_coverage")
    assert [p.name for p in solution.phases] == ["coverage", "cost"]
    assert solution.status == Status.OPTIMAL
    coverage, cost = (p.result for p in solution.phases)
    assert coverage.objective == pytest.approx(-70.0)         # most people covered: 70
    assert cost.objective == pytest.approx(70.0)              # then least cost: Y alone
    assert _chosen(pm, ids, solution) == ["Y"]
    assert solution.x is not None
    # the cost phase kept the coverage: integer weights, so its level row's side is 69.5 and a
    # coverage variable of a covered unit may sit below 1 (Y's coverage of c and d is 70)
    assert float(-pm.coverage_c @ solution.x) >= 69.5 - 1e-9


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_tighter_budget_lowers_the_coverage_level_the_cost_phase_keeps(backend: str) -> None:
    """Capital 60: X, Y, Z+W no longer fit; W alone covers 30 and Z alone 40: Z at 50."""
    pm, ids = _model(objective="max_coverage", budget={"capital": 60})
    solution = _run(pm, backend, objective="max_coverage")
    assert solution.phases[0].result.objective == pytest.approx(-40.0)
    assert solution.phases[1].result.objective == pytest.approx(50.0)
    assert _chosen(pm, ids, solution) == ["Z"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_least_cost_alone_opens_nothing_when_no_target_asks_for_anything(backend: str) -> None:
    pm, ids = _model(budget={"capital": 120})
    solution = _run(pm, backend)
    assert [p.name for p in solution.phases] == ["cost"]
    assert solution.phases[0].result.objective == pytest.approx(0.0)
    assert _chosen(pm, ids, solution) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_elastic_mode_reports_the_shortfall_of_an_impossible_target_then_the_least_cost(backend: str) -> None:
    pm, ids = _model(targets=[ALL_UNITS], elastic=True)
    solution = _run(pm, backend, elastic=True)
    assert [p.name for p in solution.phases] == ["shortfall", "cost"]
    assert solution.status == Status.OPTIMAL
    shortfall, cost = (p.result for p in solution.phases)
    assert shortfall.objective == pytest.approx(0.2)          # one unit short, weighted 1/5
    assert solution.x is not None
    (sf,) = pm.targets[0].shortfall
    assert solution.x[sf] == pytest.approx(1.0)               # e is the unit no site reaches
    assert cost.objective == pytest.approx(130.0)
    assert _chosen(pm, ids, solution) == ["W", "Y"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_elastic_mode_reports_no_shortfall_when_the_target_can_be_met(backend: str) -> None:
    """80% of 5 units = 4: a-d suffice, so the shortfall phase ends at 0 and cost is still 130."""
    pm, ids = _model(targets=[ALL_UNITS | {"min_share": 0.8}], elastic=True)
    solution = _run(pm, backend, elastic=True)
    assert solution.phases[0].result.objective == pytest.approx(0.0, abs=1e-9)
    assert solution.x is not None
    assert solution.x[pm.targets[0].shortfall[0]] == pytest.approx(0.0, abs=1e-9)
    assert solution.phases[1].result.objective == pytest.approx(130.0)
    assert _chosen(pm, ids, solution) == ["W", "Y"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_impossible_target_without_elastic_mode_stops_at_an_infeasible_first_phase(backend: str) -> None:
    pm, _ = _model(targets=[ALL_UNITS])
    solution = _run(pm, backend)
    assert solution.x is None
    assert solution.status == Status.INFEASIBLE
    assert [(p.name, p.result.status) for p in solution.phases] == [("cost", Status.INFEASIBLE)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_phase_with_an_all_zero_objective_keeps_its_start(backend: str) -> None:
    """No site costs anything: the cost phase has nothing to optimise and keeps the coverage plan
    (every reachable person, 100) without calling the solver."""
    pm, _ = _model(costs=False, objective="max_coverage")
    assert not np.any(pm.cost_c)
    solution = _run(pm, backend, objective="max_coverage")
    coverage, cost = (p.result for p in solution.phases)
    assert coverage.objective == pytest.approx(-100.0)
    assert cost.status == Status.OPTIMAL and cost.native_status == \
        "every objective coefficient is zero: the start is optimal"
    assert (cost.seconds, cost.objective, cost.gap, cost.backend) == (0.0, 0.0, 0.0, backend)
    assert coverage.x is not None and cost.x is not None
    np.testing.assert_array_equal(cost.x, coverage.x)
    np.testing.assert_array_equal(solution.x, coverage.x)
    assert float(-pm.coverage_c @ cost.x) == pytest.approx(100.0)
