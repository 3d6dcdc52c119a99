"""Exact reductions (optimizer.model.reduce): the optimum never moves, each reduction fires where it
is safe and stays away where it is not."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.plan import PlanResult, Prepared, prepare_tables, solve_prepared, weighted_coverage
from optimizer.report.document import plan_document

MODES = ("full_cover", "partial", "max_coverage")


def _scenario(targets: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": 1,
        "demand": {"id": "id", "group": "group", "zone": "zone", "weights": {"people": "w"}},
        "sites": {"id": "id", "existing": "existing", "cost": {"f": "c_f", "g": "c_g"}},
        "facility_types": {"f": {"radius_m": 10, "capital_cost": 300, "annual_cost": 10},
                           "g": {"radius_m": 15, "capital_cost": 200, "annual_cost": 5}},
        "targets": targets, "solver": {"mip_gap": 0.0, "time_limit_s": 30},
    }
    doc.update(extra)
    doc["sites"]["cost"] = {t: f"c_{t}" for t in doc["facility_types"]}
    return doc


def random_tables(seed: int, mode: str) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """6-20 units drawn from 2-7 reach patterns (so units share reach), 4-10 sites, two types."""
    rng = np.random.default_rng(seed)
    n, m, k = int(rng.integers(6, 21)), int(rng.integers(4, 11)), int(rng.integers(2, 8))
    patterns = np.where(rng.random((k, m)) < 0.4, rng.uniform(0, 15, (k, m)).round(), np.nan)
    pattern = rng.integers(0, k, n)
    dist = patterns[pattern]
    unit, site = np.nonzero(~np.isnan(dist))
    demand = pd.DataFrame({"id": [f"u{i}" for i in range(n)], "group": rng.choice(["a", "b"], n),
                           "zone": rng.choice(["Z1", "Z2"], n), "w": rng.integers(0, 50, n)})
    sites = pd.DataFrame({"id": [f"s{s}" for s in range(m)], "c_f": rng.integers(1, 5, m) * 100.0,
                          "c_g": rng.integers(1, 5, m) * 100.0,
                          "existing": np.where(rng.random(m) < 0.1, "g", "")})
    pairs = pd.DataFrame({"demand_id": demand["id"].to_numpy()[unit], "site_id": sites["id"].to_numpy()[site],
                          "distance": dist[unit, site]})
    return _random_doc(rng, mode), demand, sites, pairs


def _random_doc(rng: np.random.Generator, mode: str) -> dict[str, Any]:
    share = {"kind": "coverage", "facility": "g", "measure": str(rng.choice(["units", "people"])),
             "min_share": float(rng.choice([0.3, 0.6])), "per_zone": bool(rng.random() < 0.5)}
    if mode == "full_cover":
        targets = [{"kind": "coverage", "facility": "f", "min_share": 1.0}] + ([share] if rng.random() < 0.5 else [])
        return _scenario(targets)
    if mode == "partial":
        targets = [share, {"kind": "coverage", "facility": "f", "group": "a", "min_share": 0.5}]
        if rng.random() < 0.5:
            targets.append({"kind": "count", "facility": "g", "max": int(rng.integers(1, 4))})
        return _scenario(targets)
    budget = {"capital": float(rng.integers(2, 10)) * 100.0, "annual": None, "horizon_years": 3}
    return _scenario([share] if rng.random() < 0.3 else [], objective="max_coverage", budget=budget)


def _figures(result: PlanResult) -> tuple[Any, ...]:
    """Status, then the lexicographic objectives (coverage for max_coverage, then cost)."""
    if result.checked is None or result.status == "infeasible":
        return (result.status,)
    coverage = weighted_coverage(result.prepared, result.checked) \
        if result.prepared.scenario.objective == "max_coverage" else 0.0
    return (result.status, round(coverage, 6), round(result.checked.cost["total"], 3))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31), st.sampled_from(MODES))
def test_reductions_keep_the_optimum(seed: int, mode: str) -> None:
    doc, demand, sites, pairs = random_tables(seed, mode)
    plain = solve_prepared(prepare_tables(doc, demand, sites, pairs, reduce=False))
    reduced = solve_prepared(prepare_tables(doc, demand, sites, pairs))   # checker-validated inside
    assert _figures(reduced) == _figures(plain)


def test_reductions_fire_on_random_instances() -> None:
    """The property above is not vacuous: across seeds, every kind of reduction happens."""
    seen: dict[str, int] = {}
    for seed in range(30):
        for mode in MODES:
            reductions = _prep(*random_tables(seed, mode)).reductions
            assert reductions is not None
            for kind in ("units_merged", "rows_dropped", "sites_dropped", "sites_forced"):
                seen[kind] = seen.get(kind, 0) + reductions.total(kind)
    assert all(count > 0 for count in seen.values()), seen


def _prep(doc: dict[str, Any], demand: pd.DataFrame, sites: pd.DataFrame, pairs: pd.DataFrame) -> Prepared:
    return prepare_tables(doc, demand, sites, pairs)


def _tables(units: list[tuple[str, str]], costs: dict[str, float],
            reach: list[tuple[str, str]]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Units (id, group) in one zone; sites with a cost for f; reach pairs at distance 1."""
    demand = pd.DataFrame({"id": [u for u, _ in units], "group": [g for _, g in units], "zone": "Z",
                           "w": 10})
    sites = pd.DataFrame({"id": list(costs), "c_f": list(costs.values()), "c_g": 100.0, "existing": ""})
    pairs = pd.DataFrame({"demand_id": [u for u, _ in reach], "site_id": [s for _, s in reach],
                          "distance": 1.0})
    return demand, sites, pairs


