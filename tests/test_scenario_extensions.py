"""Extensions of the scenario document (years, growth, yearly budgets, beds, sharper targets):
every bad input is reported at its field, and the CLI exits 2 naming it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from optimizer.cli.main import app
from optimizer.errors import ScenarioError
from optimizer.scenario.format import parse_scenario
from tests.conftest import scenario_doc, write_scenario

UNITS = [{"id": "u1", "xy": (0, 0), "kind": "urban", "zone": "Z1", "pop": 10, "hh": 5},
         {"id": "u2", "xy": (400, 0), "kind": "rural", "zone": "Z2", "pop": 20, "hh": 8}]
SITES = [{"id": "A", "xy": (100, 0), "zone": "Z1", "allowed": "*", "existing": "", "nursing": 10,
          "ordinary": 20}]
TYPES = {"home": {"radius_m": 600, "capital_cost": 100, "annual_cost": 10, "beds": {"nursing": 5}}}
ACTIONS = {"convert": {"at": ["home"], "adds": "nursing", "removes": "ordinary", "capital_per_bed": 1,
                       "max_per_site": 10}}


def _doc(**extra: Any) -> dict[str, Any]:
    targets = extra.pop("targets", [])
    budget = extra.pop("budget", None)
    doc = copy.deepcopy(scenario_doc(UNITS, SITES, TYPES, targets, **extra))
    if budget:
        doc["budget"].update(budget)
    doc["demand"]["weights"]["households"] = "hh"
    doc["sites"]["beds"] = {"nursing": "nursing", "ordinary": "ordinary"}
    doc["years"] = doc.get("years", [2024, 2025])
    doc["bed_actions"] = doc.get("bed_actions", copy.deepcopy(ACTIONS))
    return doc


def _problems(doc: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc)
    return {p.location: p.message for p in info.value.problems}


def test_a_full_extended_document_parses_and_horizon_defaults_to_the_planning_years() -> None:
    doc = _doc(targets=[{"kind": "beds", "bed": "nursing", "min_share": 0.5, "of": ["nursing", "ordinary"],
                         "year": 2025, "strict": True}])
    del doc["budget"]["horizon_years"]
    scenario, _ = parse_scenario(doc)
    assert scenario.extended and scenario.budget.horizon_years == 2.0


@pytest.mark.parametrize(("change", "location", "words"), [
    ({"years": [2025, 2024]}, "years", "ascending"),
    ({"targets": [{"kind": "beds", "bed": "dementia", "min": 3}]}, "targets[0].bed", "unknown bed kind 'dementia'"),
    ({"targets": [{"kind": "beds", "bed": "nursing", "min_share": 0.5, "of": ["ordinary"]}]}, "targets[0]",
     "`of` must include"),
    ({"targets": [{"kind": "coverage", "facility": "home", "min_share": 0.5, "year": 2030}]}, "targets[0].year",
     "2030 is not a planning year"),
    ({"budget": {"capital_by_year": {"2023": 5}}}, "budget.capital_by_year.2023", "not a planning year"),
    ({"targets": [{"kind": "count", "facility": "home", "min": -1}]}, "targets[0].min", "greater than or equal"),
])
def test_bad_extension_input_is_reported_at_its_field(change: dict[str, Any], location: str, words: str) -> None:
    problems = _problems(_doc(**change))
    assert location in problems and words in problems[location]


def test_a_growth_rate_of_minus_100_percent_or_below_and_unknown_names_are_errors() -> None:
    doc = _doc()
    doc["demand"]["growth"] = {"elderly": -1.0, "nobody": 0.1, "households": {"urban": -2}}
    problems = _problems(doc)
    assert "above -1" in problems["demand.growth.elderly"]
    assert "unknown named weight 'nobody'" in problems["demand.growth.nobody"]
    assert "above -1" in problems["demand.growth.households.urban"]


def test_a_conversion_into_its_own_kind_and_a_negative_limit_are_errors() -> None:
    problems = _problems(_doc(bed_actions={"same": {"at": ["home"], "adds": "nursing", "removes": "nursing",
                                                    "max_per_site": 3},
                                           "neg": {"at": ["home"], "adds": "nursing", "max_per_site": -1}}))
    assert "removes" in problems["bed_actions.same"]
    assert "greater than or equal" in problems["bed_actions.neg.max_per_site"]


def test_cli_exits_2_naming_an_unknown_zone(tmp_path: Path) -> None:
    doc = _doc(targets=[{"kind": "count", "facility": "home", "zone": "Atlantis", "min": 1}])
    path = write_scenario(tmp_path, doc)
    result = CliRunner().invoke(app, ["solve", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "targets[0].zone" in result.output and "unknown zone 'Atlantis'" in result.output


def test_a_budget_sweep_of_a_phased_scenario_without_a_way_to_vary_its_years_is_refused_by_name(
        tmp_path: Path) -> None:
    path = write_scenario(tmp_path, _doc())
    result = CliRunner().invoke(app, ["sweep", str(path), "--budgets", "100,200", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2 and "--year/--scale-years" in " ".join(result.output.split())
