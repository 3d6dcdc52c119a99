"""The independent checker (optimizer.check.plan.check_plan): every figure of a plan recomputed from
the raw data (coordinates or the distance table, site attributes, type costs), never from the model;
structural faults land in ``violations``, and a solver story that differs from the checker's is a
`CheckFailedError` (optimizer.plan.checked_plan), never a plan.

Instance (metres from the origin)::

    sites   A (0, 0)     allowed station, meal
            B (1000, 0)  allowed meal; station existing
            C (2000, 0)  allowed station; its own station capital 80 (others: type default 100)
    units   u1 (0, 300) 10   u2 (500, 0) 20   u3 (1000, 400) 30   u4 (1800, 0) 40   u5 (3000, 0) 50

Station: radius 600, capital 100, annual 10. Meal: radius 900, capital 50, annual 5, x 0.4 where a
station is open at the same site. Horizon 3. Targets: station covers 60% of units, meal 50% of the
elderly, at least 1 new station.

The plan {C station, B meal} (B's station is open anyway):
  capital 80 + 0.4 x 50 = 100; annual 10 + 10 + 5 = 25; total 100 + 3 x 25 = 175.
  nearest open station (B, C): u1 -> B sqrt(1000² + 300²) = 1044.03, u2 -> B 500, u3 -> B 400,
  u4 -> C 200, u5 -> C 1000; covered (<= 600): u2, u3, u4 = 3 of 5 = 0.6.
  nearest meal (only B): u1 1044.03, u2 500, u3 400, u4 800, u5 2000; covered (<= 900): u2, u3, u4,
  20 + 30 + 40 = 90 of 150 elderly = 0.6.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from optimizer.check.plan import CheckedPlan, check_plan
from optimizer.errors import CheckFailedError
from optimizer.inputs.geodata import Region, load_region
from optimizer.plan import Prepared, checked_plan, prepare, prepare_tables, solve_prepared
from optimizer.scenario.format import Scenario, parse_scenario
from optimizer.search.phases import Solution
from tests.conftest import scenario_doc

UNITS = [{"id": "u1", "xy": (0, 300), "kind": "urban", "zone": "Z", "pop": 10},
         {"id": "u2", "xy": (500, 0), "kind": "urban", "zone": "Z", "pop": 20},
         {"id": "u3", "xy": (1000, 400), "kind": "urban", "zone": "Z", "pop": 30},
         {"id": "u4", "xy": (1800, 0), "kind": "urban", "zone": "Z", "pop": 40},
         {"id": "u5", "xy": (3000, 0), "kind": "urban", "zone": "Z", "pop": 50}]
SITES = [{"id": "A", "xy": (0, 0), "zone": "Z", "allowed": "station,meal", "existing": "", "cost_station": None},
         {"id": "B", "xy": (1000, 0), "zone": "Z", "allowed": "meal", "existing": "station", "cost_station": None},
         {"id": "C", "xy": (2000, 0), "zone": "Z", "allowed": "station", "existing": "", "cost_station": 80}]
TYPES = {"station": {"radius_m": 600, "capital_cost": 100, "annual_cost": 10, "land_m2": 300},
         "meal": {"radius_m": 900, "capital_cost": 50, "annual_cost": 5, "colocate": {"station": 0.4}}}
TARGETS = [{"kind": "coverage", "facility": "station", "min_share": 0.6},
           {"kind": "coverage", "facility": "meal", "measure": "elderly", "min_share": 0.5},
           {"kind": "count", "facility": "station", "new_only": True, "min": 1}]
OPTIMUM = [("C", "station"), ("B", "meal")]


def _doc(**extra: Any) -> dict[str, Any]:
    doc = copy.deepcopy(scenario_doc(UNITS, SITES, TYPES, TARGETS, **extra))
    doc["sites"]["cost"] = {"station": "cost_station"}
    return doc


def _loaded(**extra: Any) -> tuple[Scenario, Region, Path]:
    scenario, base_dir = parse_scenario(_doc(**extra))
    return scenario, load_region(scenario, base_dir), base_dir


def _check(open_pairs: list[tuple[Any, str]], **extra: Any) -> CheckedPlan:
    scenario, region, base_dir = _loaded(**extra)
    return check_plan(scenario, region, base_dir, open_pairs)


def test_costs_are_recomputed_from_site_fields_type_costs_and_colocation() -> None:
    checked = _check(OPTIMUM)
    assert checked.cost == {"capital": 100.0, "annual": 25.0, "total": 175.0}
    assert sorted((f["site"], f["type"], f["new"], f["capital_cost"], f["annual_cost"])
                  for f in checked.facilities) == [("B", "meal", True, 20.0, 5.0), ("B", "station", False, 0.0, 10.0),
                                                   ("C", "station", True, 80.0, 10.0)]
    assert checked.violations == [] and checked.feasible


def test_an_existing_facility_counts_as_open_whether_listed_or_not() -> None:
    assert _check(OPTIMUM).cost == _check([*OPTIMUM, ("B", "station")]).cost
    alone = _check([])
    assert [(f["site"], f["type"], f["capital_cost"]) for f in alone.facilities] == [("B", "station", 0.0)]
    assert alone.cost == {"capital": 0.0, "annual": 10.0, "total": 30.0}


def test_a_colocation_discount_needs_its_host_open_at_the_same_site() -> None:
    hosted = _check([("A", "station"), ("A", "meal")])
    meal = next(f for f in hosted.facilities if f["type"] == "meal")
    assert meal["capital_cost"] == pytest.approx(20.0)                 # 0.4 x 50 beside A's new station
    alone = _check([("A", "meal")])
    assert next(f for f in alone.facilities if f["type"] == "meal")["capital_cost"] == 50.0


def test_coverage_is_recomputed_from_coordinates() -> None:
    checked = _check(OPTIMUM)
    np.testing.assert_allclose(checked.nearest["station"], [np.hypot(1000, 300), 500, 400, 200, 1000], atol=1e-3)
    np.testing.assert_allclose(checked.nearest["meal"], [np.hypot(1000, 300), 500, 400, 800, 2000], atol=1e-3)
    assert checked.covered["station"].tolist() == [False, True, True, True, False]
    assert checked.covered["meal"].tolist() == [False, True, True, True, False]


def test_targets_are_recomputed_with_their_measure() -> None:
    station, meal, count = _check(OPTIMUM).targets
    assert (station["achieved"], station["covered"], station["total"], station["met"]) == (
        pytest.approx(0.6), 3.0, 5.0, True)
    assert (meal["achieved"], meal["covered"], meal["total"], meal["met"]) == (pytest.approx(0.6), 90.0, 150.0, True)
    assert (count["achieved"], count["required"], count["met"]) == (1, 1, True)   # B's existing station not new


def test_an_unmet_target_reports_its_shortfall_without_a_violation() -> None:
    """Meal at B only: stations at B cover u2, u3 = 2 of 5 units (0.4, short by 0.2); no new station."""
    checked = _check([("B", "meal")])
    station, meal, count = checked.targets
    assert (station["met"], station["achieved"], station["shortfall"]) == (False, pytest.approx(0.4),
                                                                           pytest.approx(0.2))
    assert meal["met"] is True
    assert (count["met"], count["achieved"], count["shortfall"]) == (False, 0, 1.0)
    assert checked.violations == [] and not checked.targets_met and not checked.feasible


def test_an_extra_facility_at_a_site_that_may_not_host_it_is_rejected() -> None:
    checked = _check([*OPTIMUM, ("C", "meal")])
    assert checked.violations == ["site 'C' may not host 'meal'"]
    assert not checked.feasible
    assert checked.targets_met          # the targets alone would pass: only the violation rejects it


def test_an_unknown_site_or_type_and_a_duplicate_are_violations() -> None:
    checked = _check([*OPTIMUM, ("Q", "station"), ("A", "clinic"), ("C", "station")])
    assert checked.violations == ["unknown site 'Q' or facility type 'station'",
                                  "unknown site 'A' or facility type 'clinic'",
                                  "'station' listed twice at site 'C'"]
    assert not checked.feasible


def test_a_plan_above_the_budget_is_a_violation() -> None:
    checked = _check(OPTIMUM, budget={"capital": 90, "annual": 20, "horizon_years": 3})
    assert checked.violations == ["capital cost 100 exceeds the capital budget 90",
                                  "annual cost 25 exceeds the annual budget 20"]
    assert checked.targets_met and not checked.feasible


def test_a_land_target_sums_the_land_of_every_open_facility() -> None:
    """Stations at B (existing) and C: 2 x 300 = 600 m² against 4 m² x 150 elderly = 600 m²."""
    doc_targets = [{"kind": "land", "per_capita_m2": 4.0, "population": "elderly"}]
    scenario, base_dir = parse_scenario(scenario_doc(UNITS, SITES, TYPES, doc_targets))
    region = load_region(scenario, base_dir)
    (land,) = check_plan(scenario, region, base_dir, [("C", "station")]).targets
    assert (land["required"], land["achieved"], land["met"]) == (600.0, 600.0, True)
    (land,) = check_plan(scenario, region, base_dir, [("B", "meal")]).targets
    assert (land["achieved"], land["met"], land["shortfall"]) == (300.0, False, 300.0)


def test_the_checker_reads_distances_from_the_table_when_one_is_given() -> None:
    """A table of two pairs: u5 exactly 600 from C (not the 1000 of the straight line), u4 800 from
    B. The limit is inclusive, so u5 counts as covered by C's station; u4 is covered by B's meal point
    (900) but not by B's existing station (600); pairs absent from the table are out of reach."""
    doc = _doc()
    for layer in ("demand", "sites"):
        doc[layer].pop("features")
    demand = pd.DataFrame([{k: v for k, v in u.items() if k != "xy"} for u in UNITS])
    sites = pd.DataFrame([{k: v for k, v in s.items() if k != "xy"} for s in SITES])
    pairs = pd.DataFrame({"demand_id": ["u5", "u4"], "site_id": ["C", "B"], "distance": [600.0, 800.0]})
    prep = prepare_tables(doc, demand, sites, pairs)
    checked = check_plan(prep.scenario, prep.region, prep.base_dir, OPTIMUM)
    assert checked.nearest["station"].tolist() == [np.inf, np.inf, np.inf, 800.0, 600.0]
    assert checked.covered["station"].tolist() == [False, False, False, False, True]
    assert checked.nearest["meal"].tolist() == [np.inf, np.inf, np.inf, 800.0, np.inf]
    assert checked.covered["meal"].tolist() == [False, False, False, True, False]