F_ONLY = {"f": {"radius_m": 10, "capital_cost": 300, "annual_cost": 10}}


def test_units_with_the_same_reach_are_merged() -> None:
    """a and b see exactly {X}: one coverage variable carries both; c (another group) keeps its own."""
    tables = _tables([("a", "urban"), ("b", "urban"), ("c", "rural")], {"X": 100.0, "Y": 200.0},
                     [("a", "X"), ("b", "X"), ("c", "X")])
    doc = _scenario([{"kind": "coverage", "facility": "f", "min_share": 0.5}], facility_types=F_ONLY)
    prep = _prep(doc, *tables)
    assert prep.reductions is not None and prep.reductions.units_merged == {"f": 1}
    x = prep.model.milp.var_block("x").start + np.flatnonzero(prep.model.x_unit == 1)
    assert prep.model.milp.ub[x] == [0.0]
    result = solve_prepared(prep)
    assert result.checked is not None and result.checked.cost["total"] == pytest.approx(130.0)
    assert list(result.checked.covered["f"]) == [True, True, True]


def test_dominated_site_is_closed() -> None:
    """X reaches {a} and costs 300, Y reaches {a, b} and costs 100: X is never needed."""
    tables = _tables([("a", "urban"), ("b", "urban"), ("c", "urban")], {"X": 300.0, "Y": 100.0, "Z": 100.0},
                     [("a", "X"), ("a", "Y"), ("b", "Y"), ("c", "Z")])
    doc = _scenario([{"kind": "coverage", "facility": "f", "min_share": 0.6}], facility_types=F_ONLY)
    prep = _prep(doc, *tables)
    assert prep.reductions is not None and prep.reductions.sites_dropped == {"f": 1}
    y = prep.model.milp.var_block("y").start + np.flatnonzero(prep.model.y_site == 0)
    assert prep.model.milp.ub[y] == [0.0]
    assert solve_prepared(prep).checked.cost["total"] == pytest.approx(130.0)


def test_equal_sites_keep_the_lowest_index() -> None:
    tables = _tables([("a", "urban")], {"X": 100.0, "Y": 100.0}, [("a", "X"), ("a", "Y")])
    doc = _scenario([{"kind": "coverage", "facility": "f", "min_share": 0.5}], facility_types=F_ONLY)
    prep = _prep(doc, *tables)
    ub = prep.model.milp.ub[prep.model.milp.var_block("y").start + np.arange(2)]
    assert list(ub) == [1.0, 0.0]


