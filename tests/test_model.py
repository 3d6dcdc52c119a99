"""The MILP builder (optimizer.model.build) on a hand-built 5 units x 3 sites instance.

Layout (metres from the origin; every distance below is at least 77 m from a radius)::

    sites   A (0, 0)     allowed station, meal
            B (1000, 0)  allowed meal; station existing
            C (2000, 0)  allowed station
    units   u1 (0, 300)  pop 10     station 600 m reaches     meal 900 m reaches
            u2 (500, 0)  pop 20     u1: A (300)               u1: A (300)
            u3 (1000, 400) pop 30   u2: A (500), B (500)      u2: A (500), B (500)
            u4 (1800, 0) pop 40     u3: B (400)               u3: B (400)
            u5 (3000, 0) pop 50     u4: C (200)               u4: B (800)
                                    u5: none (C is 1000 away) u5: none
                                    -> 5 reach pairs          -> 5 reach pairs

Types: station capital 100, annual 10; meal capital 50, annual 5, co-location factor 0.4 where a
station is open at the same site. Horizon 3 years. Expected structure:

* y, type-major: (A, station), (B, station), (C, station), (A, meal), (B, meal): 5 variables,
  not 3 sites x 2 types = 6 (C may not host meal).
* (B, station) exists: fixed to 1, capital 0, cost coefficient 3 x 10 = 30 (annual only).
* (B, meal): its host exists, so the factor is folded in: capital 0.4 x 50 = 20, cost 20 + 15 = 35.
  (A, meal): its host may be opened: one `d` variable, saving 0.6 x 50 = 30, tied by C1a and C1b.
* Coverage links (C2), one row per unit and type with a share target: 10 rows holding the 10
  reach pairs (-1 on y) and the 10 x's (+1): 20 nonzeros; u5's rows hold only its x.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from optimizer.inputs.geodata import Region, load_region
from optimizer.model.build import PlanModel, build_model
from optimizer.model.milp import CONTINUOUS, IMPLIED_INTEGER, INTEGER, Milp
from optimizer.reach.base import Reach
from optimizer.reach.build import build_reach
from optimizer.scenario.format import parse_scenario
from tests.conftest import scenario_doc

UNITS = [{"id": "u1", "xy": (0, 300), "kind": "urban", "zone": "Z", "pop": 10},
         {"id": "u2", "xy": (500, 0), "kind": "urban", "zone": "Z", "pop": 20},
         {"id": "u3", "xy": (1000, 400), "kind": "urban", "zone": "Z", "pop": 30},
         {"id": "u4", "xy": (1800, 0), "kind": "urban", "zone": "Z", "pop": 40},
         {"id": "u5", "xy": (3000, 0), "kind": "urban", "zone": "Z", "pop": 50}]
SITES = [{"id": "A", "xy": (0, 0), "zone": "Z", "allowed": "station,meal", "existing": ""},
         {"id": "B", "xy": (1000, 0), "zone": "Z", "allowed": "meal", "existing": "station"},
         {"id": "C", "xy": (2000, 0), "zone": "Z", "allowed": "station", "existing": ""}]
TYPES = {"station": {"radius_m": 600, "capital_cost": 100, "annual_cost": 10, "land_m2": 300},
         "meal": {"radius_m": 900, "capital_cost": 50, "annual_cost": 5, "colocate": {"station": 0.4}}}
SHARES = [{"kind": "coverage", "facility": "station", "min_share": 0.6},
          {"kind": "coverage", "facility": "meal", "measure": "elderly", "min_share": 0.5}]
STATION, MEAL = 0, 1
A, B, C = 0, 1, 2


def _built(targets: list[dict[str, Any]] = SHARES, types: dict[str, Any] = TYPES,
           **extra: Any) -> tuple[PlanModel, Region, Reach]:
    doc = scenario_doc(UNITS, SITES, copy.deepcopy(types), copy.deepcopy(targets), **extra)
    scenario, base_dir = parse_scenario(doc)
    region = load_region(scenario, base_dir)
    reach = build_reach(scenario, region, base_dir)
    return build_model(scenario, region, reach), region, reach


def _y(pm: PlanModel, s: int, t: int) -> int:
    """The y variable of type t at site s."""
    return int(pm.milp.var_block("y").start + np.flatnonzero((pm.y_site == s) & (pm.y_type == t))[0])


def _rows(milp: Milp, name: str) -> sp.csr_array:
    block = milp.row_block(name)
    return sp.csr_array(milp.A[block.start:block.stop])


def test_reach_is_the_hand_derived_pairs() -> None:
    _, _, reach = _built()
    assert reach.by_type[STATION].toarray().round().tolist() == [
        [300, 0, 0], [500, 500, 0], [0, 400, 0], [0, 0, 200], [0, 0, 0]]
    assert reach.by_type[MEAL].toarray().round().tolist() == [
        [300, 0, 0], [500, 500, 0], [0, 400, 0], [0, 800, 0], [0, 0, 0]]
    assert [R.nnz for R in reach.by_type] == [5, 5]


def test_one_open_variable_per_candidate_site_and_type() -> None:
    pm, _, _ = _built()
    y = pm.milp.var_block("y")
    assert y.size == 5
    assert list(zip(pm.y_site.tolist(), pm.y_type.tolist())) == [
        (A, STATION), (B, STATION), (C, STATION), (A, MEAL), (B, MEAL)]
    assert (pm.milp.integrality[y.start:y.stop] == INTEGER).all()
    assert pm.milp.ub[y.start:y.stop].tolist() == [1.0] * 5


def test_an_existing_facility_is_fixed_open_at_zero_capital() -> None:
    pm, _, _ = _built()
    existing = _y(pm, B, STATION)
    assert (pm.milp.lb[existing], pm.milp.ub[existing]) == (1.0, 1.0)
    assert pm.milp.A[pm.capital_row, existing] == 0.0          # no capital: pruned from the row
    assert pm.milp.A[pm.annual_row, existing] == 10.0          # annual cost still counted
    assert pm.cost_c[existing] == pytest.approx(30.0)          # 3 years x 10
    others = [_y(pm, s, t) for s, t in ((A, STATION), (C, STATION), (A, MEAL), (B, MEAL))]
    assert pm.milp.lb[others].tolist() == [0.0] * 4


def test_new_facilities_cost_capital_plus_horizon_times_annual() -> None:
    pm, _, _ = _built()
    assert pm.cost_c[_y(pm, A, STATION)] == pytest.approx(100 + 3 * 10)
    assert pm.cost_c[_y(pm, C, STATION)] == pytest.approx(100 + 3 * 10)
    assert pm.cost_c[_y(pm, A, MEAL)] == pytest.approx(50 + 3 * 5)
    assert pm.milp.A[pm.capital_row, _y(pm, A, STATION)] == 100.0
    assert (pm.milp.row_ub[pm.capital_row], pm.milp.row_ub[pm.annual_row]) == (np.inf, np.inf)


def test_colocation_factor_is_folded_in_where_the_host_exists() -> None:
    """B already hosts a station: a meal point there costs 0.4 x 50 = 20, with no choice to make."""
    pm, _, _ = _built()
    guest = _y(pm, B, MEAL)
    assert pm.milp.A[pm.capital_row, guest] == pytest.approx(20.0)
    assert pm.cost_c[guest] == pytest.approx(20 + 3 * 5)


def test_colocation_with_a_host_that_may_open_is_a_discount_variable_tied_to_both() -> None:
    """A may host both: d (one variable) saves 50 x (1 - 0.4) = 30 and needs both y open."""
    pm, _, _ = _built()
    d = pm.milp.var_block("d")
    assert d.size == 1
    assert pm.milp.integrality[d.start] == IMPLIED_INTEGER
    assert pm.cost_c[d.start] == pytest.approx(-30.0)
    assert pm.milp.A[pm.capital_row, d.start] == pytest.approx(-30.0)
    host = _rows(pm.milp, "C1a host open").toarray()
    one = _rows(pm.milp, "C1b one factor").toarray()
    assert host[0, [d.start, _y(pm, A, STATION)]].tolist() == [1.0, -1.0] and np.count_nonzero(host) == 2
    assert one[0, [d.start, _y(pm, A, MEAL)]].tolist() == [1.0, -1.0] and np.count_nonzero(one) == 2


def test_coverage_links_hold_only_reach_pairs() -> None:
    pm, _, reach = _built()
    link = _rows(pm.milp, "C2 coverage link")
    x = pm.milp.var_block("x")
    assert link.shape[0] == x.size == 10                      # 5 units x 2 types with a share target
    assert link.nnz == sum(R.nnz for R in reach.by_type) + link.shape[0] == 20
    y_of = {var: (int(s), int(t)) for var, s, t in zip(range(5), pm.y_site, pm.y_type)}
    for r in range(link.shape[0]):
        cols = link.indices[link.indptr[r]:link.indptr[r + 1]]
        vals = link.data[link.indptr[r]:link.indptr[r + 1]]
        unit, t = int(pm.x_unit[r]), int(pm.x_type[r])
        assert sorted(cols[vals > 0].tolist()) == [x.start + r]
        assert sorted(y_of[c][0] for c in cols[vals < 0]) == sorted(reach.by_type[t][[unit]].indices.tolist())
        assert all(y_of[c][1] == t for c in cols[vals < 0])
    u5_rows = np.flatnonzero(pm.x_unit == 4)
    assert np.diff(link.indptr)[u5_rows].tolist() == [1, 1]   # nothing in reach: x alone, forced to 0


def test_share_targets_become_one_row_each_with_the_requirement_rounded_up_on_counts() -> None:
    """Station: 0.6 x 5 units = 3 units. Meal: 0.5 x 150 elderly = 75, weights 10..50 on meal's x."""
    pm, _, _ = _built()
    station, meal = (pm.milp.row_block(f"C3 coverage target {k}") for k in (0, 1))
    assert (station.size, meal.size) == (1, 1)
    assert (pm.milp.row_lb[station.start], pm.milp.row_lb[meal.start]) == (3.0, 75.0)
    meal_row = _rows(pm.milp, "C3 coverage target 1")
    x_meal = pm.milp.var_block("x").start + np.flatnonzero(pm.x_type == MEAL)
    assert meal_row.toarray()[0, x_meal].tolist() == [10.0, 20.0, 30.0, 40.0, 50.0]
    assert [t.required.tolist() for t in pm.targets] == [[3.0], [75.0]]


