"""The network loader: which ways are walkable, the segment graph, snapping onto edges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optimizer.errors import GeodataError
from optimizer.reach.network import limit_m, load_street_graph, read_ways, snap_points, walkable_mask
from optimizer.reach.walking import attach_points
from optimizer.scenario.fields import FacilityType, NetworkSpec
from tests.conftest import CRS, ORIGIN
from tests.network_helpers import write_lines

PBF = Path(__file__).resolve().parents[1] / "geodata" / "haidian" / "tsinghua_wudaokou_2017.osm.pbf"


def _graph(folder: Path, name: str = "roads.gpkg", layer: str | None = None):
    return load_street_graph(NetworkSpec(path=name, layer=layer), folder, CRS)


def test_geopackage_line_layer_keeps_walkable_ways_by_highway_foot_access_sidewalk(tmp_path: Path) -> None:
    lines = [[(0, k * 50), (100, k * 50)] for k in range(7)]
    write_lines(tmp_path / "roads.gpkg", lines, layer="roads",
                highway=["residential", "motorway", "footway", "trunk", "trunk", "primary", "motorway_link"],
                foot=[None, None, "no", None, None, "yes", None],
                sidewalk=[None, None, None, "no", "both", None, None],
                access=[None, None, None, None, None, "private", None])
    write_lines(tmp_path / "roads.gpkg", [[(0, 0), (0, 500)]], layer="rivers", highway=["motorway"])
    graph = _graph(tmp_path, layer="roads")
    assert (graph.ways_kept, graph.ways_dropped) == (3, 4)   # residential, trunk with sidewalk, primary foot=yes
    assert sorted(np.unique(graph.node_xy[:, 1] - ORIGIN[1]).tolist()) == [0.0, 200.0, 250.0]
    assert graph.seg_len_m.sum() == pytest.approx(300.0)


def test_line_layer_without_attributes_keeps_every_line(tmp_path: Path) -> None:
    write_lines(tmp_path / "paths.geojson", [[(0, 0), (50, 0), (50, 80)], [(50, 80), (0, 80)]])
    graph = _graph(tmp_path, "paths.geojson")
    assert (graph.ways_kept, graph.ways_dropped, graph.n_nodes, graph.n_segments) == (2, 0, 4, 3)
    assert graph.seg_len_m.sum() == pytest.approx(180.0)


def test_lines_join_only_where_they_share_a_vertex(tmp_path: Path) -> None:
    write_lines(tmp_path / "bridge.gpkg", [[(0, 50), (100, 50)], [(50, 0), (50, 100)]])
    assert _graph(tmp_path, "bridge.gpkg").n_nodes == 4         # a bridge over a road: no junction
    write_lines(tmp_path / "crossing.gpkg", [[(0, 50), (50, 50), (100, 50)], [(50, 0), (50, 50), (50, 100)]])
    crossing = _graph(tmp_path, "crossing.gpkg")
    assert (crossing.n_nodes, crossing.n_segments) == (5, 4)


def test_unknown_layer_and_missing_file_name_the_network_field(tmp_path: Path) -> None:
    write_lines(tmp_path / "roads.gpkg", [[(0, 0), (10, 0)]])
    with pytest.raises(GeodataError, match=r"network\.layer"):
        _graph(tmp_path, layer="streets")
    with pytest.raises(GeodataError, match=r"network\.path"):
        _graph(tmp_path, "nowhere.gpkg")
    with pytest.raises(GeodataError, match=r"network\.layer"):
        load_street_graph(NetworkSpec(path=PBF.name, layer="ways"), PBF.parent, CRS)


def test_only_unwalkable_ways_is_an_error_naming_the_file(tmp_path: Path) -> None:
    write_lines(tmp_path / "roads.gpkg", [[(0, 0), (10, 0)]], highway=["motorway"])
    with pytest.raises(GeodataError, match=r"network\.path.*no walkable way"):
        _graph(tmp_path)


def test_real_osm_extract_reads_through_pyrosm_and_drops_motorways() -> None:
    ways = read_ways(PBF, None, None)
    walkable = walkable_mask(ways)
    assert set(ways["highway"][~walkable]) == {"motorway", "footway"}   # the footway is access=no
    assert ways["access"][~walkable & (ways["highway"] == "footway")].tolist() == ["no"]
    graph = load_street_graph(NetworkSpec(path=PBF.name), PBF.parent, "EPSG:32650")
    assert (graph.ways_kept, graph.ways_dropped) == (631, 3)
    assert graph.seg_len_m.sum() / 1000 == pytest.approx(123.0, abs=0.5)
    assert graph.n_segments == 2488


def test_point_snaps_onto_the_middle_of_an_edge_not_a_node(tmp_path: Path) -> None:
    write_lines(tmp_path / "roads.gpkg", [[(0, 0), (1000, 0)]])
    graph = _graph(tmp_path)
    xy = np.array([[400.0, 30.0], [700.0, -20.0], [1300.0, 400.0]]) + ORIGIN
    snap = snap_points(graph, xy)
    assert snap.along_m == pytest.approx([400.0, 700.0, 1000.0])
    assert snap.access_m == pytest.approx([30.0, 20.0, 500.0])
    walk, node = attach_points(graph, snap)
    assert walk.adjacency.shape == (4, 4)                     # two ends + two virtual nodes
    assert node[2] in (graph.seg_u[0], graph.seg_v[0])       # beyond the end: joins the end node
    assert walk.adjacency[node[0], node[1]] == pytest.approx(300.0)
    assert walk.node_xy[node[0]] - ORIGIN == pytest.approx([400.0, 0.0])
    assert walk.adjacency.sum() / 2 == pytest.approx(1000.0)   # the pieces add up to the edge


def test_walk_minutes_times_speed_replaces_radius_and_the_smaller_limit_wins() -> None:
    spec = NetworkSpec(path="x.gpkg", walk_speed_m_per_min=60)
    assert limit_m(FacilityType(walk_minutes=15), spec) == 900
    assert limit_m(FacilityType(radius_m=1000), spec) == 1000
    assert limit_m(FacilityType(radius_m=800, walk_minutes=15), spec) == 800
    assert limit_m(FacilityType(radius_m=1000, walk_minutes=15), spec) == 900
