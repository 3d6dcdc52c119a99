"""The shipped demo county 平阴县: regenerated identically, official names and codes, calibrated totals.

Positions, populations, roads and sites are synthetic (geodata/pingyin/PROVENANCE.md); the
names, codes and urban / rural class are the NBS roster's.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import jsonschema
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from optimizer.plan import solve_file
from optimizer.reach.network import build_street_graph, snap_points, walkable_mask

ROOT = Path(__file__).resolve().parents[1]
REGION = ROOT / "geodata" / "pingyin"
GPKG = REGION / "pingyin.gpkg"
ROSTER = ROOT.parent / "shared" / "geodata" / "nbs-roster"
TYPES = {"station", "meal_point", "happiness_home", "centre", "institution", "dementia_centre"}


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pingyin_build", REGION / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _layer(name: str, path: Path = GPKG) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer=name)


def test_generator_recreates_every_layer_of_the_shipped_geopackage(tmp_path: Path) -> None:
    _build_module().main(tmp_path / "pingyin.gpkg")
    for name in ("demand", "sites", "townships", "roads"):
        made, shipped = _layer(name, tmp_path / "pingyin.gpkg"), _layer(name)
        assert made.crs == shipped.crs == "EPSG:32650"
        pd.testing.assert_frame_equal(pd.DataFrame(made.drop(columns="geometry")),
                                      pd.DataFrame(shipped.drop(columns="geometry")))
        assert shapely.equals_exact(made.geometry.values, shipped.geometry.values, tolerance=0.0).all(), name


def test_roster_csvs_are_the_official_rows_of_the_county_unchanged() -> None:
    if not ROSTER.is_dir():
        pytest.skip(f"the official roster is not at {ROSTER}")
    for name in ("townships_nbs2023.csv", "villages_nbs2023.csv"):
        official = pd.read_csv(ROSTER / name, dtype=str)
        county = official[official["areaCode"] == "370124"].reset_index(drop=True)
        pd.testing.assert_frame_equal(pd.read_csv(REGION / name, dtype=str), county)


def test_every_unit_carries_its_official_code_name_township_and_class() -> None:
    demand = _layer("demand").set_index("id")
    roster = pd.read_csv(REGION / "villages_nbs2023.csv", dtype=str).set_index("code")
    townships = pd.read_csv(REGION / "townships_nbs2023.csv", dtype=str).set_index("code")["name"]
    assert sorted(demand.index) == sorted(roster.index) and len(demand) == 337
    assert (demand["name"] == roster.loc[demand.index, "name"]).all()
    assert (demand["township"] == townships.loc[roster.loc[demand.index, "streetCode"]].to_numpy()).all()
    assert (demand["zone"] == demand["township"]).all()
    urban = demand.index[demand["kind"] == "urban"]
    assert len(urban) == 29 and demand.loc[urban, "name"].str.endswith("社区居民委员会").all()
    assert demand.loc[demand["kind"] == "rural", "name"].str.endswith("村民委员会").all()
    layer = _layer("townships")
    assert sorted(layer["name"]) == sorted(townships) and layer["units"].sum() == 337


def test_population_totals_are_the_calibration_of_provenance() -> None:
    demand = _layer("demand")
    assert (demand["pop"].sum(), demand["pop60"].sum(), demand["pop80"].sum()) == (325_011, 74_755, 10_164)
    assert demand["pop60"].sum() / demand["pop"].sum() == pytest.approx(0.23, abs=0.001)
    assert demand["pop80"].sum() / demand["pop60"].sum() == pytest.approx(0.136, abs=0.001)
    rural, urban = demand[demand["kind"] == "rural"], demand[demand["kind"] == "urban"]
    assert rural["pop"].between(300, 2_500).all() and urban["pop"].between(1_500, 9_000).all()
    assert (demand["pop80"] <= demand["pop60"]).all() and (demand["pop60"] <= demand["pop"]).all()
    assert _layer("townships").area.sum() / 1e6 == pytest.approx(827.0, abs=0.1)


def test_households_give_the_census_household_size() -> None:
    demand = _layer("demand")
    assert demand["hh"].sum() == 124_054 and (demand["hh"] > 0).all()
    assert demand["pop"].sum() / demand["hh"].sum() == pytest.approx(2.62, abs=0.005)
    assert (demand["pop"] / demand["hh"]).between(2.62 * 0.9, 2.62 * 1.1).all()
    assert _layer("townships")["hh"].sum() == demand["hh"].sum()


def test_existing_institutions_have_beds_below_the_plans_nursing_share() -> None:
    """Synthetic: every 敬老院 and two 卫生院 are institutions already, 1,140 beds, 42% nursing."""
    sites = _layer("sites")
    beds = sites[["beds_nursing", "beds_ordinary", "beds_dementia"]]
    assert (beds >= 0).all().all() and beds.sum().tolist() == [484, 656, 0]
    holding = beds.sum(axis=1) > 0
    institutions = sites["existing_all"].fillna("").str.split(",").map(lambda t: "institution" in t)
    assert (holding == institutions).all() and holding.sum() == 8
    assert set(sites.loc[holding, "kind_zh"]) == {"敬老院", "卫生院"}
    assert (sites.loc[sites["kind"] == "nursing_home", "existing_all"].str.contains("institution")).all()
    assert beds["beds_nursing"].sum() / beds.sum().sum() < 0.6


def test_units_lie_in_pingyin_in_their_own_township_cell() -> None:
    demand, townships = _layer("demand"), _layer("townships")
    lonlat = demand.to_crs("EPSG:4326").geometry
    assert lonlat.x.between(116.2, 116.65).all() and lonlat.y.between(36.05, 36.45).all()
    cells = townships[["name", "geometry"]].rename(columns={"name": "cell"})
    joined = gpd.sjoin(demand, cells, predicate="within")
    assert len(joined) == 337 and (joined["township"] == joined["cell"]).all()


def test_sites_name_their_unit_and_host_only_the_county_types() -> None:
    sites = _layer("sites")
    codes = set(pd.read_csv(REGION / "villages_nbs2023.csv", dtype=str)["code"])
    codes |= set(pd.read_csv(REGION / "townships_nbs2023.csv", dtype=str)["code"]) | {"370124"}
    assert sites["id"].is_unique and set(sites["unit_code"]) <= codes
    allowed = sites["allowed"].fillna("").str.split(",")
    allowed_all = sites["allowed_all"].fillna("").str.split(",")
    existing = sites["existing"].fillna("").str.split(",")
    existing_all = sites["existing_all"].fillna("").str.split(",")
    for base, every, open_now, open_all in zip(allowed, allowed_all, existing, existing_all, strict=True):
        assert set(base) - {""} <= set(every) - {""} <= TYPES and set(open_now) - {""} <= set(every)
        assert set(open_now) - {""} <= set(open_all) and set(open_all) - {""} <= set(every)
    for t in TYPES:
        hosts = np.array([t in a for a in allowed_all])
        assert sites.loc[hosts, f"cost_{t}"].gt(0).all() and sites.loc[~hosts, f"cost_{t}"].isna().all()
    assert sites.loc[sites["existing"] == "centre", "name"].tolist() == ["东阿镇敬老院"]


def test_walkable_roads_form_one_network_that_every_unit_reaches() -> None:
    roads = _layer("roads")
    keep = walkable_mask(roads)
    assert set(roads.loc[~keep, "highway"]) == {"motorway"}
    graph = build_street_graph(roads.geometry[keep])
    n = graph.n_nodes
    count, _ = connected_components(coo_array((np.ones(graph.n_segments), (graph.seg_u, graph.seg_v)),
                                              shape=(n, n)), directed=False)
    assert count == 1 and 2_000 < graph.n_segments < 10_000
    demand = _layer("demand")
    access = snap_points(graph, shapely.get_coordinates(demand.geometry)).access_m
    assert access.max() < 150.0


def test_default_scenario_is_valid_against_the_published_schema() -> None:
    schema = json.loads((ROOT / "scenarios" / "schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads((ROOT / "scenarios" / "pingyin-2026.json").read_text(encoding="utf-8")), schema)


def test_readme_first_command_solves_the_pingyin_default() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = readme.split("```bash\n", 1)[1].splitlines()[0]
    assert "eldercare solve scenarios/pingyin-2024-2026.json" in first


def test_default_programme_meets_every_target_in_every_year_on_walking_distances() -> None:
    """The README's first command: the 2024-2026 programme, proven optimal (gap within 0.1%)."""
    result = solve_file(ROOT / "scenarios" / "pingyin-2024-2026.json")
    assert result.all_targets_met and result.status == "optimal"
    assert result.prepared.reach.source == "network"
    assert result.checked is not None and not result.checked.violations
    gap = result.solution.phases[-1].result.gap
    assert gap is not None and gap <= 1e-3


