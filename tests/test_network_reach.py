"""Walking reach: a river with one bridge, snapping mid-edge, limits, the cache, the plan section."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from optimizer.plan import prepare, solve_file
from optimizer.report.document import plan_document
from optimizer.scenario.format import load_scenario, parse_scenario
from tests.conftest import scenario_doc, write_scenario
from tests.network_helpers import river_with_one_bridge, write_lines


def _prepared(path: Path, **network: object):
    scenario, base_dir = load_scenario(path)
    if network:
        assert scenario.network is not None
        scenario = scenario.model_copy(update={"network": scenario.network.model_copy(update=network)})
    return prepare(scenario, base_dir)


def test_river_with_one_bridge_is_in_reach_in_a_straight_line_but_not_on_foot(tmp_path: Path) -> None:
    path = river_with_one_bridge(tmp_path)
    walking = _prepared(path)
    straight = prepare(load_scenario(path)[0].model_copy(update={"network": None}), tmp_path)
    assert walking.reach.source == "network"
    assert walking.reach.by_type[0].indptr.tolist() == [0, 0, 1]      # S: nothing within 1,000 m
    assert walking.reach.by_type[0].data == pytest.approx([70.0])
    assert straight.reach.by_type[0].indptr.tolist() == [0, 1, 2]
    assert straight.reach.by_type[0].data == pytest.approx([120.0, (50**2 + 20**2) ** 0.5])


def test_plan_counts_units_straight_line_would_cover_but_walking_does_not(tmp_path: Path) -> None:
    result = solve_file(river_with_one_bridge(tmp_path))
    assert result.checked is not None
    assert result.checked.nearest["station"] == pytest.approx([1320.0, 70.0])
    assert result.checked.covered["station"].tolist() == [False, True]
    plan = plan_document(result)
    lost = plan["network"]["straight_line_only"]["station"]
    assert (lost["units"], lost["examples"], lost["elderly"]) == (1, ["S"], 10.0)
    assert plan["reach"] == "network" and plan["network"]["limits_m"] == {"station": 1000.0}
    assert json.dumps(plan)   # JSON-ready


def test_reach_value_is_access_plus_path_plus_access_between_mid_edge_points(tmp_path: Path) -> None:
    write_lines(tmp_path / "roads.gpkg", [[(0, 0), (1000, 0)]])
    units = [{"id": "U", "kind": "urban", "zone": "z", "pop": 1, "xy": (400, 30)},
             {"id": "FAR", "kind": "urban", "zone": "z", "pop": 1, "xy": (500, 420)}]
    sites = [{"id": "A", "zone": "z", "allowed": "*", "existing": "", "xy": (700, -20)}]
    doc = scenario_doc(units, sites, {"station": {"radius_m": 1000}},
                       [{"kind": "count", "facility": "station", "min": 1}], network={"path": "roads.gpkg"})
    result = solve_file(write_scenario(tmp_path, doc))
    assert result.prepared.reach.by_type[0].toarray().ravel() == pytest.approx([350.0, 640.0])
    assert result.checked is not None and result.checked.nearest["station"] == pytest.approx([350.0, 640.0])
    section = plan_document(result)["network"]
    assert section["suspicious_access"] == [{"kind": "demand", "id": "FAR", "name": None, "access_m": 420.0}]
    assert section["suspicious_access_count"] == {"demand": 1, "site": 0}


def test_walk_minutes_limit_decides_reach_on_foot(tmp_path: Path) -> None:
    path = river_with_one_bridge(tmp_path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["facility_types"]["station"] = {"walk_minutes": 1, "capital_cost": 100}
    doc["network"]["walk_speed_m_per_min"] = 60.0       # limit 60 m: N2 at 70 m drops out
    scenario, base_dir = parse_scenario(doc, base_dir=tmp_path)
    prep = prepare(scenario, base_dir)
    assert prep.reach.limits == (60.0,) and prep.reach.by_type[0].nnz == 0
    doc["facility_types"]["station"]["walk_minutes"] = 2   # 120 m
    prep = prepare(parse_scenario(doc, base_dir=tmp_path)[0], tmp_path)
    assert prep.reach.by_type[0].nnz == 1


def test_cache_is_reused_and_safe_to_delete_or_damage(tmp_path: Path) -> None:
    path = river_with_one_bridge(tmp_path)
    first = _prepared(path)
    cache = tmp_path / ".eldercare-cache"
    assert first.reach.network is not None and first.reach.network.cache == "stored"
    again = _prepared(path)
    assert again.reach.network is not None and again.reach.network.cache == "hit"
    assert (again.reach.by_type[0] != first.reach.by_type[0]).nnz == 0
    (only,) = cache.glob("*.npz")
    only.write_bytes(b"not a zip file")
    damaged = _prepared(path)
    assert damaged.reach.network is not None and damaged.reach.network.cache == "stored"
    shutil.rmtree(cache)
    assert _prepared(path).reach.network.cache == "stored"   # type: ignore[union-attr]
    assert _prepared(path, cache_dir=None).reach.network.cache == "off"   # type: ignore[union-attr]


def test_cache_key_changes_with_the_limit_and_the_network_file(tmp_path: Path) -> None:
    path = river_with_one_bridge(tmp_path)
    _prepared(path)
    assert _prepared(path).reach.network.cache == "hit"   # type: ignore[union-attr]
    assert _prepared(path, walk_speed_m_per_min=50.0).reach.network.cache == "stored"   # type: ignore[union-attr]
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["facility_types"]["station"]["radius_m"] = 900
    scenario, base_dir = parse_scenario(doc, base_dir=tmp_path)
    assert prepare(scenario, base_dir).reach.network.cache == "stored"   # type: ignore[union-attr]
    write_lines(tmp_path / "roads.gpkg", [[(-100, 0), (0, 0), (700, 0)], [(0, 0), (0, 100)]])
    rebuilt = _prepared(path)
    assert rebuilt.reach.network.cache == "stored"   # type: ignore[union-attr]
    assert rebuilt.reach.by_type[0].data == pytest.approx([120.0, 70.0])   # the bridge now stands at x = 0
