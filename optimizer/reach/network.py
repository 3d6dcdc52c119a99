"""The walking network: read walkable ways, build the street graph, snap points onto it.

Shared by the reach builder (`optimizer.reach.walking`) and the independent checker
(`optimizer.check.walking`); each computes shortest paths with its own code.

Sources: an OpenStreetMap ``.osm.pbf`` (read with pyrosm) or a line layer (GeoPackage,
Shapefile, GeoJSON). Ways a person does not walk on are dropped (see `walkable_mask`).
Every line is cut into straight segments between consecutive vertices; two lines connect
where they share a vertex (to the millimetre), so a bridge over a river without a shared
vertex does not connect its banks. Ways are walked in both directions (`oneway` applies to
vehicles). A point is snapped to the nearest point of the nearest segment, not to a node.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj.exceptions import CRSError, ProjError

from optimizer.errors import GeodataError
from optimizer.inputs.drivers import (
    NETWORK_READERS,
    Format,
    checked_input,
    input_format,
    layer_names,
    read_vector,
    vector_info,
)
from optimizer.scenario.fields import FacilityType, NetworkSpec

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: ``highway`` values nobody walks on (motorways, and ways that do not exist yet or any more).
NOT_WALKED = frozenset({"motorway", "motorway_link", "construction", "proposed", "planned",
                        "abandoned", "razed", "raceway", "bus_guideway", "busway", "escape"})
#: ``foot`` values that forbid walking (``use_sidepath``: the sidewalk is mapped as its own way).
FOOT_FORBIDDEN = frozenset({"no", "private", "use_sidepath"})
#: ``foot`` values that allow walking whatever ``access`` says.
FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})
#: ``access`` values that forbid everyone not explicitly allowed.
ACCESS_FORBIDDEN = frozenset({"no", "private"})
#: Trunk roads are dropped only when tagged without a sidewalk.
TRUNK = frozenset({"trunk", "trunk_link"})
NO_SIDEWALK = frozenset({"no", "none"})
#: Attributes honoured when present (all optional).
HONOURED_FIELDS = ("highway", "foot", "access", "sidewalk", "area")
SNAP_DECIMALS = 3   # vertices closer than a millimetre are one node


@dataclass(frozen=True)
class StreetGraph:
    """Straight segments between nodes, in the scenario CRS (metres).

    Attributes
    ----------
    node_xy : ndarray, shape (n_nodes, 2)
    seg_u, seg_v : ndarray of int, shape (n_segments,)
        End nodes of each segment; every (u, v) pair occurs once, ``u != v``.
    seg_len_m : ndarray of float, shape (n_segments,)
    ways_kept, ways_dropped : int
        Lines kept as walkable, and dropped by the filter.
    """

    node_xy: FloatArray
    seg_u: IntArray
    seg_v: IntArray
    seg_len_m: FloatArray
    ways_kept: int
    ways_dropped: int

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)

    @property
    def n_segments(self) -> int:
        """Number of segments (undirected edges)."""
        return len(self.seg_u)


@dataclass(frozen=True)
class NetworkSummary:
    """What the plan reports about walking reach (the `network` section of plan.json).

    Attributes
    ----------
    path : str
        The network file as the scenario names it.
    walk_speed_m_per_min, suspicious_access_m : float
    limits_m : tuple of float
        Each type's walking limit in metres (scenario order), see `limit_m`.
    demand_access_m, site_access_m : ndarray of float
        Straight-line distance from each unit / site to its snapped point on the network.
    graph : dict
        nodes, segments, ways_kept, ways_dropped.
    cache : str
        ``"hit"``, ``"stored"``, ``"off"`` or why the cache could not be written.
    seconds : dict
        Time spent: graph (read and build), snap, search.
    """

    path: str
    walk_speed_m_per_min: float
    suspicious_access_m: float
    limits_m: tuple[float, ...]
    demand_access_m: FloatArray
    site_access_m: FloatArray
    graph: dict[str, int]
    cache: str
    seconds: dict[str, float]


@dataclass(frozen=True)
class Snap:
    """Where points join the network: segment, distance along it from ``seg_u``, access.

    Attributes
    ----------
    seg : ndarray of int
        Index of the nearest segment of each point.
    along_m : ndarray of float
        Distance from the segment's ``u`` end to the snapped point.
    access_m : ndarray of float
        Straight-line distance from the point to the snapped point (walked off the network).
    """

    seg: IntArray
    along_m: FloatArray
    access_m: FloatArray


def limit_m(ftype: FacilityType, spec: NetworkSpec) -> float:
    """A type's walking limit in metres: ``radius_m``, ``walk_minutes`` x speed, or the smaller."""
    limits = [ftype.radius_m, None if ftype.walk_minutes is None
              else ftype.walk_minutes * spec.walk_speed_m_per_min]
    return float(min(v for v in limits if v is not None))


