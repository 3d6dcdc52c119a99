"""Phased plans (optimizer.model.years, optimizer.check.years): tiny instances whose optima are
derived by hand, the one-year phased example equal to the unphased one, and the checker
refusing plans that break the contract."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from optimizer.check.years import check_phased
from optimizer.errors import ScenarioError
from optimizer.inputs.geodata import load_region
from optimizer.plan import PlanResult, solve
from optimizer.scenario.format import load_scenario, parse_scenario
from tests.conftest import scenario_doc

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "example" / "scenario.json"

# u1 is reached only from A, u2 only from B (radius 600 m, 2 km apart).
UNITS = [{"id": "u1", "xy": (0, 0), "kind": "urban", "zone": "Z1", "pop": 100, "hh": 1000},
         {"id": "u2", "xy": (2000, 0), "kind": "rural", "zone": "Z2", "pop": 100, "hh": 500}]
SITES = [{"id": "A", "xy": (100, 0), "zone": "Z1", "allowed": "home", "existing": ""},
         {"id": "B", "xy": (2100, 0), "zone": "Z2", "allowed": "home", "existing": ""}]
TYPES = {"home": {"radius_m": 600, "capital_cost": 100, "annual_cost": 10}}
ALL = {"kind": "coverage", "facility": "home", "measure": "units", "min_share": 1.0}


def _doc(targets: list[dict[str, Any]], *, sites: list[dict[str, Any]] | None = None,
         types: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    doc = copy.deepcopy(scenario_doc(UNITS, sites or SITES, types or TYPES, targets))
    doc["demand"]["weights"]["households"] = "hh"
    del doc["budget"]["horizon_years"]
    doc["years"] = [2024, 2025]
    for key, value in extra.items():
        if key == "budget":
            doc["budget"].update(value)
        else:
            doc[key] = value
    return doc


def _solve(doc: dict[str, Any]) -> PlanResult:
    scenario, base_dir = parse_scenario(doc)
    result = solve(scenario, base_dir)
    assert result.status == "optimal" and result.checked is not None and result.all_targets_met
    return result


def _opened(result: PlanResult) -> dict[str, Any]:
    assert result.checked is not None
    return {f["site"]: f["year"] for f in result.checked.facilities if f["new"]}


def test_one_planning_year_gives_the_unphased_optimum_and_plan() -> None:
    scenario, base_dir = load_scenario(EXAMPLE)
    plain = solve(scenario, base_dir)
    phased = solve(scenario.model_copy(update={"years": [2026]}), base_dir)
    assert phased.status == plain.status == "optimal"
    assert plain.checked is not None and phased.checked is not None
    assert phased.checked.cost["total"] == pytest.approx(plain.checked.cost["total"], abs=0.5)
    assert phased.checked.cost["total"] == pytest.approx(33_056_579, abs=0.5)
    # the optimum has ties: the unphased plan, opened in 2026, is the same plan to the phased checker
    one_year = scenario.model_copy(update={"years": [2026]})
    again = check_phased(one_year, load_region(one_year, base_dir), base_dir,
                         [(f["site"], f["type"], 2026) for f in plain.checked.facilities if f["new"]], [])
    assert again.feasible and again.cost == pytest.approx(plain.checked.cost)


def test_both_open_in_the_last_year_when_nothing_asks_earlier() -> None:
    """Opening in 2025 costs 100 + 10 x 1 year; both late: 220."""
    result = _solve(_doc([ALL]))
    assert result.checked is not None and result.checked.cost["total"] == pytest.approx(220)
    assert _opened(result) == {"A": 2025, "B": 2025}


def test_yearly_capital_budget_chooses_the_opening_years() -> None:
    """100 a year: one home in 2024 (100 + 10 x 2 = 120), the other in 2025 (110): 230."""
    result = _solve(_doc([ALL], budget={"capital_by_year": {"2024": 100, "2025": 100}}))
    assert result.checked is not None and result.checked.cost["total"] == pytest.approx(230)
    assert sorted(_opened(result).values()) == [2024, 2025]
    assert result.checked.years["2024"]["capital"] == pytest.approx(100)


def test_a_target_dated_2024_forces_an_early_opening() -> None:
    """Half the units covered from 2024: one home in 2024 (120), the other in 2025 (110)."""
    dated = {"kind": "coverage", "facility": "home", "measure": "units", "min_share": 0.5, "year": 2024}
    result = _solve(_doc([ALL, dated]))
    assert result.checked is not None and result.checked.cost["total"] == pytest.approx(230)
    assert sorted(_opened(result).values()) == [2024, 2025]


def test_growth_makes_a_later_share_harder() -> None:
    """Rural elderly double each year: u1 alone is half the weight in 2024 but a third in 2025,
    so half from 2024 on needs u2's home B (150 + 10 x 2 = 170); without growth A alone (120)."""
    sites = [dict(SITES[0]), dict(SITES[1], cost=150)]
    half = {"kind": "coverage", "facility": "home", "measure": "elderly", "min_share": 0.5, "year": 2024}
    doc = _doc([half], sites=sites)
    doc["sites"]["cost"] = {"home": "cost"}
    assert _solve(doc).checked.cost["total"] == pytest.approx(120)   # type: ignore[union-attr]
    doc["demand"]["growth"] = {"elderly": {"urban": 0.0, "rural": 1.0}}
    result = _solve(doc)
    assert result.checked is not None and result.checked.cost["total"] == pytest.approx(170)
    assert _opened(result) == {"B": 2024}