def _solved() -> tuple[Prepared, Solution]:
    scenario, base_dir = parse_scenario(_doc())
    prep = prepare(scenario, base_dir, reduce=False)
    result = solve_prepared(prep)
    assert result.status == "optimal" and result.solution.x is not None
    return prep, result.solution


def test_the_solver_plan_and_the_checker_agree_on_the_derived_optimum() -> None:
    prep, solution = _solved()
    checked = checked_plan(prep, solution)
    assert checked.cost["total"] == pytest.approx(175.0)
    assert float(prep.model.cost_c @ solution.x) == pytest.approx(175.0)
    assert sorted((f["site"], f["type"]) for f in checked.facilities if f["new"]) == [("B", "meal"),
                                                                                      ("C", "station")]


def test_a_solution_claiming_coverage_the_checker_does_not_find_is_rejected() -> None:
    """u5 has no station within 600 m; a solution vector saying x[u5, station] = 1 is a bug."""
    prep, solution = _solved()
    assert solution.x is not None
    tampered = solution.x.copy()
    x = prep.model.milp.var_block("x").start + np.flatnonzero((prep.model.x_unit == 4) & (prep.model.x_type == 0))
    tampered[x] = 1.0
    with pytest.raises(CheckFailedError, match=r"^checker: solver counts units as covered by 'station' that the "
                                               r"checker does not$"):
        checked_plan(prep, Solution(tampered, solution.phases))


