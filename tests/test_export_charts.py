"""map.png and targets.png: real PNGs of the plan (Agg), roads drawn when the scenario has a network;
a phased plan's targets.png shows every target's achievement by year."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
from PIL import Image
from shapely.geometry import LineString

from optimizer.export.charts import _target_bars, network_lines, write_map_png, write_targets_png, year_rows
from optimizer.export.layers import plan_layers
from optimizer.scenario.fields import NetworkSpec
from tests.export_helpers import ARTIFACTS, example_bundle, extended_bundle


def _contrast(path: Path) -> tuple[tuple[int, int], int]:
    with Image.open(path) as image:
        darkest, lightest = image.convert("L").getextrema()
        return image.size, lightest - darkest


def test_map_and_targets_charts_are_drawn_from_the_plan(tmp_path: Path) -> None:
    bundle = example_bundle()
    layers = plan_layers(bundle)
    size, contrast = _contrast(write_map_png(bundle, layers, tmp_path / "map.png"))
    assert size == (1800, 1350) and contrast > 150
    size, contrast = _contrast(write_targets_png(bundle, tmp_path / "targets.png"))
    bars = len(bundle.plan["targets"]) + sum(len(t.get("zones") or []) for t in bundle.plan["targets"])
    assert size[0] == 1500 and size[1] >= 150 * (1.2 + 0.32 * bars) - 2 and contrast > 150
    ARTIFACTS.mkdir(exist_ok=True)
    for name in ("map.png", "targets.png"):
        (ARTIFACTS / name).write_bytes((tmp_path / name).read_bytes())


def test_roads_of_a_network_are_read_in_the_plans_crs_and_drawn(tmp_path: Path) -> None:
    bundle = example_bundle()
    roads = gpd.GeoDataFrame({"name": ["经十路", "历山路"]},
                             geometry=[LineString([(116.95, 36.60), (117.08, 36.60)]),
                                       LineString([(117.02, 36.55), (117.02, 36.66)])], crs="EPSG:4326")
    roads.to_file(tmp_path / "roads.gpkg", layer="roads", engine="pyogrio")
    scenario = bundle.scenario.model_copy(update={"network": NetworkSpec.model_validate(
        {"path": "roads.gpkg", "layer": "roads"})})
    with_roads = replace(bundle, scenario=scenario, base_dir=tmp_path)
    lines = network_lines(with_roads)
    assert lines is not None and lines.crs == "EPSG:32650" and len(lines) == 2
    assert lines.total_bounds[0] > 490_000   # metres, not degrees
    size, _ = _contrast(write_map_png(with_roads, plan_layers(bundle), tmp_path / "map.png"))
    assert size == (1800, 1350)
    assert network_lines(bundle) is None


def test_targets_chart_of_a_phased_plan_has_achievement_by_year(tmp_path: Path) -> None:
    bundle = extended_bundle()
    names, rows = year_rows(bundle)
    assert names == ["2024", "2025", "2026"]
    years = bundle.plan["years"]
    for p, year in enumerate(names):   # a filled cell per target (per zone) that holds in that year, as plan.json says
        expected = sum(len(t.get("zones") or [None]) for t in years[year]["targets"])
        assert sum(cells[p] is not None for _, cells in rows) == expected
    dated = next(cells for label, cells in rows if label.startswith("T5 "))   # coverage from 2024
    assert all(cell is not None and cell[1] for cell in dated)
    assert dated[0] is not None and dated[0][2] == "65.0% / 65.0%"
    share = next(cells for label, cells in rows if label.startswith("T7 "))   # a bed share from 2025
    assert share[0] is None and share[1] is not None and share[1][2].endswith("% / 61.0%")
    last = [cells[-1] for _, cells in rows]
    assert all(cell is not None for cell in last)   # every target holds in the last year
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a missing glyph would warn
        size, contrast = _contrast(write_targets_png(bundle, tmp_path / "targets.png"))
    bars = len(_target_bars(bundle))
    assert size[0] == 1500 and contrast > 150
    assert size[1] >= 150 * (1.2 + 0.32 * bars + 1.4 + 0.3 * len(rows)) - 2
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "targets_phased.png").write_bytes((tmp_path / "targets.png").read_bytes())


def test_targets_chart_of_a_one_year_plan_has_no_year_grid() -> None:
    assert example_bundle().plan.get("years") is None
