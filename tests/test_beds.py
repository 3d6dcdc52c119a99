"""Beds (optimizer.model.beds, optimizer.check.beds): conversions and additions at sites with an
open `at` type, at most `max_per_site`, never removing more than there is; beds targets as
counts and strict shares. Optima derived by hand in each docstring."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from optimizer.check.years import check_phased
from optimizer.cli.main import app
from optimizer.inputs.geodata import load_region
from optimizer.plan import PlanResult, solve
from optimizer.scenario.format import parse_scenario
from tests.conftest import scenario_doc

UNITS = [{"id": "u1", "xy": (0, 0), "kind": "urban", "zone": "Z1", "pop": 100}]
# A hosts a home with 10 nursing and 20 ordinary beds; B may host a new one (5 nursing beds).
SITES = [{"id": "A", "xy": (100, 0), "zone": "Z1", "allowed": "home", "existing": "home", "n": 10, "o": 20},
         {"id": "B", "xy": (200, 0), "zone": "Z1", "allowed": "home", "existing": "", "n": None, "o": None}]
TYPES = {"home": {"radius_m": 600, "capital_cost": 1000, "annual_cost": 0, "beds": {"nursing": 5}}}
CONVERT = {"at": ["home"], "adds": "nursing", "removes": "ordinary", "capital_per_bed": 10, "annual_per_bed": 1,
           "max_per_site": 15}
DEMENTIA = {"at": ["home"], "adds": "dementia", "capital_per_bed": 100, "max_per_site": 3}


def _doc(targets: list[dict[str, Any]], *, sites: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc = copy.deepcopy(scenario_doc(UNITS, sites or SITES, TYPES, targets))
    doc["sites"]["beds"] = {"nursing": "n", "ordinary": "o"}
    del doc["budget"]["horizon_years"]
    doc["years"] = [2024, 2025]
    doc["bed_actions"] = {"convert": CONVERT, "add_dementia": DEMENTIA}
    return doc


def _solve(doc: dict[str, Any]) -> PlanResult:
    scenario, base_dir = parse_scenario(doc)
    result = solve(scenario, base_dir)
    assert result.status == "optimal" and result.checked is not None and result.all_targets_met
    assert not result.checked.violations
    return result


def _total(result: PlanResult) -> float:
    assert result.checked is not None
    return float(result.checked.cost["total"])


def test_conversion_is_taken_in_the_last_year_at_the_existing_home() -> None:
    """22 nursing beds: convert 12 at A in 2025, each 10 + 1 x 1 year = 132."""
    result = _solve(_doc([{"kind": "beds", "bed": "nursing", "min": 22}]))
    assert _total(result) == pytest.approx(132)
    assert result.checked is not None
    assert result.checked.bed_actions == [{"site": "A", "action": "convert", "beds": 12, "year": 2025,
                                           "capital": 120.0, "annual": 12.0}]
    assert result.checked.years["2025"]["beds"] == {"nursing": 22, "ordinary": 8, "dementia": 0}


def test_max_per_site_makes_a_new_home_open() -> None:
    """30 nursing beds: A converts at most 15 (10 + 15 = 25), so B opens (5 beds, 1000) and A
    converts 15 (165): 1165."""
    result = _solve(_doc([{"kind": "beds", "bed": "nursing", "min": 30}]))
    assert _total(result) == pytest.approx(1165)


def test_never_removing_more_beds_than_the_site_has() -> None:
    """A has only 8 ordinary beds: 22 nursing needs B (5 beds, 1000) and 7 conversions (77): 1077."""
    sites = [dict(SITES[0], o=8), SITES[1]]
    result = _solve(_doc([{"kind": "beds", "bed": "nursing", "min": 22}], sites=sites))
    assert _total(result) == pytest.approx(1077)


def test_a_strict_bed_count_and_a_strict_share() -> None:
    """More than 2 dementia beds: 3 added (300). Nursing at least half of nursing + ordinary:
    (10 + c) / 30 >= 0.5, c = 5 (55); more than half: c = 6 (66)."""
    assert _total(_solve(_doc([{"kind": "beds", "bed": "dementia", "min": 2, "strict": True}]))) == \
        pytest.approx(300)
    share = {"kind": "beds", "bed": "nursing", "min_share": 0.5, "of": ["nursing", "ordinary"]}
    assert _total(_solve(_doc([share]))) == pytest.approx(55)
    assert _total(_solve(_doc([share | {"strict": True}]))) == pytest.approx(66)


def test_checker_rejects_beds_where_no_at_type_is_open() -> None:
    scenario, base_dir = parse_scenario(_doc([]))
    region = load_region(scenario, base_dir)
    checked = check_phased(scenario, region, base_dir, [("B", "home", 2025)],
                           [("B", "add_dementia", 2, 2024), ("A", "convert", 21, 2024)])
    assert any("no home is open" in v and "'B'" in v for v in checked.violations)
    assert any("max_per_site" in v for v in checked.violations)
    assert any("removes more than the site has" in v for v in checked.violations)


@pytest.mark.parametrize("backend", ["highs", "cpsat", "pulp:CBC"])
def test_every_backend_finds_the_strict_share_optimum(backend: str) -> None:
    """More than half nursing: 6 conversions in 2025, 66 (as above), whichever backend."""
    share = {"kind": "beds", "bed": "nursing", "min_share": 0.5, "of": ["nursing", "ordinary"], "strict": True}
    scenario, base_dir = parse_scenario(_doc([share]))
    result = solve(scenario, base_dir, backend=backend)
    assert result.status == "optimal" and result.all_targets_met
    assert _total(result) == pytest.approx(66)


def test_a_planner_reads_which_institution_adds_how_many_nursing_beds_at_what_cost(tmp_path: Path) -> None:
    """The Pingyin 2024-2026 programme: the terminal lists each bed action by institution, year and
    cost, and plan.csv carries the beds each institution adds and their capital."""
    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "pingyin-2024-2026.json"
    run = CliRunner().invoke(app, ["solve", str(scenario), "--out", str(tmp_path), "--formats", "csv"],
                             env={"COLUMNS": "160"})
    assert run.exit_code == 0, run.output
    assert "Bed actions" in run.output and "convert_to_nursing" in run.output and "敬老院" in run.output
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    converted = [e for e in plan["bed_actions"] if e["action"] == "convert_to_nursing"]
    assert converted and all(e["capital"] > 0 for e in converted)
    table = pd.read_csv(tmp_path / "plan.csv", encoding="utf-8-sig")
    gaining = table[table["beds_added_nursing"] > 0]
    assert int(gaining["beds_added_nursing"].sum()) == sum(e["beds"] for e in converted)
    assert float(table["bed_capital"].sum()) == pytest.approx(sum(e["capital"] for e in plan["bed_actions"]))