def test_a_solution_whose_cost_differs_from_the_checkers_is_rejected() -> None:
    """Open a meal point at A and claim A's co-location discount (d = 1) without A's station: the
    model says 175 + 65 - 30 = 210, the checker 175 + 50 + 3 x 5 = 240."""
    prep, solution = _solved()
    assert solution.x is not None
    tampered = solution.x.copy()
    pm = prep.model
    y = pm.milp.var_block("y").start + np.flatnonzero((pm.y_site == 0) & (pm.y_type == 1))
    tampered[y] = 1.0
    tampered[pm.milp.var_block("d").start] = 1.0
    assert float(pm.cost_c @ tampered) == pytest.approx(210.0)
    with pytest.raises(CheckFailedError, match=r"^checker: solver cost 210\.00 but checker cost 240\.00$"):
        checked_plan(prep, Solution(tampered, solution.phases))


def test_a_solution_over_its_budget_is_rejected_even_when_the_costs_agree() -> None:
    """Capital budget 100 (the optimum's capital): opening A's station too gives capital 200. Model
    and checker agree on the cost (175 + 130 = 305); the checker's budget fault alone rejects it."""
    scenario, base_dir = parse_scenario(_doc(budget={"capital": 100, "annual": None, "horizon_years": 3}))
    prep = prepare(scenario, base_dir, reduce=False)
    solution = solve_prepared(prep).solution
    assert solution.x is not None
    tampered = solution.x.copy()
    pm = prep.model
    tampered[pm.milp.var_block("y").start + np.flatnonzero((pm.y_site == 0) & (pm.y_type == 0))] = 1.0
    assert float(pm.cost_c @ tampered) == pytest.approx(305.0)
    with pytest.raises(CheckFailedError, match=r"^checker: capital cost 200 exceeds the capital budget 100$"):
        checked_plan(prep, Solution(tampered, solution.phases))


def test_a_summary_row_pairs_the_requirement_and_achievement_of_one_zone() -> None:
    """A target that holds in several zones is summarised by its row closest to failing, with that
    row's own requirement beside its own achievement, never one zone's beside another's."""
    from optimizer.check.rows import binding_row

    rows = [{"zone": "A", "required": 5962.0, "achieved": 7240.0, "shortfall": 0.0},
            {"zone": "B", "required": 1000.0, "achieved": 4340.0, "shortfall": 0.0}]
    assert binding_row(rows)["zone"] == "A"
    rows.append({"zone": "C", "required": 50.0, "achieved": 10.0, "shortfall": 40.0})
    assert binding_row(rows) == rows[2]