def test_default_plan_meets_every_target_on_walking_distances() -> None:
    result = solve_file(ROOT / "scenarios" / "pingyin-2026.json")
    assert result.all_targets_met and result.status == "optimal"
    assert result.prepared.reach.source == "network"
    checked = result.checked
    assert checked is not None
    assert [t["met"] for t in checked.targets] == [True] * 4
    assert checked.cost["total"] == pytest.approx(57_841_200, rel=2e-3)


PHASED = ROOT / "scenarios" / "pingyin-2024-2026.json"


def test_phased_programme_is_valid_against_the_published_schema() -> None:
    schema = json.loads((ROOT / "scenarios" / "schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(PHASED.read_text(encoding="utf-8")), schema)


def test_phased_programme_solves_to_a_proven_optimum_with_every_target_met_every_year() -> None:
    """2024-2026, growth, yearly capital, dated targets, bed conversions: optimal in about a second of HiGHS."""
    result = solve_file(PHASED)
    assert result.status == "optimal" and result.all_targets_met
    checked = result.checked
    gaps = [phase.result.gap for phase in result.solution.phases]
    assert checked is not None and gaps and all(g is not None and g <= 1e-3 for g in gaps)
    assert [t["met"] for t in checked.targets] == [True] * 8
    years = checked.years
    assert sorted(years) == ["2024", "2025", "2026"]
    assert all(all(t["met"] for t in year["targets"]) for year in years.values())
    assert all(years[y]["capital"] <= cap + 1 for y, cap in (("2024", 8e6), ("2025", 12e6), ("2026", 10e6)))
    beds = years["2026"]["beds"]
    assert beds["nursing"] / sum(beds.values()) >= 0.7 and beds["dementia"] >= 40
    assert any(a["action"] == "convert_to_nursing" for a in checked.bed_actions)
