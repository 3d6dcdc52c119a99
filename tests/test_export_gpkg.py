"""plan.gpkg: GDAL's own ogrinfo opens it; layers, counts, CRS, aliases and QGIS styles match the plan."""

from __future__ import annotations

import math
import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from pyproj import Transformer
from typer.testing import CliRunner

from optimizer.export import write_exports
from optimizer.export.layers import plan_layers
from tests.export_helpers import example_bundle, ogrinfo_layers


@pytest.fixture(scope="module")
def gpkg_utm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gpkg_utm")
    write_exports(example_bundle(), out, formats=("gpkg",))
    return out / "plan.gpkg"


@pytest.fixture(scope="module")
def gpkg_cgcs2000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gpkg_4490")
    write_exports(example_bundle(), out, formats=("gpkg",), crs="EPSG:4490")
    return out / "plan.gpkg"


def test_ogrinfo_lists_every_layer_with_the_plans_feature_counts_and_the_scenario_crs(gpkg_utm: Path) -> None:
    bundle = example_bundle()
    plan = bundle.plan
    layers, stderr = ogrinfo_layers(gpkg_utm)
    assert list(layers) == ["zones", "service_areas", "demand", "facilities", "targets", "plan_info", "layer_styles"]
    n_zone_rows = sum(len(t.get("zones") or []) for t in plan["targets"])
    expected = {"facilities": len(plan["facilities"]), "service_areas": len(plan["facilities"]),
                "demand": bundle.region.demand.n, "zones": len(plan["zones"]),
                "targets": len(plan["targets"]) + n_zone_rows, "layer_styles": 4}
    assert {name: layers[name]["count"] for name in expected} == expected
    for name in ("zones", "service_areas", "demand", "facilities"):
        assert layers[name]["epsg"] == 32650, name
    assert layers["facilities"]["geometry"] == "Point"
    assert layers["zones"]["geometry"] == layers["service_areas"]["geometry"] == "Multi Polygon"
    assert layers["plan_info"]["geometry"] == "None"
    assert "Warning" not in stderr and "ERROR" not in stderr   # GeoPackage 1.2: old GDALs read it cleanly


def test_crs_option_reprojects_to_cgcs2000_and_keeps_every_facility_in_place(gpkg_cgcs2000: Path) -> None:
    layers, _ = ogrinfo_layers(gpkg_cgcs2000)
    assert {layers[n]["epsg"] for n in ("zones", "service_areas", "demand", "facilities")} == {4490}
    bundle = example_bundle()
    written = pyogrio.read_dataframe(gpkg_cgcs2000, layer="facilities")
    s = [list(bundle.region.sites.ids).index(site) for site in written["site"]]
    lon, lat = Transformer.from_crs("EPSG:32650", "EPSG:4490", always_xy=True).transform(
        *bundle.region.sites.xy[s].T)
    assert np.allclose(written.geometry.x, lon, atol=1e-7) and np.allclose(written.geometry.y, lat, atol=1e-7)
    info = pyogrio.read_dataframe(gpkg_cgcs2000, layer="plan_info").set_index("key")["value"]
    assert info["layer_crs"] == "EPSG:4490" and info["distance_crs"] == "EPSG:32650"
    assert info["status"] == "optimal" and float(info["gap"]) == pytest.approx(0.0, abs=1e-4)


def test_gdal_reads_the_chinese_field_aliases_as_alternative_names(gpkg_utm: Path) -> None:
    names = {}
    for layer in ("facilities", "demand", "zones"):
        with pyogrio.raw.open_arrow(gpkg_utm, layer=layer, use_pyarrow=True) as (_, reader):
            names[layer] = {f.name: (f.metadata or {}).get(b"GDAL:OGR:alternative_name", b"").decode()
                            for f in reader.schema}
    assert names["facilities"]["site"] == "站点编号"
    assert names["facilities"]["capital_cost"] == "建设投资（元）"
    assert names["facilities"]["served_elderly"] == "服务人口（elderly）"
    assert names["demand"]["cov_station"] == "社区养老服务站是否覆盖"   # by the type's label
    assert names["demand"]["dist_meal_point"] == "至最近老年助餐点距离（米）"
    assert names["facilities"]["name"] == "站点名称" and names["facilities"]["label"] == "设施类型名称"
    assert names["zones"]["t3_met"] == "目标3是否达成"