def test_a_full_coverage_target_is_one_covering_row_per_unit_without_coverage_variables() -> None:
    """Station at 100%: rows u1 {A}, u2 {A, B}, u3 {B}, u4 {C}, u5 {} (>= 1: no plan meets it)."""
    pm, _, _ = _built([{"kind": "coverage", "facility": "station", "min_share": 1.0}])
    assert pm.milp.var_block("x").size == 0
    rows = _rows(pm.milp, "C3a full coverage target 0")
    block = pm.milp.row_block("C3a full coverage target 0")
    sites = [sorted(int(pm.y_site[c]) for c in rows.indices[rows.indptr[r]:rows.indptr[r + 1]]) for r in range(5)]
    assert sites == [[A], [A, B], [B], [C], []]
    assert pm.milp.row_lb[block.start:block.stop].tolist() == [1.0] * 5
    assert pm.cover_rows[0].tolist() == [0, 1, 2, 3, 4]


def test_a_new_only_count_target_leaves_existing_facilities_out() -> None:
    pm, _, _ = _built([{"kind": "count", "facility": "station", "new_only": True, "min": 1, "max": 2}])
    row = _rows(pm.milp, "C4 count target 0")
    assert sorted(row.indices.tolist()) == sorted([_y(pm, A, STATION), _y(pm, C, STATION)])
    block = pm.milp.row_block("C4 count target 0")
    assert (pm.milp.row_lb[block.start], pm.milp.row_ub[block.start]) == (1.0, 2.0)


