"""Every way data comes in gives the same plan: GeoPackage layers, Shapefiles, polygons,
inline features, distance tables in CSV or Parquet, and data in lon/lat with no `crs`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from optimizer import solve_file
from optimizer.inputs.geodata import load_region
from optimizer.scenario.format import load_scenario

KNOWN_LEAST_COST = 33_056_579


def _write(folder: Path, doc: dict[str, Any]) -> Path:
    path = folder / "scenario.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _least_cost(path: Path) -> float:
    result = solve_file(path, mip_gap=0.0)
    assert result.checked is not None and result.all_targets_met
    return result.checked.cost["total"]


def test_geopackage_layers_give_the_known_optimum(example_dir: Path, example_doc: dict[str, Any]) -> None:
    for name in ("demand", "sites"):
        frame = gpd.read_file(example_dir / f"{name}.geojson")
        frame.to_file(example_dir / "region.gpkg", layer=f"{name}_points", engine="pyogrio")
        example_doc[name].update(path="region.gpkg", layer=f"{name}_points")
    assert _least_cost(_write(example_dir, example_doc)) == pytest.approx(KNOWN_LEAST_COST, abs=0.5)


def test_missing_geopackage_layer_lists_the_layers(example_dir: Path, example_doc: dict[str, Any]) -> None:
    gpd.read_file(example_dir / "demand.geojson").to_file(example_dir / "d.gpkg", layer="communities")
    example_doc["demand"].update(path="d.gpkg", layer="villages")
    from optimizer.errors import GeodataError

    scenario, base = load_scenario(_write(example_dir, example_doc))
    with pytest.raises(GeodataError, match=r"demand.layer.*no layer 'villages'.*communities"):
        load_region(scenario, base)


def test_shapefile_in_utm_gives_the_known_optimum(example_dir: Path, example_doc: dict[str, Any]) -> None:
    for name in ("demand", "sites"):
        frame = gpd.read_file(example_dir / f"{name}.geojson").to_crs("EPSG:32650")
        frame = frame.rename(columns={"cost_station": "cost_st"})   # Shapefile names: 10 characters
        frame.to_file(example_dir / f"{name}.shp", engine="pyogrio")
        example_doc[name]["path"] = f"{name}.shp"
    example_doc["sites"]["cost"] = {"station": "cost_st"}
    assert _least_cost(_write(example_dir, example_doc)) == pytest.approx(KNOWN_LEAST_COST, abs=0.5)


def test_polygon_units_count_by_their_centroid(example_dir: Path, example_doc: dict[str, Any]) -> None:
    """Squares of 40 m centred on each community point: centroids are the points themselves."""
    frame = gpd.read_file(example_dir / "demand.geojson").to_crs("EPSG:32650")
    frame["geometry"] = frame.geometry.buffer(20, cap_style="square")
    frame.to_crs("EPSG:4326").to_file(example_dir / "demand.geojson", driver="GeoJSON")
    result = solve_file(_write(example_dir, example_doc), mip_gap=0.0)
    assert result.checked is not None
    assert result.checked.cost["total"] == pytest.approx(KNOWN_LEAST_COST, abs=0.5)
    assert any("centroid" in note for note in result.prepared.region.notes)


def test_no_crs_chooses_the_utm_zone_and_says_so(example_dir: Path, example_doc: dict[str, Any]) -> None:
    example_doc.pop("crs")
    result = solve_file(_write(example_dir, example_doc), mip_gap=0.0)
    assert result.prepared.region.crs == "EPSG:32650"
    assert any("UTM zone 50" in note for note in result.prepared.region.notes)
    assert result.checked is not None
    assert result.checked.cost["total"] == pytest.approx(KNOWN_LEAST_COST, abs=0.5)


def _straight_line_table(example_dir: Path) -> pd.DataFrame:
    demand = gpd.read_file(example_dir / "demand.geojson").to_crs("EPSG:32650")
    sites = gpd.read_file(example_dir / "sites.geojson").to_crs("EPSG:32650")
    d_xy = np.column_stack([demand.geometry.x, demand.geometry.y])
    s_xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    i, s = np.meshgrid(np.arange(len(demand)), np.arange(len(sites)), indexing="ij")
    dist = np.hypot(*(d_xy[i.ravel()] - s_xy[s.ravel()]).T)
    return pd.DataFrame({"from": demand["id"].to_numpy()[i.ravel()], "to": sites["id"].to_numpy()[s.ravel()],
                         "metres": dist})


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_distance_table_in_metres_reproduces_straight_line_optimum(suffix: str, example_dir: Path,
                                                                   example_doc: dict[str, Any]) -> None:
    table = _straight_line_table(example_dir)
    path = example_dir / f"times.{suffix}"
    table.to_csv(path, index=False) if suffix == "csv" else table.to_parquet(path)
    example_doc["distances"] = {"path": path.name, "demand": "from", "site": "to", "value": "metres"}
    assert _least_cost(_write(example_dir, example_doc)) == pytest.approx(KNOWN_LEAST_COST, abs=0.5)


def test_distance_table_in_minutes_uses_walk_minutes(example_dir: Path, example_doc: dict[str, Any]) -> None:
    """Minutes = metres / 50: walk_minutes = radius / 50 gives the same reach, the same optimum."""
    table = _straight_line_table(example_dir)
    table["minutes"] = table.pop("metres") / 50.0
    table.to_csv(example_dir / "times.csv", index=False)
    example_doc["distances"] = {"path": "times.csv", "demand": "from", "site": "to", "value": "minutes",
                                "unit": "min"}
    for ftype in example_doc["facility_types"].values():
        ftype["walk_minutes"] = ftype["radius_m"] / 50.0
    assert _least_cost(_write(example_dir, example_doc)) == pytest.approx(KNOWN_LEAST_COST, abs=0.5)


def test_distance_table_with_unknown_site_id_names_it(example_dir: Path, example_doc: dict[str, Any]) -> None:
    table = _straight_line_table(example_dir)
    table.loc[3, "to"] = "S9999"
    table.to_csv(example_dir / "times.csv", index=False)
    example_doc["distances"] = {"path": "times.csv", "demand": "from", "site": "to", "value": "metres"}
    from optimizer.errors import GeodataError

    scenario, base = load_scenario(_write(example_dir, example_doc))
    with pytest.raises(GeodataError, match=r"distances.site.*S9999"):
        load_region(scenario, base)
