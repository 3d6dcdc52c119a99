"""map.png and targets.png: real PNGs of the plan (Agg), roads drawn when the scenario has a network."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
from PIL import Image
from shapely.geometry import LineString

from optimizer.export.charts import network_lines, write_map_png, write_targets_png
from optimizer.export.layers import plan_layers
from optimizer.scenario.fields import NetworkSpec
from tests.export_helpers import ARTIFACTS, example_bundle


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