def test_a_land_target_weights_each_open_facility_by_its_land() -> None:
    """0.5 m² per elderly person x 150 = 75 m²; only the station has land (300 m²)."""
    pm, _, _ = _built([{"kind": "land", "per_capita_m2": 0.5, "population": "elderly"}])
    row = _rows(pm.milp, "C5 land target 0").toarray()[0]
    stations = [_y(pm, s, STATION) for s in (A, B, C)]
    assert row[stations].tolist() == [300.0] * 3 and np.count_nonzero(row) == 3
    assert pm.milp.row_lb[pm.milp.row_block("C5 land target 0").start] == 75.0


def test_row_blocks_carry_the_constraint_family_labels_in_build_order() -> None:
    pm, _, _ = _built([*SHARES, {"kind": "count", "facility": "meal", "min": 1},
                       {"kind": "land", "per_capita_m2": 0.1, "population": "elderly"}])
    assert [b.name for b in pm.milp.row_blocks] == [
        "C1a host open", "C1b one factor", "C11 assign to open", "C12 assign once", "C13 capacity",
        "C2 coverage link", "C3 coverage target 0", "C3 coverage target 1", "C4 count target 2",
        "C5 land target 3", "C6 capital budget", "C7 annual budget", "C8 coverage level",
        "C9 shortfall level", "C10 distance level"]
    assert [b.name for b in pm.milp.var_blocks] == ["y", "d", "x"]
    assert sum(b.size for b in pm.milp.row_blocks) == pm.milp.n_rows


