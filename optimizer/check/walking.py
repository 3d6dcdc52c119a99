"""The checker's own walking distances: each unit to its nearest open facility, per type.

Independent of `optimizer.reach.build` and `optimizer.reach.walking`: it shares only reading the
network, building the segment graph and snapping points (`optimizer.reach.network`). The
shortest paths are computed differently: no virtual nodes and no batches, but for each type
one Dijkstra (`min_only`) from the open facilities at once, each starting at both ends of its
segment with its access and its distance along the segment already walked. A unit then
leaves its own segment by the better end, or walks along it straight to an open facility on
the same segment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from optimizer.inputs.geodata import Region
from optimizer.reach.network import Snap, StreetGraph, load_street_graph, network_bbox, snap_points
from optimizer.scenario.format import Scenario

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def nearest_open_walk(scenario: Scenario, region: Region, base_dir: Path,
                      is_open: BoolArray) -> dict[str, FloatArray]:
    """Per type, walking metres from each unit to the nearest open facility (inf if none)."""
    spec = scenario.network
    assert spec is not None
    xy = np.vstack([region.demand.xy, region.sites.xy])
    bbox = network_bbox(spec, list(scenario.facility_types.values()), xy, region.crs)
    graph = load_street_graph(spec, base_dir, region.crs, bbox)
    units, sites = snap_points(graph, region.demand.xy), snap_points(graph, region.sites.xy)
    return {name: _nearest(graph, units, _subset(sites, is_open[:, t]))
            for t, name in enumerate(region.type_names)}


def _subset(snap: Snap, keep: BoolArray) -> Snap:
    return Snap(snap.seg[keep], snap.along_m[keep], snap.access_m[keep])


def _nearest(graph: StreetGraph, units: Snap, open_sites: Snap) -> FloatArray:
    if len(open_sites.seg) == 0:
        return np.full(len(units.seg), np.inf)
    from_open = _from_open_sites(graph, open_sites)
    length = graph.seg_len_m[units.seg]
    via_u = from_open[graph.seg_u[units.seg]] + units.along_m
    via_v = from_open[graph.seg_v[units.seg]] + (length - units.along_m)
    best = np.minimum(via_u, via_v)
    return units.access_m + np.minimum(best, _same_segment(units, open_sites))


def _from_open_sites(graph: StreetGraph, open_sites: Snap) -> FloatArray:
    """Shortest walk from any open facility to every node (its access and its way to the node)."""
    n = graph.n_nodes
    length = graph.seg_len_m[open_sites.seg]
    start = pd.DataFrame({
        "node": np.concatenate([graph.seg_u[open_sites.seg], graph.seg_v[open_sites.seg]]),
        "metres": np.concatenate([open_sites.access_m + open_sites.along_m,
                                  open_sites.access_m + length - open_sites.along_m]),
    }).groupby("node")["metres"].min()
    # Node n is a super-source joined to every starting node by the walk already done.
    rows = np.concatenate([graph.seg_u, graph.seg_v, np.full(len(start), n)])
    cols = np.concatenate([graph.seg_v, graph.seg_u, start.index.to_numpy()])
    weights = np.concatenate([graph.seg_len_m, graph.seg_len_m, start.to_numpy()])
    network = sp.csr_array((weights, (rows, cols)), shape=(n + 1, n + 1))
    return np.asarray(dijkstra(network, directed=True, indices=[n], min_only=True)[:n], dtype=np.float64)


def _same_segment(units: Snap, open_sites: Snap) -> FloatArray:
    """Walk along a unit's own segment to an open facility on it (inf where there is none)."""
    pairs = pd.DataFrame({"unit": np.arange(len(units.seg)), "seg": units.seg, "at": units.along_m}).merge(
        pd.DataFrame({"seg": open_sites.seg, "site_at": open_sites.along_m, "access": open_sites.access_m}),
        on="seg")
    best = np.full(len(units.seg), np.inf)
    if len(pairs):
        walk = (pairs["at"] - pairs["site_at"]).abs() + pairs["access"]
        shortest = walk.groupby(pairs["unit"]).min()
        best[shortest.index.to_numpy()] = shortest.to_numpy()
    return best
