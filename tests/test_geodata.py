"""Geodata in (optimizer.inputs.geodata): inline GeoJSON features become projected arrays; polygons
count by their centroid; lon/lat is projected to the scenario CRS or to the data's UTM zone; a
feature with a missing value or a geometry that is not a point or polygon is named by its id.

Fixtures are placed in metres from a fixed origin in UTM zone 50N (EPSG:32650, see conftest), so
their projected coordinates are known exactly: origin + offset.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, shape

from optimizer.errors import GeodataError
from optimizer.inputs.geodata import Region, load_region, region_from_frames
from optimizer.scenario.format import parse_scenario
from tests.conftest import CRS, ORIGIN, point, scenario_doc

UNITS = [{"id": "u1", "xy": (0, 0), "kind": "urban", "zone": "Z1", "pop": 10},
         {"id": "u2", "xy": (400, -250), "kind": "rural", "zone": "Z2", "pop": 20},
         {"id": "u3", "xy": (1200, 300), "kind": "urban", "zone": "Z2", "pop": 0}]
SITES = [{"id": "A", "xy": (100, 0), "zone": "Z1", "allowed": "*", "existing": "", "cost_meal": 70},
         {"id": "B", "xy": (900, 50), "zone": "Z2", "allowed": "meal", "existing": "station", "cost_meal": None},
         {"id": "C", "xy": (-300, 800), "zone": "Z1", "allowed": " station , meal", "existing": None,
          "cost_meal": 0}]
TYPES = {"station": {"radius_m": 600, "capital_cost": 100}, "meal": {"radius_m": 900, "capital_cost": 50}}


def _doc(**extra: Any) -> dict[str, Any]:
    doc = copy.deepcopy(scenario_doc(UNITS, SITES, TYPES, [], **extra))
    doc["sites"]["cost"] = {"meal": "cost_meal"}
    return doc


def _region(doc: dict[str, Any]) -> Region:
    scenario, base_dir = parse_scenario(doc)
    return load_region(scenario, base_dir)


def _feature(doc: dict[str, Any], layer: str, k: int) -> dict[str, Any]:
    return doc[layer]["features"]["features"][k]


def _square_u(x0: float, y0: float) -> dict[str, Any]:
    """A U-shaped polygon, 300 m square with a 100 x 200 m notch from the top, lower-left at (x0, y0).

    Area 90,000 - 20,000 = 70,000 m². Centroid x = x0 + 150 (symmetric); centroid y from the
    square (y 150, 90,000 m²) less the notch (y 200, 20,000 m²): (150 x 90,000 - 200 x 20,000) /
    70,000 = 135.714... m, which lies inside the notch: outside the polygon itself.
    """
    ring = [(0, 0), (300, 0), (300, 300), (200, 300), (200, 100), (100, 100), (100, 300), (0, 300), (0, 0)]
    return {"type": "Polygon", "coordinates": [[point(x0 + x, y0 + y)["coordinates"] for x, y in ring]]}


def test_inline_points_land_at_their_projected_metres() -> None:
    region = _region(_doc())
    assert region.crs == CRS and region.notes == ()
    expected = np.array([row["xy"] for row in UNITS], dtype=float) + ORIGIN
    np.testing.assert_allclose(region.demand.xy, expected, atol=1e-3)
    np.testing.assert_allclose(region.sites.xy, np.array([row["xy"] for row in SITES], dtype=float) + ORIGIN,
                               atol=1e-3)
    assert list(region.demand.ids) == ["u1", "u2", "u3"]
    assert list(region.demand.group) == ["urban", "rural", "urban"]
    assert list(region.demand.zone) == ["Z1", "Z2", "Z2"]
    assert list(region.demand.weights["elderly"]) == [10.0, 20.0, 0.0]
    assert region.type_names == ("station", "meal")


def test_site_attributes_become_type_tables() -> None:
    """A: '*' allows both; B: meal allowed, station existing; C: a spaced list, no existing type.
    Meal capital: A's own 70, B's null falls back to the type's 50, C's 0 is kept (free land)."""
    sites = _region(_doc()).sites
    assert sites.allowed.tolist() == [[True, True], [False, True], [True, True]]
    assert sites.existing.tolist() == [[False, False], [True, False], [False, False]]
    assert sites.candidate.tolist() == [[True, True], [True, True], [True, True]]
    assert sites.capex_cny.tolist() == [[100.0, 70.0], [100.0, 50.0], [100.0, 0.0]]
    assert np.isnan(sites.capacity).all()
    assert list(sites.zone) == ["Z1", "Z2", "Z1"]


def test_polygon_demand_counts_by_its_centroid_and_says_so() -> None:
    doc = _doc()
    _feature(doc, "demand", 1)["geometry"] = _square_u(1000, 1000)
    region = _region(doc)
    np.testing.assert_allclose(region.demand.xy[1] - ORIGIN, [1150.0, 1000 + 9.5e6 / 7e4], atol=1e-2)
    np.testing.assert_allclose(region.demand.xy[[0, 2]] - ORIGIN, [[0, 0], [1200, 300]], atol=1e-3)
    assert region.notes == ("polygon demand units count by their centroid point",)


def test_surface_point_option_keeps_a_polygon_unit_inside_itself() -> None:
    doc = _doc()
    _feature(doc, "demand", 1)["geometry"] = _square_u(1000, 1000)
    doc["demand"]["point"] = "surface"
    region = _region(doc)
    polygon = gpd.GeoSeries([shape(_feature(doc, "demand", 1)["geometry"])], crs="EPSG:4326").to_crs(CRS)[0]
    inside = Point(*region.demand.xy[1])
    assert polygon.contains(inside)
    assert not polygon.contains(Point(ORIGIN[0] + 1150.0, ORIGIN[1] + 1000 + 9.5e6 / 7e4))   # the centroid
    assert region.notes == ("polygon demand units count by their surface point",)


def test_a_given_crs_projects_the_lonlat_features() -> None:
    """Web Mercator: coordinates are pyproj's transform of each feature's lon/lat, not UTM metres."""
    doc = _doc(crs="EPSG:3857")
    region = _region(doc)
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    lonlat = np.array([f["geometry"]["coordinates"] for f in doc["demand"]["features"]["features"]])
    np.testing.assert_allclose(region.demand.xy, np.column_stack(to_mercator.transform(*lonlat.T)), atol=1e-6)
    assert region.crs == "EPSG:3857"
    assert abs(region.demand.xy[0, 0] - ORIGIN[0]) > 1e6


def test_no_crs_chooses_the_utm_zone_of_the_data() -> None:
    doc = _doc()
    doc.pop("crs")
    region = _region(doc)
    assert region.crs == "EPSG:32650"
    assert region.notes == ("no `crs` given: distances measured in EPSG:32650 (UTM zone 50 of the data)",)
    np.testing.assert_allclose(region.demand.xy[1] - ORIGIN, [400, -250], atol=1e-3)


def test_no_crs_south_of_the_equator_chooses_a_southern_utm_zone() -> None:
    """Santiago de Chile, 70.65 W 33.45 S: zone floor((180 - 70.65) / 6) + 1 = 19, south: EPSG:32719."""
    doc = _doc()
    doc.pop("crs")
    for layer in ("demand", "sites"):
        for k, f in enumerate(doc[layer]["features"]["features"]):
            f["geometry"] = {"type": "Point", "coordinates": [-70.65 + 0.001 * k, -33.45]}
    region = _region(doc)
    assert region.crs == "EPSG:32719"
    assert "UTM zone 19" in region.notes[0]


def test_a_missing_weight_names_the_feature() -> None:
    doc = _doc()
    _feature(doc, "demand", 1)["properties"]["pop"] = None
    with pytest.raises(GeodataError, match=r"^demand\.weights\.elderly: 1 feature\(s\) have no value in 'pop': "
                                           r"'u2'$"):
        _region(doc)


def test_a_weight_that_is_text_or_negative_names_the_feature() -> None:
    doc = _doc()
    _feature(doc, "demand", 0)["properties"]["pop"] = "many"
    with pytest.raises(GeodataError, match=r"^demand\.weights\.elderly: 'pop' is not a number for 'u1' "
                                           r"\(e\.g\. 'many'\)$"):
        _region(doc)
    doc = _doc()
    _feature(doc, "demand", 2)["properties"]["pop"] = -5
    with pytest.raises(GeodataError, match=r"^demand\.weights\.elderly: 'pop' is negative for 'u3'$"):
        _region(doc)


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_a_missing_zone_names_the_feature(empty: str | None) -> None:
    doc = _doc()
    _feature(doc, "demand", 2)["properties"]["zone"] = empty
    with pytest.raises(GeodataError, match=r"^demand\.zone: 1 feature\(s\) have no value in 'zone': 'u3'$"):
        _region(doc)


def test_a_line_geometry_names_the_feature_and_its_kind() -> None:
    doc = _doc()
    _feature(doc, "demand", 1)["geometry"] = {"type": "LineString",
                                              "coordinates": [point(0, 0)["coordinates"], point(50, 0)["coordinates"]]}
    with pytest.raises(GeodataError, match=r"^demand layer: 1 feature\(s\) are not points or polygons: "
                                           r"'u2' \(LineString\); give each a Point or Polygon geometry$"):
        _region(doc)


def test_a_feature_without_geometry_is_named() -> None:
    doc = _doc()
    _feature(doc, "sites", 2)["geometry"] = None
    with pytest.raises(GeodataError,
                       match=r"^sites layer: 1 feature\(s\) are not points or polygons: 'C' \(no geometry\);"):
        _region(doc)


def test_malformed_geojson_coordinates_are_reported_at_the_inline_features() -> None:
    doc = _doc()
    _feature(doc, "demand", 1)["geometry"] = {"type": "Point", "coordinates": "here"}
    with pytest.raises(GeodataError, match=r"^demand\.features: malformed GeoJSON feature"):
        _region(doc)


def test_every_bad_value_of_an_attribute_is_listed_in_one_error() -> None:
    doc = _doc()
    _feature(doc, "demand", 0)["properties"]["pop"] = None
    _feature(doc, "demand", 1)["properties"]["pop"] = "x"
    _feature(doc, "demand", 2)["properties"]["pop"] = -1
    with pytest.raises(GeodataError) as info:
        _region(doc)
    assert [str(p) for p in info.value.problems] == [
        "demand.weights.elderly: 1 feature(s) have no value in 'pop': 'u1'",
        "demand.weights.elderly: 'pop' is not a number for 'u2' (e.g. 'x')",
        "demand.weights.elderly: 'pop' is negative for 'u3'"]


def test_an_unknown_type_at_a_site_names_the_site_and_the_closest_type() -> None:
    doc = _doc()
    _feature(doc, "sites", 1)["properties"]["allowed"] = "meals"
    with pytest.raises(GeodataError, match=r"^sites\.allowed: unknown facility type 'meals' at site 'B' "
                                           r"\(1 unknown in all\); did you mean 'meal'\?$"):
        _region(doc)


def test_duplicate_site_ids_are_named() -> None:
    doc = _doc()
    _feature(doc, "sites", 2)["properties"]["id"] = "A"
    with pytest.raises(GeodataError, match=r"^sites\.id: duplicate ids in 'id': A; ids must be unique$"):
        _region(doc)


def test_a_weight_attribute_the_layer_lacks_lists_the_attributes() -> None:
    doc = _doc()
    doc["demand"]["weights"] = {"elderly": "pop60"}
    with pytest.raises(GeodataError, match=r"^demand\.weights\.elderly: the demand layer has no attribute 'pop60'; "
                                           r"its attributes are: id, kind, zone, pop$"):
        _region(doc)


def test_an_empty_layer_is_refused() -> None:
    doc = _doc()
    doc["sites"]["features"]["features"] = []
    with pytest.raises(GeodataError, match=r"^sites\.path: the sites layer has no features"):
        _region(doc)


def test_frames_in_memory_give_the_same_region_as_inline_features() -> None:
    doc = _doc()
    scenario, _ = parse_scenario(doc)
    demand = gpd.GeoDataFrame.from_features(doc["demand"]["features"]["features"], crs="EPSG:4326")
    sites = gpd.GeoDataFrame.from_features(doc["sites"]["features"]["features"], crs="EPSG:4326")
    from_frames = region_from_frames(scenario, demand, sites)
    from_doc = _region(doc)
    np.testing.assert_array_equal(from_frames.demand.xy, from_doc.demand.xy)
    np.testing.assert_array_equal(from_frames.sites.capex_cny, from_doc.sites.capex_cny)
    assert from_frames.crs == from_doc.crs


def test_frames_without_crs_are_taken_to_be_in_the_scenario_crs() -> None:
    scenario, _ = parse_scenario(_doc())
    demand = gpd.GeoDataFrame({"id": ["u1"], "kind": ["urban"], "zone": ["Z1"], "pop": [3]},
                              geometry=[Point(ORIGIN[0] + 10, ORIGIN[1] + 20)])
    sites = gpd.GeoDataFrame({"id": ["A"], "zone": ["Z1"], "allowed": ["*"], "existing": [""], "cost_meal": [1.0]},
                             geometry=[Point(*ORIGIN)])
    region = region_from_frames(scenario, demand, sites)
    np.testing.assert_allclose(region.demand.xy, [[ORIGIN[0] + 10, ORIGIN[1] + 20]])
    assert region.notes == (f"the demand layer has no CRS; its coordinates are taken to be in {CRS}",
                            f"the sites layer has no CRS; its coordinates are taken to be in {CRS}")


def test_tables_without_geometry_need_a_distance_table() -> None:
    scenario, _ = parse_scenario(_doc())
    demand = pd.DataFrame({"id": ["u1"], "kind": ["urban"], "zone": ["Z1"], "pop": [3]})
    sites = pd.DataFrame({"id": ["A"], "zone": ["Z1"], "allowed": ["*"], "existing": [""], "cost_meal": [1.0]})
    with pytest.raises(GeodataError, match=r"^distances: tables without geometry need a distance table"):
        region_from_frames(scenario, demand, sites)
    pairs = pd.DataFrame({"demand_id": ["u1"], "site_id": ["A"], "distance": [250.0]})
    region = region_from_frames(scenario, demand, sites, pairs)
    assert region.distances is not None
    assert (list(region.distances.demand), list(region.distances.site), list(region.distances.value)) == \
        ([0], [0], [250.0])
    assert np.isnan(region.demand.xy).all()


def test_a_missing_file_is_named_relative_to_the_scenario(tmp_path: Path) -> None:
    doc = _doc()
    doc["demand"].pop("features")
    doc["demand"]["path"] = "nowhere.geojson"
    scenario, _ = parse_scenario(doc, base_dir=tmp_path)
    with pytest.raises(GeodataError, match=r"^demand\.path: file not found: .*nowhere\.geojson; paths are relative "
                                           r"to the scenario file$"):
        load_region(scenario, tmp_path)