def test_strict_share_and_strict_count_need_more_than_their_figure() -> None:
    """Half the units, strictly: both homes (220); a count of more than 1: both homes too."""
    share = {"kind": "coverage", "facility": "home", "measure": "units", "min_share": 0.5}
    assert _solve(_doc([share])).checked.cost["total"] == pytest.approx(110)   # type: ignore[union-attr]
    assert _solve(_doc([share | {"strict": True}])).checked.cost["total"] == pytest.approx(220)  # type: ignore[union-attr]
    count = {"kind": "count", "facility": "home", "min": 1, "strict": True}
    assert _solve(_doc([count])).checked.cost["total"] == pytest.approx(220)   # type: ignore[union-attr]


def test_a_count_in_a_named_zone_opens_there() -> None:
    """One home in Z2: B (110), although A is cheaper elsewhere."""
    sites = [dict(SITES[0], cost=50), dict(SITES[1])]
    doc = _doc([{"kind": "count", "facility": "home", "zone": "Z2", "min": 1}], sites=sites)
    doc["sites"]["cost"] = {"home": "cost"}
    result = _solve(doc)
    assert _opened(result) == {"B": 2025}


def test_land_per_100_households_per_zone_with_site_land() -> None:
    """Z1 asks 10 m2 per 100 of 1000 households = 100 m2, Z2 50 m2. In Z1, A has 120 m2 for 300
    yuan, A2 and A3 80 m2 each for 100: A2 + A3. Z2: B. One year, horizon 1: 300 + 30 = 330."""
    sites = [dict(SITES[0], cost=300, land=120), {"id": "A2", "xy": (0, 100), "zone": "Z1", "allowed": "home",
                                                  "existing": "", "cost": None, "land": None},
             {"id": "A3", "xy": (0, -100), "zone": "Z1", "allowed": "home", "existing": "", "cost": None,
              "land": None}, dict(SITES[1], cost=None, land=None)]
    land = {"kind": "land", "per_zone": True, "per_100_households_m2": 10, "households": "households"}
    doc = _doc([land], sites=sites, types={"home": TYPES["home"] | {"land_m2": 80}})
    doc["sites"]["cost"] = {"home": "cost"}
    doc["sites"]["land_m2"] = {"home": "land"}
    del doc["years"]
    doc["budget"]["horizon_years"] = 1
    result = _solve(doc)
    assert result.checked is not None and result.checked.cost["total"] == pytest.approx(330)
    assert set(_opened(result)) == {"A2", "A3", "B"}
    zones = {row["zone"]: row for row in result.checked.targets[0]["zones"]}
    assert zones["Z1"]["required"] == pytest.approx(100) and zones["Z2"]["required"] == pytest.approx(50)


def _check(doc: dict[str, Any], facilities: list[tuple[Any, str, int | None]]) -> Any:
    scenario, base_dir = parse_scenario(doc)
    return check_phased(scenario, load_region(scenario, base_dir), base_dir, facilities, [])


def test_checker_rejects_a_facility_that_closes() -> None:
    checked = _check(_doc([ALL]), [("A", "home", 2024), ("A", "home", 2025), ("B", "home", 2025)])
    assert any("listed twice" in v for v in checked.violations)


def test_checker_rejects_a_year_over_its_budget() -> None:
    doc = _doc([ALL], budget={"capital_by_year": {"2024": 100}})
    checked = _check(doc, [("A", "home", 2024), ("B", "home", 2024)])
    assert any("spent in 2024" in v for v in checked.violations)
    assert checked.cost["total"] == pytest.approx(240)


def test_checker_finds_a_target_missed_in_its_year() -> None:
    dated = {"kind": "coverage", "facility": "home", "measure": "units", "min_share": 0.5, "year": 2024}
    checked = _check(_doc([dated]), [("A", "home", 2025), ("B", "home", 2025)])
    assert not checked.targets[0]["met"]
    assert checked.years["2024"]["targets"][0]["met"] is False
    assert checked.years["2025"]["targets"][0]["met"] is True