def walkable_mask(ways: pd.DataFrame) -> BoolArray:
    """``[k]``: way k is walkable by the attributes it has (each of `HONOURED_FIELDS` optional).

    Dropped: ``highway`` in `NOT_WALKED`; ``foot`` in `FOOT_FORBIDDEN`; ``access`` no/private
    unless ``foot`` allows; trunk roads with ``sidewalk`` no/none; ``area=yes`` (a square's
    outline is not a way).
    """
    def field(name: str) -> pd.Series:
        if name not in ways.columns:
            return pd.Series("", index=ways.index)
        return ways[name].fillna("").astype(str).str.strip().str.lower()

    highway, foot, access = field("highway"), field("foot"), field("access")
    drop = highway.isin(NOT_WALKED) | foot.isin(FOOT_FORBIDDEN)
    drop |= access.isin(ACCESS_FORBIDDEN) & ~foot.isin(FOOT_ALLOWED)
    drop |= highway.isin(TRUNK) & field("sidewalk").isin(NO_SIDEWALK) & ~foot.isin(FOOT_ALLOWED)
    drop |= field("area") == "yes"
    return ~drop.to_numpy()


def load_street_graph(spec: NetworkSpec, base_dir: Path, crs: str,
                      bbox_lonlat: tuple[float, float, float, float] | None = None) -> StreetGraph:
    """Read the scenario's network, keep walkable ways, project to `crs`, build the graph.

    `bbox_lonlat` (west, south, east, north) limits reading to ways near the data; results are
    kept in memory per file version, so the checker reuses what reach building read.
    """
    input_format(spec.path, "network.path", readers=NETWORK_READERS)   # no URL, no /vsi… path
    path = base_dir / spec.path
    if not path.exists():
        raise GeodataError(f"network file not found: {path}; paths are relative to the scenario file",
                           "network.path")
    stat = path.stat()
    return _cached_graph(str(path.resolve()), stat.st_mtime_ns, stat.st_size, spec.layer, crs, bbox_lonlat)


@functools.lru_cache(maxsize=4)
def _cached_graph(path: str, mtime_ns: int, size: int, layer: str | None, crs: str,
                  bbox: tuple[float, float, float, float] | None) -> StreetGraph:
    ways = read_ways(Path(path), layer, bbox)
    keep = walkable_mask(ways)
    lines = cast(gpd.GeoSeries, ways.geometry[keep])   # pandas-stubs' [] gives a plain Series
    if lines.crs is None:
        raise GeodataError("the network layer has no CRS; give the file one", "network.path")
    graph = build_street_graph(lines.to_crs(crs), ways_dropped=int((~keep).sum()))
    if graph.n_segments == 0:
        raise GeodataError(f"no walkable way in {Path(path).name} near the demand and sites "
                           f"({len(ways)} ways read, {int((~keep).sum())} dropped as not walkable)",
                           "network.path")
    return graph


def read_ways(path: Path, layer: str | None, bbox: tuple[float, float, float, float] | None) -> gpd.GeoDataFrame:
    """Lines with the honoured attributes, from a ``.osm.pbf`` (pyrosm) or a GIS line layer (GDAL),
    each read only as the format its name says (`optimizer.inputs.drivers`)."""
    fmt = checked_input(path, "network.path", readers=NETWORK_READERS)
    if fmt.reader == "pyrosm":
        if layer is not None:
            raise GeodataError("an .osm.pbf file has no layers; remove `network.layer`", "network.layer")
        ways = _read_pbf(path, bbox)
    else:
        ways = _read_line_layer(path, fmt, layer, bbox)
    return _only_lines(ways)


def _read_pbf(path: Path, bbox: tuple[float, float, float, float] | None) -> gpd.GeoDataFrame:
    try:
        from pyrosm import OSM
    except ImportError:  # pragma: no cover - pyrosm is a dependency
        raise GeodataError("reading .osm.pbf needs pyrosm: pip install pyrosm", "network.path") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # pyrosm and pandas chatter about dtypes
            ways = OSM(str(path), bounding_box=list(bbox) if bbox else None).get_network("all")
    except Exception as exc:  # pyrosm raises bare errors on broken files
        raise GeodataError(f"cannot read {path.name} as OpenStreetMap PBF: {exc}", "network.path") from None
    if ways is None or len(ways) == 0:
        raise GeodataError(f"no ways with a `highway` tag in {path.name}", "network.path")
    return _tags_to_columns(ways)