def test_budgets_set_the_capital_and_annual_rows() -> None:
    pm, _, _ = _built(budget={"capital": 180, "annual": 25, "horizon_years": 5})
    assert (pm.milp.row_ub[pm.capital_row], pm.milp.row_ub[pm.annual_row]) == (180.0, 25.0)
    assert pm.cost_c[_y(pm, A, STATION)] == pytest.approx(100 + 5 * 10)


def test_max_coverage_weights_every_served_unit_by_its_first_weight() -> None:
    pm, _, _ = _built([], objective="max_coverage")
    x = pm.milp.var_block("x")
    assert x.size == 10
    assert pm.coverage_c[x.start:x.stop].tolist() == [-10.0, -20.0, -30.0, -40.0, -50.0] * 2
    level = _rows(pm.milp, "C8 coverage level").toarray()[0]
    assert level[x.start:x.stop].tolist() == [10.0, 20.0, 30.0, 40.0, 50.0] * 2


def test_elastic_targets_get_a_shortfall_variable_bounded_by_their_requirement() -> None:
    pm, _, _ = _built(elastic=True)
    assert [(t.shortfall >= 0).sum() for t in pm.targets] == [1, 1]
    sf = [int(t.shortfall[0]) for t in pm.targets]
    assert pm.milp.ub[sf].tolist() == [3.0, 75.0]
    assert pm.milp.integrality[sf].tolist() == [IMPLIED_INTEGER, IMPLIED_INTEGER]
    # Penalties p_k = round(10^6 / required) / 10^6: each shortfall relative to its requirement.
    assert pm.shortfall_c[sf].tolist() == [pytest.approx(0.333333), pytest.approx(0.013333)]
    assert _rows(pm.milp, "C3 coverage target 0").toarray()[0, sf[0]] == 1.0


def test_a_capacitated_type_assigns_only_on_reach_pairs() -> None:
    """Meal capacity 25 in elderly x uptake 0.5: loads 5, 10, 15, 20 (u5 has no pair)."""
    types = copy.deepcopy(TYPES)
    types["meal"] |= {"capacity": 25, "capacity_weight": "elderly", "uptake": 0.5}
    pm, _, reach = _built(types=types)
    z = pm.milp.var_block("z meal")
    assert z.size == reach.by_type[MEAL].nnz == 5
    assert list(zip(pm.z_unit.tolist(), pm.z_site.tolist())) == [(0, A), (1, A), (1, B), (2, B), (3, B)]
    assert (pm.milp.integrality[z.start:z.stop] == CONTINUOUS).all()
    assert pm.milp.row_block("C11 assign to open").size == 5
    capacity = _rows(pm.milp, "C13 capacity").toarray()
    assert capacity[0, [z.start, z.start + 1, _y(pm, A, MEAL)]].tolist() == [5.0, 10.0, -25.0]
    assert capacity[1, [z.start + 2, z.start + 3, z.start + 4, _y(pm, B, MEAL)]].tolist() == [10.0, 15.0, 20.0,
                                                                                                  -25.0]


def test_coverage_rows_stay_sparse_on_a_seeded_city() -> None:
    """400 units and 60 sites over 10 km with a 700 m radius: a dense block would hold 24,000
    entries per type; the links hold exactly the reach pairs plus one x per row."""
    rng = np.random.default_rng(7)
    units = [{"id": f"u{i}", "xy": tuple(rng.uniform(0, 10_000, 2)), "kind": "urban", "zone": "Z",
              "pop": int(rng.integers(1, 50))} for i in range(400)]
    sites = [{"id": f"s{s}", "xy": tuple(rng.uniform(0, 10_000, 2)), "zone": "Z", "allowed": "station",
              "existing": ""} for s in range(60)]
    doc = scenario_doc(units, sites, {"station": TYPES["station"]},
                       [{"kind": "coverage", "facility": "station", "min_share": 0.5}])
    scenario, base_dir = parse_scenario(doc)
    region = load_region(scenario, base_dir)
    reach = build_reach(scenario, region, base_dir)
    pm = build_model(scenario, region, reach)
    link = _rows(pm.milp, "C2 coverage link")
    assert link.shape[0] == 400
    assert link.nnz == reach.by_type[0].nnz + 400
    assert 0 < reach.by_type[0].nnz < 0.1 * 400 * 60
