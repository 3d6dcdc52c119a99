"""Reach by walking distance on the street network (reach source ``"network"``).

Distance(i, s) = access(i) + shortest path between the snapped points + access(s), where
access is the straight line from a point to its snapped point on the nearest segment. Each
snapped point splits its segment with a virtual node; a bounded Dijkstra
(`scipy.sparse.csgraph.dijkstra` with ``limit``) runs from batches of sources so that its
dense per-batch output stays within a memory budget. Pairs within the type's limit become
the same sparse `Reach` as straight-line mode; results are cached (`optimizer.reach.cache`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from optimizer.inputs.geodata import Region
from optimizer.reach import cache as reach_cache
from optimizer.reach.base import Reach, pairs_to_csr, served_and_candidates
from optimizer.reach.network import (
    NetworkSummary,
    Snap,
    StreetGraph,
    limit_m,
    load_street_graph,
    network_bbox,
    snap_points,
)
from optimizer.scenario.fields import NetworkSpec
from optimizer.scenario.format import Scenario

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ON_NODE_M = 1e-6          # a point snapped this close to a segment end joins that node
SEARCH_MEMORY_MB = 256.0  # budget for one batch of Dijkstra output


def network_reach(scenario: Scenario, region: Region, base_dir: Path, *,
                  memory_mb: float = SEARCH_MEMORY_MB) -> Reach:
    """Reach of every facility type by walking distance (metres), from the cache when possible."""
    spec = scenario.network
    assert spec is not None
    limits = tuple(limit_m(ftype, spec) for ftype in scenario.facility_types.values())
    scopes = [served_and_candidates(scenario, region, t) for t in range(len(limits))]
    cache_dir = None if spec.cache_dir is None else base_dir / spec.cache_dir
    key = _cache_key(spec, base_dir, region, limits, scopes) if cache_dir is not None else ""
    cached = reach_cache.load(cache_dir, key) if cache_dir is not None else None
    if cached is not None and _complete(cached, len(limits)):
        return _reach_from_arrays(cached, spec, region, limits, "hit")
    arrays = compute_network_arrays(scenario, region, base_dir, limits, scopes, memory_mb=memory_mb)
    status = reach_cache.store(cache_dir, key, arrays) if cache_dir is not None else "off"
    return _reach_from_arrays(arrays, spec, region, limits, status)


def compute_network_arrays(scenario: Scenario, region: Region, base_dir: Path,
                           limits: tuple[float, ...], scopes: list[tuple[IntArray, IntArray]], *,
                           memory_mb: float = SEARCH_MEMORY_MB) -> dict[str, npt.NDArray[Any]]:
    """Load the graph, snap every point, search per type: the arrays that are cached."""
    spec = scenario.network
    assert spec is not None
    clock = time.perf_counter()
    xy = np.vstack([region.demand.xy, region.sites.xy])
    bbox = network_bbox(spec, list(scenario.facility_types.values()), xy, region.crs)
    graph = load_street_graph(spec, base_dir, region.crs, bbox)
    seconds = [time.perf_counter() - clock]
    snap = snap_points(graph, xy)
    walk, point_node = attach_points(graph, snap)
    seconds.append(time.perf_counter() - clock - sum(seconds))
    n_demand = region.demand.n
    arrays: dict[str, npt.NDArray[Any]] = {}
    done: dict[tuple[float, bytes, bytes], int] = {}
    for t, (limit, (rows, cols)) in enumerate(zip(limits, scopes)):
        signature = (limit, rows.tobytes(), cols.tobytes())
        if signature not in done:
            done[signature] = t
            i, s, dist = walk_pairs(walk, (point_node[rows], snap.access_m[rows]),
                                    (point_node[n_demand + cols], snap.access_m[n_demand + cols]),
                                    limit, memory_mb=memory_mb)
            arrays |= {f"rows_{t}": rows[i], f"cols_{t}": cols[s], f"dist_{t}": dist}
        first = done[signature]
        arrays |= {f"{name}_{t}": arrays[f"{name}_{first}"] for name in ("rows", "cols", "dist")}
    seconds.append(time.perf_counter() - clock - sum(seconds))
    return arrays | {"demand_access": snap.access_m[:n_demand], "site_access": snap.access_m[n_demand:],
                     "graph": np.array([graph.n_nodes, walk.adjacency.shape[0] - graph.n_nodes, graph.n_segments,
                                        graph.ways_kept, graph.ways_dropped], dtype=np.int64),
                     "seconds": np.array(seconds)}


@dataclass(frozen=True)
class WalkGraph:
    """The street graph with a virtual node at every snapped point.

    Attributes
    ----------
    adjacency : csr_array
        Symmetric, nodes x nodes, segment lengths in metres.
    node_xy : ndarray, shape (nodes, 2)
        Coordinates of real nodes, then of virtual nodes.
    """

    adjacency: sp.csr_array
    node_xy: FloatArray

    @functools.cached_property
    def by_x(self) -> IntArray:
        """Node indices ordered by x (to cut out the nodes near a tile)."""
        return np.argsort(self.node_xy[:, 0], kind="stable").astype(np.int64)

    @functools.cached_property
    def sorted_x(self) -> FloatArray:
        """x of the nodes in `by_x` order."""
        return cast(FloatArray, self.node_xy[self.by_x, 0])


def attach_points(graph: StreetGraph, snap: Snap) -> tuple[WalkGraph, IntArray]:
    """The walking graph with a virtual node at every snapped point, and each point's node.

    A point snapped onto a segment end joins that node. Points on the same spot share one
    virtual node. A segment holding virtual nodes is replaced by the chain u - p1 - ... - v in
    order along it, so the lengths of the pieces add up to the segment's.
    """
    length = graph.seg_len_m[snap.seg]
    at_u, at_v = snap.along_m <= ON_NODE_M, snap.along_m >= length - ON_NODE_M
    point_node = np.where(at_u, graph.seg_u[snap.seg], graph.seg_v[snap.seg]).astype(np.int64)
    inner = np.flatnonzero(~(at_u | at_v))
    order = inner[np.lexsort((snap.along_m[inner], snap.seg[inner]))]
    seg, along = snap.seg[order], snap.along_m[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (seg[1:] != seg[:-1]) | (along[1:] != along[:-1])
    point_node[order] = graph.n_nodes + np.cumsum(new) - 1
    v_seg, v_along, v_node = seg[new], along[new], point_node[order][new]
    split = np.unique(v_seg)
    keep = np.ones(graph.n_segments, dtype=bool)
    keep[split] = False
    stops_seg = np.concatenate([split, split, v_seg])
    stops_at = np.concatenate([np.zeros(len(split)), graph.seg_len_m[split], v_along])
    stops_node = np.concatenate([graph.seg_u[split], graph.seg_v[split], v_node])
    chain = np.lexsort((stops_at, stops_seg))
    stops_seg, stops_at, stops_node = stops_seg[chain], stops_at[chain], stops_node[chain]
    link = stops_seg[1:] == stops_seg[:-1]
    u = np.concatenate([graph.seg_u[keep], stops_node[:-1][link]])
    v = np.concatenate([graph.seg_v[keep], stops_node[1:][link]])
    w = np.concatenate([graph.seg_len_m[keep], np.diff(stops_at)[link]])
    n = graph.n_nodes + len(v_node)
    adjacency = sp.csr_array((np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))),
                             shape=(n, n))
    return WalkGraph(adjacency, np.vstack([graph.node_xy, _on_segment(graph, v_seg, v_along)])), point_node


def _on_segment(graph: StreetGraph, seg: IntArray, along_m: FloatArray) -> FloatArray:
    a, b = graph.node_xy[graph.seg_u[seg]], graph.node_xy[graph.seg_v[seg]]
    return a + (along_m / graph.seg_len_m[seg])[:, None] * (b - a)


def walk_pairs(walk: WalkGraph, demand: tuple[IntArray, FloatArray], sites: tuple[IntArray, FloatArray],
               limit: float, *, memory_mb: float = SEARCH_MEMORY_MB) -> tuple[IntArray, IntArray, FloatArray]:
    """Every (demand k, site j) with access + path + access <= `limit`: local indices, metres.

    Searches from the smaller side, tile by tile: sources in one square tile search only the
    subgraph of nodes within `limit` of the tile (a walk of at most `limit` metres cannot
    leave it), in batches whose dense output stays within `memory_mb`.
    """
    swap = len(demand[0]) < len(sites[0])
    src, dst = (demand, sites) if swap else (sites, demand)
    pieces = [(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))]
    usable = np.flatnonzero(src[1] <= limit)
    for tile in _tiles(walk.node_xy[src[0][usable]], usable, 2.0 * max(limit, 100.0)):
        pieces.append(_tile_pairs(walk, tile, src, dst, limit, memory_mb))
    found_src, found_dst, dist = (np.concatenate(part) for part in zip(*pieces))
    return (found_src, found_dst, dist) if swap else (found_dst, found_src, dist)


def _tiles(xy: FloatArray, ids: IntArray, size_m: float) -> Iterator[IntArray]:
    """`ids` grouped by the square tile of side `size_m` their point lies in."""
    if len(ids) == 0:
        return
    cell = np.floor((xy - xy.min(axis=0)) / size_m).astype(np.int64)
    key = cell[:, 0] * (int(cell[:, 1].max()) + 1) + cell[:, 1]
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    yield from np.split(ids[order], bounds)


def _tile_pairs(walk: WalkGraph, tile: IntArray, src: tuple[IntArray, FloatArray],
                dst: tuple[IntArray, FloatArray], limit: float,
                memory_mb: float) -> tuple[IntArray, IntArray, FloatArray]:
    """Pairs from the sources of one tile, searched on the subgraph around the tile."""
    src_xy = walk.node_xy[src[0][tile]]
    low, high = src_xy.min(axis=0) - limit, src_xy.max(axis=0) + limit
    strip = walk.by_x[np.searchsorted(walk.sorted_x, low[0]):np.searchsorted(walk.sorted_x, high[0], "right")]
    y = walk.node_xy[strip, 1]
    local = np.sort(strip[(y >= low[1]) & (y <= high[1])])
    position = np.full(len(walk.node_xy), -1, dtype=np.int64)
    position[local] = np.arange(len(local))
    sub = walk.adjacency[local][:, local]
    targets = np.flatnonzero(position[dst[0]] >= 0)
    target_pos = position[dst[0][targets]]
    size = max(1, int(memory_mb * 2**20 // (8 * (len(local) + len(targets) + 1))))
    out = []
    for start in range(0, len(tile), size):
        batch = tile[start:start + size]
        path = dijkstra(sub, directed=True, indices=position[src[0][batch]],
                        limit=limit - float(src[1][batch].min()))
        total = path[:, target_pos] + src[1][batch, None] + dst[1][None, targets]
        r, c = np.nonzero(total <= limit)
        out.append((batch[r], targets[c], total[r, c]))
    return tuple(np.concatenate(part) for part in zip(*out))  # type: ignore[return-value]


def _cache_key(spec: NetworkSpec, base_dir: Path, region: Region, limits: tuple[float, ...],
               scopes: list[tuple[IntArray, IntArray]]) -> str:
    path = base_dir / spec.path
    settings = {"network": reach_cache.file_digest(path) if path.exists() else str(path),
                "layer": spec.layer, "crs": region.crs, "limits_m": list(limits),
                "walk_speed_m_per_min": spec.walk_speed_m_per_min}
    arrays = [region.demand.xy, region.sites.xy] + [a for scope in scopes for a in scope]
    return reach_cache.reach_key(settings, arrays)


def _complete(arrays: dict[str, npt.NDArray[Any]], n_types: int) -> bool:
    """Whether a cached file holds every array (an older or damaged file is recomputed)."""
    names = {"demand_access", "site_access", "graph", "seconds"}
    names |= {f"{name}_{t}" for t in range(n_types) for name in ("rows", "cols", "dist")}
    return names <= set(arrays) and arrays["graph"].shape == (5,) and arrays["seconds"].shape == (3,)


def _reach_from_arrays(arrays: dict[str, npt.NDArray[Any]], spec: NetworkSpec, region: Region,
                       limits: tuple[float, ...], cache: str) -> Reach:
    shape = (region.demand.n, region.sites.n)
    by_type = tuple(pairs_to_csr(arrays[f"rows_{t}"], arrays[f"cols_{t}"], arrays[f"dist_{t}"], shape)
                    for t in range(len(limits)))
    nodes, virtual, segments, kept, dropped = (int(v) for v in arrays["graph"])
    graph_seconds, snap_seconds, search_seconds = (float(v) for v in arrays["seconds"])
    summary = NetworkSummary(
        path=spec.path, walk_speed_m_per_min=spec.walk_speed_m_per_min,
        suspicious_access_m=spec.suspicious_access_m, limits_m=limits,
        demand_access_m=arrays["demand_access"], site_access_m=arrays["site_access"],
        graph={"nodes": nodes, "virtual_nodes": virtual, "segments": segments, "ways_kept": kept,
               "ways_dropped": dropped},
        cache=cache, seconds={"graph": graph_seconds, "snap": snap_seconds, "search": search_seconds})
    return Reach(by_type, "m", limits, "network", summary)