def test_singleton_row_forces_its_site_and_supersets_are_dropped() -> None:
    """Full coverage: b is reached by Y alone (Y forced open); a's row {X, Y} contains b's (dropped)."""
    tables = _tables([("a", "urban"), ("b", "urban"), ("c", "urban")], {"X": 100.0, "Y": 300.0, "Z": 100.0},
                     [("a", "X"), ("a", "Y"), ("b", "Y"), ("c", "Z"), ("c", "X")])
    doc = _scenario([{"kind": "coverage", "facility": "f", "min_share": 1.0}], facility_types=F_ONLY)
    prep = _prep(doc, *tables)
    red = prep.reductions
    assert red is not None
    assert red.sites_forced["f"] >= 1 and red.rows_dropped["f"] == 1
    y = prep.model.milp.var_block("y").start + np.flatnonzero(prep.model.y_site == 1)
    assert prep.model.milp.lb[y] == [1.0]
    assert solve_prepared(prep).checked.cost["total"] == pytest.approx(300 + 30 + 100 + 30)


def test_capacities_switch_every_reduction_off() -> None:
    """Assignment variables exist: no merging, no row or site dominance, and the plan says so."""
    tables = _tables([("a", "urban"), ("b", "urban")], {"X": 300.0, "Y": 100.0},
                     [("a", "X"), ("a", "Y"), ("b", "X"), ("b", "Y")])
    ftypes = {"f": F_ONLY["f"] | {"capacity": 15}}
    for share in (0.5, 1.0):
        doc = _scenario([{"kind": "coverage", "facility": "f", "measure": "people", "min_share": share}],
                        facility_types=ftypes)
        prep = _prep(doc, *tables)
        red = prep.reductions
        assert red is not None
        assert sum(red.total(kind) for kind in ("units_merged", "rows_dropped", "sites_dropped",
                                                 "sites_forced")) == 0
        assert any("'f'" in note and ("capacit" in note or "assignment" in note) for note in red.notes)
        bare = prepare_tables(doc, *tables, reduce=False).model.milp
        for name in ("lb", "ub", "row_lb", "row_ub"):
            assert np.array_equal(getattr(prep.model.milp, name), getattr(bare, name))


def test_colocation_and_count_minimum_keep_sites() -> None:
    tables = _tables([("a", "urban")], {"X": 300.0, "Y": 100.0}, [("a", "X"), ("a", "Y")])
    ftypes = {"f": F_ONLY["f"], "g": {"radius_m": 10, "capital_cost": 200, "annual_cost": 5,
                                      "colocate": {"f": 0.5}}}
    doc = _scenario([{"kind": "coverage", "facility": "f", "min_share": 0.5},
                     {"kind": "count", "facility": "g", "min": 1}], facility_types=ftypes)
    red = _prep(doc, *tables).reductions
    assert red is not None and red.total("sites_dropped") == 0
    assert any("co-location host" in n for n in red.notes) and any("count" in n for n in red.notes)


def test_plan_reports_reductions_and_can_go_without() -> None:
    tables = _tables([("a", "urban"), ("b", "urban")], {"X": 300.0, "Y": 100.0}, [("a", "X"), ("b", "X")])
    doc = _scenario([{"kind": "coverage", "facility": "f", "min_share": 0.5}], facility_types=F_ONLY)
    plan = plan_document(solve_prepared(_prep(doc, *tables)))
    assert plan["reductions"]["applied"] and plan["reductions"]["totals"]["units_merged"] == 1
    assert plan["reductions"]["totals"]["sites_dropped"] == 1     # Y reaches nobody
    bare = plan_document(solve_prepared(prepare_tables(doc, *tables, reduce=False)))
    assert bare["reductions"] == {"applied": False}
    assert bare["cost"] == plan["cost"]