def _tags_to_columns(ways: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """pyrosm keeps less common tags in a JSON text column; lift the honoured ones out."""
    tags = ways["tags"].fillna("").astype(str) if "tags" in ways.columns else None
    for name in HONOURED_FIELDS:
        if name not in ways.columns and tags is not None:
            ways[name] = tags.str.extract(rf'"{name}"\s*:\s*"([^"]*)"', expand=False)
    return ways


def _read_line_layer(path: Path, fmt: Format, layer: str | None,
                     bbox: tuple[float, float, float, float] | None) -> gpd.GeoDataFrame:
    if layer is not None:
        layers = layer_names(path, fmt, "network.path")
        if layer not in layers:
            raise GeodataError(f"no layer '{layer}' in {path.name}; layers: {', '.join(layers)}",
                               "network.layer")
    info = vector_info(path, fmt, "network.path", layer=layer)
    columns = [c for c in HONOURED_FIELDS if c in list(info["fields"])]
    try:
        mask = None if bbox is None or info["crs"] is None else _bbox_in(bbox, str(info["crs"]))
    except (CRSError, ProjError) as exc:
        raise GeodataError(f"cannot read {path.name}: its CRS {info['crs']} does not project ({exc})",
                           "network.path") from None
    return read_vector(path, fmt, "network.path", layer=layer, columns=columns, bbox=mask)


def _bbox_in(bbox: tuple[float, float, float, float], crs: str) -> tuple[float, float, float, float]:
    """The lon/lat box in the layer's own CRS (its envelope after projection)."""
    box = gpd.GeoSeries([shapely.box(*bbox)], crs="EPSG:4326").to_crs(crs)
    west, south, east, north = box.total_bounds
    return float(west), float(south), float(east), float(north)


def _only_lines(ways: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """LineStrings only: multi-lines are split into parts; other geometries are refused."""
    ways = ways[~(ways.geometry.isna() | ways.geometry.is_empty)]
    ways = ways.explode(index_parts=False).reset_index(drop=True)
    kinds = ways.geom_type.to_numpy()
    bad = kinds != "LineString"
    if bad.any():
        raise GeodataError(f"{int(bad.sum())} network feature(s) are not lines (e.g. {kinds[bad][0]}); "
                           "give a layer of LineString roads and paths", "network.path")
    return ways


def build_street_graph(lines: gpd.GeoSeries, *, ways_dropped: int = 0) -> StreetGraph:
    """Segments between consecutive vertices of every line; shared vertices become one node.

    Vectorised: one pass over all coordinates, no loop over lines or segments.
    """
    coords, line = shapely.get_coordinates(lines.to_numpy(), return_index=True)
    # Rows as complex numbers: one fast 1-D unique, sorted by x then y (+ 0.0 folds -0.0 into 0.0).
    packed = np.ascontiguousarray(np.round(coords, SNAP_DECIMALS) + 0.0).view(np.complex128).reshape(-1)
    unique, node = np.unique(packed, return_inverse=True)
    node_xy = np.column_stack([unique.real, unique.imag])
    node = node.reshape(-1)
    same_line = line[1:] == line[:-1]
    u, v = node[:-1][same_line], node[1:][same_line]
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    pair = np.unique(np.stack([lo[lo != hi], hi[lo != hi]], axis=1), axis=0)
    seg_u, seg_v = pair[:, 0].astype(np.int64), pair[:, 1].astype(np.int64)
    seg_len = np.hypot(*(node_xy[seg_v] - node_xy[seg_u]).T)
    return StreetGraph(node_xy.astype(np.float64), seg_u, seg_v, seg_len.astype(np.float64),
                       len(lines), ways_dropped)


def snap_points(graph: StreetGraph, xy: FloatArray) -> Snap:
    """Each point's nearest point on the nearest segment (STRtree nearest + projection)."""
    if len(xy) == 0:
        return Snap(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    a, b = graph.node_xy[graph.seg_u], graph.node_xy[graph.seg_v]
    tree = shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1)))  # type: ignore[arg-type]  # n lines, not one
    found = tree.query_nearest(shapely.points(xy), all_matches=False)
    order = np.argsort(found[0], kind="stable")
    seg = found[1][order].astype(np.int64)
    a, d = a[seg], b[seg] - a[seg]
    t = np.clip(np.einsum("ij,ij->i", xy - a, d) / np.einsum("ij,ij->i", d, d), 0.0, 1.0)
    access = np.hypot(*(xy - (a + t[:, None] * d)).T)
    return Snap(seg, t * graph.seg_len_m[seg], access)


def network_bbox(spec: NetworkSpec, types: list[FacilityType], xy: FloatArray,
                 crs: str) -> tuple[float, float, float, float]:
    """The lon/lat box of network to read: the points' envelope widened by the longest limit + 1 km."""
    margin = max(limit_m(ftype, spec) for ftype in types) + 1000.0
    return data_bbox_lonlat(xy, crs, margin)


def data_bbox_lonlat(xy: FloatArray, crs: str, margin_m: float) -> tuple[float, float, float, float]:
    """The lon/lat envelope of points (in `crs`) widened by `margin_m`.

    A walk of at most L metres never leaves the disc of radius L around its start, so reading
    the network within the data's box widened by the longest limit changes no distance.
    """
    west, south = xy.min(axis=0) - margin_m
    east, north = xy.max(axis=0) + margin_m
    box = gpd.GeoSeries([shapely.box(west, south, east, north)], crs=crs).to_crs("EPSG:4326")
    w, s, e, n = box.total_bounds
    return round(float(w), 6), round(float(s), 6), round(float(e), 6), round(float(n), 6)
