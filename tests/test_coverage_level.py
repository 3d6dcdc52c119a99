"""The coverage level a `max_coverage` cost phase keeps (optimizer.search.phases._coverage_floor).

On the default county with ``max_coverage``, a capital cap of 105 M yuan does not bind: the
capped and uncapped solves reach the same coverage, so their cost phases solve the same problem.
With the level row's side a hair (2e-4) below the level, HiGHS 1.15.1 proved 254.3 M yuan
"optimal" without a cap and 150.9 M with one, where 147.2 M plans exist.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optimizer.plan import PlanResult, solve
from optimizer.scenario.format import load_scenario
from optimizer.search.phases import _coverage_floor

ROOT = Path(__file__).resolve().parents[1]


def _max_coverage(capital: float | None) -> PlanResult:
    scenario, base_dir = load_scenario(ROOT / "scenarios" / "pingyin-2026.json")
    budget = scenario.budget.model_copy(update={"capital": capital})
    return solve(scenario.model_copy(update={"objective": "max_coverage", "budget": budget}), base_dir)


def _outcome(result: PlanResult) -> tuple[float, float, float | None]:
    """(checked total cost, cost phase bound, coverage phase objective) of an optimal solve."""
    cost, coverage = result.solution.phase("cost"), result.solution.phase("coverage")
    assert cost is not None and cost.result.status.value == "optimal" and cost.result.bound is not None
    assert coverage is not None and result.checked is not None
    return float(result.checked.cost["total"]), float(cost.result.bound), coverage.result.objective


def test_an_unbinding_capital_cap_changes_neither_coverage_nor_least_cost_on_the_county() -> None:
    uncapped, capped = _max_coverage(None), _max_coverage(105e6)
    gap = uncapped.prepared.scenario.solver.mip_gap
    free_cost, free_bound, free_coverage = _outcome(uncapped)
    cap_cost, cap_bound, cap_coverage = _outcome(capped)
    assert free_coverage == cap_coverage
    assert capped.checked is not None and capped.checked.cost["capital"] <= 105e6
    # The capped plan is feasible for the uncapped cost phase: its proven bound cannot exceed it,
    # and each plan is within the gap of the other's bound.
    assert free_bound <= cap_cost + 1e-6 * cap_cost
    assert free_cost <= cap_bound * (1 + gap) + 1e-6 and cap_cost <= free_bound * (1 + gap) + 1e-6
    assert free_cost == pytest.approx(147_158_000, rel=gap)


def test_integer_weights_keep_exactly_the_plans_of_equal_coverage_whatever_the_noise() -> None:
    coverage_c = -np.array([70.0, 120.0, 0.0, 10_036.0])
    noisy = np.array([1.0, 1.0 - 3e-9, 0.0, 0.9999999])   # a solver's 1s: coverage 10,226 less noise
    assert _coverage_floor(coverage_c, noisy) == 10_225.5
    fractional = -np.array([0.7, 1.25])
    level = 0.7 + 1.25
    assert level - 1e-5 < _coverage_floor(fractional, np.ones(2)) < level