def test_a_yearly_budget_too_small_for_a_dated_target_is_explained_with_the_best_elastic_plan() -> None:
    """2024 may spend 50, a home costs 100: no plan covers half the units in 2024."""
    dated = {"kind": "coverage", "facility": "home", "measure": "units", "min_share": 0.5, "year": 2024}
    scenario, base_dir = parse_scenario(_doc([ALL, dated], budget={"capital_by_year": {"2024": 50}}))
    result = solve(scenario, base_dir)
    assert result.status == "infeasible" and result.explanation is not None
    assert result.explanation["budget"]["least_capital"] == pytest.approx(200)
    assert result.checked is not None
    missed = result.checked.targets[1]
    assert not missed["met"] and [row["met"] for row in missed["by_year"]] == [False, True]
    # The year whose budget stops the plan: 2024 needs a home (100) with every other budget kept.
    (year_2024,) = result.explanation["budget"]["by_year"]
    assert year_2024["year"] == 2024 and year_2024["short"]
    assert year_2024["least_capital_at_least"] == pytest.approx(100, rel=1e-3)


def test_max_coverage_counts_every_year_covered() -> None:
    """One home affordable: opened in 2024 it covers its unit in both years."""
    result = solve(*parse_scenario(_doc([], objective="max_coverage", budget={"capital": 100})))
    assert result.status == "optimal" and result.checked is not None
    assert [f["year"] for f in result.checked.facilities if f["new"]] == [2024]


# Three sites in Z1 (A, A2, A3), one in Z2 (B); A2 and A3 are cheaper than A and B.
EXCLUDE_SITES: list[dict[str, Any]] = [
    dict(SITES[0], cost=None),
    {"id": "A2", "xy": (0, 100), "zone": "Z1", "allowed": "home", "existing": "", "cost": 50},
    {"id": "A3", "xy": (0, -100), "zone": "Z1", "allowed": "home", "existing": "", "cost": 50},
    dict(SITES[1], cost=None)]
REGIONAL = {"kind": "count", "facility": "home", "zone": "Z1", "min": 1, "label": "regional"}


def _exclude_doc(targets: list[dict[str, Any]]) -> dict[str, Any]:
    doc = _doc(targets, sites=EXCLUDE_SITES)
    doc["sites"]["cost"] = {"home": "cost"}
    return doc


def test_a_count_that_excludes_another_counts_only_outside_its_scope() -> None:
    """Two homes anywhere: A2 + A3. Two homes not counted by the Z1 target: only B is outside
    Z1, so two cannot be had (infeasible, and the explanation says at most 1); one such home: B,
    and A2 for the Z1 target."""
    anywhere = {"kind": "count", "facility": "home", "min": 2}
    assert set(_opened(_solve(_exclude_doc([REGIONAL, anywhere])))) == {"A2", "A3"}
    scenario, base_dir = parse_scenario(_exclude_doc([REGIONAL, anywhere | {"exclude": ["regional"]}]))
    result = solve(scenario, base_dir)
    assert result.status == "infeasible" and result.explanation is not None
    assert result.explanation["targets"][1]["best_possible"] == 1
    assert "outside the scope" in result.explanation["targets"][1]["cause"]
    result = _solve(_exclude_doc([REGIONAL, anywhere | {"min": 1, "exclude": ["regional"]}]))
    assert set(_opened(result)) == {"A2", "B"}
    assert result.checked is not None
    assert [t["achieved"] for t in result.checked.targets] == [1, 1]


def test_the_checker_does_not_count_an_excluded_facility_again() -> None:
    """A2 and A3 in Z1 meet 'regional' but count for nothing in the target that excludes it; a
    `new_only` regional target leaves an existing home in Z1 countable."""
    others = {"kind": "count", "facility": "home", "min": 1, "exclude": ["regional"]}
    checked = _check(_exclude_doc([REGIONAL, others]), [("A2", "home", 2024), ("A3", "home", 2024)])
    assert [t["achieved"] for t in checked.targets] == [2, 0] and not checked.targets[1]["met"]
    sites = [dict(s, existing="home") if s["id"] == "A" else s for s in EXCLUDE_SITES]
    doc = _doc([REGIONAL | {"new_only": True}, others], sites=sites)
    doc["sites"]["cost"] = {"home": "cost"}
    checked = _check(doc, [("A2", "home", 2024)])
    assert [t["achieved"] for t in checked.targets] == [1, 1] and all(t["met"] for t in checked.targets)


@pytest.mark.parametrize(("exclude", "other", "says"), [
    (["regionl"], REGIONAL, "unknown target label 'regionl'; did you mean 'regional'?"),
    (["regional"], {"kind": "coverage", "facility": "home", "min_share": 0.5, "label": "regional"},
     "'regional' labels a coverage target of 'home'"),
])
def test_exclude_names_a_count_target_of_the_same_type(exclude: list[str], other: dict[str, Any],
                                                       says: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(_exclude_doc([other, {"kind": "count", "facility": "home", "min": 1, "exclude": exclude}]))
    assert any(p.location == "targets[1].exclude" and says in p.message for p in caught.value.problems)
