"""Builders for network tests: hand-made line layers in metres, and scenarios that walk on them."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from optimizer.reach.network import StreetGraph, snap_points
from tests.conftest import CRS, ORIGIN, scenario_doc, write_scenario

HAIDIAN = Path(__file__).resolve().parents[1] / "scenarios" / "haidian-15min.json"


def write_lines(path: Path, lines: list[list[tuple[float, float]]], layer: str = "roads",
                **fields: list[Any]) -> Path:
    """A line layer of `lines` (vertices in metres from the test origin) with attribute `fields`."""
    geometry = [shapely.LineString([(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in line]) for line in lines]
    frame = gpd.GeoDataFrame(dict(fields), geometry=geometry, crs=CRS)
    frame.to_file(path, layer=layer, driver="GPKG" if path.suffix == ".gpkg" else None)
    return path


def river_with_one_bridge(folder: Path) -> Path:
    """Two bank roads 100 m apart (y = 0 and y = 100), one bridge at x = 600.

    Unit S stands 10 m south of the south road at x = 0, unit N2 10 m south of the north road
    at x = 50, site B 10 m north of the north road at x = 0. S to B: 120 m in a straight line,
    but 10 + 600 + 100 + 600 + 10 = 1,320 m on foot; N2 to B: 10 + 50 + 10 = 70 m.
    """
    write_lines(folder / "roads.gpkg", [[(-100, 0), (600, 0), (700, 0)],
                                        [(-100, 100), (600, 100), (700, 100)],
                                        [(600, 0), (600, 100)]])
    units = [{"id": "S", "kind": "urban", "zone": "z", "pop": 10, "xy": (0, -10)},
             {"id": "N2", "kind": "urban", "zone": "z", "pop": 20, "xy": (50, 90)}]
    sites = [{"id": "B", "zone": "z", "allowed": "*", "existing": "", "xy": (0, 110)}]
    types = {"station": {"radius_m": 1000, "capital_cost": 100}}
    doc = scenario_doc(units, sites, types, [{"kind": "count", "facility": "station", "min": 1}],
                       network={"path": "roads.gpkg"})
    return write_scenario(folder, doc)


def networkx_walk(graph: StreetGraph, points: np.ndarray, sources: list[int]) -> dict[int, float]:
    """Walking metres from the nearest of `sources` to every point, with networkx.

    Independent of the optimizer's search: segments are split at the points in a Python loop,
    each point hangs off its snapped spot by its access distance, and a super-source joins the
    source points.
    """
    snap = snap_points(graph, points)
    walk = nx.Graph()
    walk.add_weighted_edges_from(zip(graph.seg_u.tolist(), graph.seg_v.tolist(), graph.seg_len_m.tolist()))
    for seg in np.unique(snap.seg).tolist():
        u, v, length = int(graph.seg_u[seg]), int(graph.seg_v[seg]), float(graph.seg_len_m[seg])
        walk.remove_edge(u, v)
        on_seg = sorted((float(snap.along_m[k]), k) for k in np.flatnonzero(snap.seg == seg).tolist())
        chain = [(0.0, u), *[(at, ("on", k)) for at, k in on_seg], (length, v)]
        for (at_a, a), (at_b, b) in itertools.pairwise(chain):
            walk.add_edge(a, b, weight=at_b - at_a)
    for k in range(len(points)):
        walk.add_edge(("point", k), ("on", k), weight=float(snap.access_m[k]))
    walk.add_edges_from((("source",), ("point", k), {"weight": 0.0}) for k in sources)
    lengths = nx.single_source_dijkstra_path_length(walk, ("source",))
    return {k: lengths.get(("point", k), np.inf) for k in range(len(points))}
