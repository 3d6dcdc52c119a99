"""The shared extended example (years, growth, yearly budgets, beds, bed actions, bed targets, a
strict share, a count in a named zone, land per 100 households by zone) solves to its known
least total cost, and the checker's plan tells the same story year by year."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer import solve_file

EXAMPLE = Path(__file__).resolve().parents[2] / "shared" / "example-extended" / "scenario.json"
KNOWN_LEAST_COST = 72_202_670

pytestmark = pytest.mark.skipif(not EXAMPLE.exists(), reason="../shared/example-extended is not beside the repo")


def test_extended_example_least_total_cost_is_known_optimum_with_highs() -> None:
    result = solve_file(EXAMPLE, backend="highs", mip_gap=0.0)
    assert result.status == "optimal"
    checked = result.checked
    assert checked is not None and result.all_targets_met and not checked.violations
    assert checked.cost["total"] == pytest.approx(KNOWN_LEAST_COST, abs=0.5)
    years = checked.years
    assert list(years) == ["2024", "2025", "2026"]
    budgets = {"2024": 11_351_243, "2025": 13_800_998, "2026": 17_241_321}
    assert all(years[y]["capital"] <= budgets[y] + 1e-6 for y in years)
    assert sum(years[y]["capital"] for y in years) == pytest.approx(checked.cost["capital"])
    assert all(f["year"] in (2024, 2025, 2026) for f in checked.facilities if f["new"])
    assert all(isinstance(a["beds"], int) and a["beds"] > 0 for a in checked.bed_actions)
    assert years["2026"]["beds"]["dementia"] >= 37
