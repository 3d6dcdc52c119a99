"""The Python API (optimizer.plan): solve pins the least cost and the chosen sites; solve_tables on
the same data gives the same plan; targets out of reach say whether budget or data is the cause.

Instance (metres from the origin)::

    sites   A (0, 0)     allowed station, meal   station capital: type default 100
            B (1000, 0)  allowed meal; station existing
            C (2000, 0)  allowed station          station capital: its own field, 80
    units   u1 (0, 300) 10   u2 (500, 0) 20   u3 (1000, 400) 30   u4 (1800, 0) 40   u5 (3000, 0) 50

Station (600 m, capital 100, annual 10) reaches u1: A; u2: A, B; u3: B; u4: C; u5: none.
Meal (900 m, capital 50, annual 5, x 0.4 beside a station) reaches u1: A; u2: A, B; u3, u4: B.
Horizon 3 years.

Targets: station covers 60% of units (3), meal covers 50% of the elderly (75 of 150).

* Station: the existing B covers u2, u3; one more unit needs A (100 + 30 = 130) or C (80 + 30 =
  110): C.
* Meal: A reaches 30 elderly (< 75); B reaches 20 + 30 + 40 = 90 and costs 0.4 x 50 = 20 beside
  the existing station, plus 15: B.
* Least cost: capital 80 + 20 = 100, annual 10 + 10 + 5 = 25, total 100 + 3 x 25 = 175.

With a capital budget of 90 (< 100, the least capital of any plan meeting both targets) no plan
exists. The elastic re-solve keeps meal at B (20) and leaves the station target a unit short
(penalty 1/3 < meal's 75/75 = 1): capital 20, annual 15, total 65.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from optimizer.plan import PlanResult, prepare, solve, solve_file, solve_tables, weighted_coverage
from optimizer.scenario.format import parse_scenario
from tests.conftest import scenario_doc, write_scenario

UNITS = [{"id": "u1", "xy": (0, 300), "kind": "urban", "zone": "Z", "pop": 10},
         {"id": "u2", "xy": (500, 0), "kind": "urban", "zone": "Z", "pop": 20},
         {"id": "u3", "xy": (1000, 400), "kind": "urban", "zone": "Z", "pop": 30},
         {"id": "u4", "xy": (1800, 0), "kind": "urban", "zone": "Z", "pop": 40},
         {"id": "u5", "xy": (3000, 0), "kind": "urban", "zone": "Z", "pop": 50}]
SITES = [{"id": "A", "xy": (0, 0), "zone": "Z", "allowed": "station,meal", "existing": "", "cost_station": None},
         {"id": "B", "xy": (1000, 0), "zone": "Z", "allowed": "meal", "existing": "station", "cost_station": None},
         {"id": "C", "xy": (2000, 0), "zone": "Z", "allowed": "station", "existing": "", "cost_station": 80}]
TYPES = {"station": {"radius_m": 600, "capital_cost": 100, "annual_cost": 10},
         "meal": {"radius_m": 900, "capital_cost": 50, "annual_cost": 5, "colocate": {"station": 0.4}}}
TARGETS = [{"kind": "coverage", "facility": "station", "min_share": 0.6},
           {"kind": "coverage", "facility": "meal", "measure": "elderly", "min_share": 0.5}]
LEAST_COST = 175.0
PLAN = [("B", "meal", True, 20.0), ("B", "station", False, 0.0), ("C", "station", True, 80.0)]


def _doc(**extra: Any) -> dict[str, Any]:
    doc = copy.deepcopy(scenario_doc(UNITS, SITES, TYPES, TARGETS, **extra))
    doc["sites"]["cost"] = {"station": "cost_station"}
    return doc


def _solve(doc: dict[str, Any], **overrides: Any) -> PlanResult:
    scenario, base_dir = parse_scenario(doc)
    return solve(scenario, base_dir, **overrides)


def _facilities(result: PlanResult) -> list[tuple[str, str, bool, float]]:
    assert result.checked is not None
    return sorted((f["site"], f["type"], f["new"], f["capital_cost"]) for f in result.checked.facilities)


def test_solve_finds_the_least_cost_and_the_chosen_sites() -> None:
    result = _solve(_doc())
    assert result.status == "optimal" and result.all_targets_met
    assert result.checked is not None
    assert result.checked.cost == {"capital": 100.0, "annual": 25.0, "total": pytest.approx(LEAST_COST)}
    assert result.solution.phases[-1].result.objective == pytest.approx(LEAST_COST)
    assert _facilities(result) == PLAN
    assert [(t["index"], t["achieved"], t["met"]) for t in result.checked.targets] == [
        (0, pytest.approx(0.6), True), (1, pytest.approx(0.6), True)]
    assert result.explanation is None


@pytest.mark.parametrize(("backend", "reported"), [("highs", "highs"), ("pulp:CBC", "pulp:PULP_CBC_CMD")])
def test_solver_overrides_replace_the_scenarios_solver(backend: str, reported: str) -> None:
    doc = _doc()
    doc["solver"] |= {"backend": "no-such-backend", "time_limit_s": 1}
    result = _solve(doc, backend=backend, time_limit_s=20, mip_gap=0.0)
    assert result.prepared.scenario.solver.backend == backend
    assert result.prepared.scenario.solver.time_limit_s == 20
    assert result.solution.phases[-1].result.backend == reported
    assert result.checked is not None and result.checked.cost["total"] == pytest.approx(LEAST_COST)


def test_solve_file_reads_the_same_scenario_from_disk(tmp_path: Path) -> None:
    result = solve_file(write_scenario(tmp_path, _doc()))
    assert result.prepared.base_dir == tmp_path.resolve()
    assert result.checked is not None and result.checked.cost["total"] == pytest.approx(LEAST_COST)
    assert _facilities(result) == PLAN


def _frames(doc: dict[str, Any]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return tuple(gpd.GeoDataFrame.from_features(doc[layer].pop("features")["features"], crs="EPSG:4326")
                 for layer in ("demand", "sites"))


def test_solve_tables_on_the_same_geodata_equals_solve() -> None:
    doc = _doc()
    demand, sites = _frames(doc)
    from_tables = solve_tables(doc, demand, sites)
    from_scenario = _solve(_doc())
    assert from_tables.status == from_scenario.status == "optimal"
    assert _facilities(from_tables) == _facilities(from_scenario) == PLAN
    assert from_tables.checked is not None and from_scenario.checked is not None
    assert from_tables.checked.cost == from_scenario.checked.cost
    np.testing.assert_array_equal(from_tables.prepared.region.demand.xy, from_scenario.prepared.region.demand.xy)


def test_solve_tables_with_a_distance_table_of_the_straight_lines_equals_solve() -> None:
    """Plain tables, no geometry: every (unit, site) distance given as a table row."""
    doc = _doc()
    demand, sites = _frames(doc)
    reference = _solve(_doc())
    xy_d = reference.prepared.region.demand.xy
    xy_s = reference.prepared.region.sites.xy
    i, s = np.divmod(np.arange(len(xy_d) * len(xy_s)), len(xy_s))
    pairs = pd.DataFrame({"demand_id": demand["id"].to_numpy()[i], "site_id": sites["id"].to_numpy()[s],
                          "distance": np.hypot(*(xy_d[i] - xy_s[s]).T)})
    result = solve_tables(doc, pd.DataFrame(demand.drop(columns="geometry")),
                          pd.DataFrame(sites.drop(columns="geometry")), pairs)
    assert result.prepared.reach.source == "table"
    assert result.status == "optimal"
    assert _facilities(result) == PLAN
    assert result.checked is not None and result.checked.cost["total"] == pytest.approx(LEAST_COST)


def test_a_budget_below_the_cheapest_plan_is_infeasible_and_names_the_budget_needed() -> None:
    result = _solve(_doc(budget={"capital": 90, "annual": None, "horizon_years": 3}))
    assert result.status == "infeasible" and not result.all_targets_met
    explanation = result.explanation
    assert explanation is not None
    # Each target is reachable on its own (station 4 of 5 units, meal 100 of 150 elderly): no data cause.
    assert explanation["targets"] == [
        {"index": 0, "kind": "coverage", "best_possible": pytest.approx(0.8), "required": 0.6, "cause": None},
        {"index": 1, "kind": "coverage", "best_possible": pytest.approx(2 / 3), "required": 0.5, "cause": None}]
    assert explanation["budget"] == {"cause": "budget", "least_capital": 100.0, "annual_of_that_plan": 25.0,
                                     "capital_budget": 90.0, "annual_budget": None, "proven": True}
    assert [(u["demand"], u["facility"], u["nearest_site_m"]) for u in explanation["uncoverable"]] == [
        ("u5", "station", 1000.0), ("u5", "meal", 2000.0)]


def test_the_best_elastic_plan_within_the_budget_comes_with_an_infeasible_status() -> None:
    result = _solve(_doc(budget={"capital": 90, "annual": None, "horizon_years": 3}))
    assert result.checked is not None
    assert result.checked.cost == {"capital": 20.0, "annual": 15.0, "total": pytest.approx(65.0)}
    assert _facilities(result) == [("B", "meal", True, 20.0), ("B", "station", False, 0.0)]
    station, meal = result.checked.targets
    assert (station["met"], station["achieved"], station["covered"]) == (False, pytest.approx(0.4), 2.0)
    assert meal["met"] is True
    assert [p.name for p in result.solution.phases] == ["cost", "shortfall", "cost"]


def test_a_unit_out_of_reach_is_named_as_the_cause_and_no_budget_is_sought() -> None:
    doc = _doc()
    doc["targets"][0]["min_share"] = 1.0
    result = _solve(doc)
    assert result.status == "infeasible"
    assert result.explanation is not None
    limit = result.explanation["targets"][0]
    assert limit["best_possible"] == pytest.approx(0.8)
    assert limit["cause"] == ("1 unit(s) in scope have no site allowed to host 'station' within its limit "
                              "(see `uncoverable`): e.g. 'u5'")
    assert "budget" not in result.explanation


def test_max_coverage_within_a_budget_covers_the_most_elderly() -> None:
    """Capital 100, no targets. Station: C (80) adds u4's 40 to B's u2 + u3 (50); A (100) adds u1's 10.
    Meal B (20) reaches u2-u4 (90), meal A (50) u1-u2 (30). Within 100: C station + B meal = 100
    gives station 90 + meal 90 = 180, the most (A station alone: 60 + 0; B + A meals: 70 capital,
    station 50 + meal 100 = 150)."""
    doc = _doc(objective="max_coverage", budget={"capital": 100, "annual": None, "horizon_years": 3})
    doc["targets"] = []
    result = _solve(doc)
    assert result.status == "optimal"
    assert result.checked is not None
    assert weighted_coverage(result.prepared, result.checked) == pytest.approx(180.0)
    assert _facilities(result) == PLAN
    assert result.checked.cost["capital"] == pytest.approx(100.0)


def test_prepare_builds_without_solving() -> None:
    scenario, base_dir = parse_scenario(_doc())
    prep = prepare(scenario, base_dir, reduce=False)
    assert prep.reductions is None
    assert prep.model.milp.var_block("y").size == 5
    assert [int(R.nnz) for R in prep.reach.by_type] == [5, 5]