def _columns(path: Path, layer: str) -> list[str]:
    return list(pyogrio.read_info(path, layer=layer)["fields"])


def test_layer_styles_hold_a_default_qml_and_sld_whose_rules_cover_every_value(gpkg_utm: Path) -> None:
    with closing(sqlite3.connect(gpkg_utm)) as db:
        styles = db.execute("SELECT f_table_name, f_geometry_column, styleQML, styleSLD, useAsDefault "
                            "FROM layer_styles").fetchall()
        geometry_columns = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
    assert sorted(row[0] for row in styles) == ["demand", "facilities", "service_areas", "zones"]
    for table, geometry_column, qml, sld, default in styles:
        assert default == 1 and geometry_column == geometry_columns[table]
        rules = ET.fromstring(qml.split("\n", 1)[1]).findall("./renderer-v2/rules/rule")
        assert len(rules) == len(ET.fromstring(sld.split("\n", 1)[1]).findall(".//{http://www.opengis.net/se}Rule"))
        fields = {f for rule in rules for f in _filter_fields(rule.get("filter", ""))}
        assert fields <= set(_columns(gpkg_utm, table)), table
    frame = pyogrio.read_dataframe(gpkg_utm, layer="facilities")
    qml = dict((row[0], row[2]) for row in styles)["facilities"]
    for site_type, new in frame[["type", "new"]].drop_duplicates().itertuples(index=False):
        assert f"\"type\" = '{site_type}' AND \"new\" = {new}" in qml.replace("&quot;", '"')


def _filter_fields(expression: str) -> list[str]:
    return [part.split('"')[1] for part in expression.split(" AND ") if part.startswith('"')]


def test_facility_layer_carries_the_plans_figures_and_serves_every_covered_unit_once() -> None:
    bundle = example_bundle()
    layers = plan_layers(bundle)
    facilities = layers["facilities"]
    plan = {(f["site"], f["type"]): f for f in bundle.plan["facilities"]}
    assert len(facilities) == len(plan)
    for row in facilities.itertuples(index=False):
        expected = plan[(row.site, row.type)]
        assert row.new == int(expected["new"]) and row.capital_cost == pytest.approx(expected["capital_cost"])
    for name, covered in bundle.checked.covered.items():
        served = facilities[facilities["type"] == name]
        assert served["served_units"].sum() == covered.sum(), name
        assert served["served_elderly"].sum() == pytest.approx(bundle.region.demand.weights["elderly"][covered].sum())
    areas = layers["service_areas"]
    radius = areas["radius_m"].to_numpy()
    assert np.allclose(areas.area, math.pi * radius**2, rtol=0.01)   # 64-gon of the service radius


def test_zones_layer_gives_each_per_zone_target_row_of_the_checker() -> None:
    bundle = example_bundle()
    zones = plan_layers(bundle)["zones"].set_index("zone")
    per_zone = next(t for t in bundle.plan["targets"] if t.get("zones"))
    k = per_zone["index"]
    for row in per_zone["zones"]:
        assert zones.loc[row["zone"], f"t{k}_ach"] == row["achieved"]
        assert zones.loc[row["zone"], f"t{k}_met"] == int(row["met"])
    assert set(zones["target_class"]) == {"met"}   # the example meets its per-zone target everywhere
    assert zones.geometry.is_valid.all() and (zones.area > 0).all()


def test_zones_take_official_boundaries_when_the_scenario_names_them(tmp_path: Path) -> None:
    """Pingyin ships township polygons: the zones layer carries them, not hull sketches."""
    import geopandas as gpd

    from optimizer.cli.main import app

    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "pingyin-2026.json"
    result = CliRunner().invoke(app, ["solve", str(scenario), "--out", str(tmp_path), "--formats", "gpkg"])
    assert result.exit_code == 0, result.output
    zones = gpd.read_file(tmp_path / "plan.gpkg", layer="zones")
    townships = gpd.read_file(scenario.parent.parent / "geodata" / "pingyin" / "pingyin.gpkg", layer="townships")
    assert set(zones["zone"]) == set(townships["zone"])
    assert zones["boundary"].str.startswith("boundary from").all()
    merged = zones.set_index("zone").geometry.area.sort_index()
    official = townships.set_index("zone").geometry.area.sort_index()
    assert merged.to_numpy() == pytest.approx(official.to_numpy(), rel=1e-6)
