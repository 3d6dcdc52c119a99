"""Benchmark: walking reach on a synthetic city street network.

    python -m bench.network_reach                      # 520 x 520 grid (>= 500k edges), 100k units, 10k sites
    python -m bench.network_reach --side 120 --demand 5000 --sites 500   # a quick run

A perturbed grid street network (nodes jittered, 5% of the streets missing) with demand units
and candidate sites scattered at random. Times the stages that `optimizer.reach.walking` runs:
building the graph from lines, snapping every point onto its nearest segment (with virtual
nodes), and the bounded batched Dijkstra search. Prints each stage's seconds and the peak
resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import time

import geopandas as gpd
import numpy as np
import shapely

from optimizer.reach.network import build_street_graph, snap_points
from optimizer.reach.walking import SEARCH_MEMORY_MB, attach_points, walk_pairs

CRS = "EPSG:32650"


def street_grid(side: int, spacing_m: float, rng: np.random.Generator) -> gpd.GeoSeries:
    """`side` x `side` jittered nodes joined to their right and upper neighbours; 5% of streets dropped."""
    ix, iy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.column_stack([ix.ravel(), iy.ravel()]) * spacing_m
    xy += rng.uniform(-0.25, 0.25, xy.shape) * spacing_m
    node = np.arange(side * side).reshape(side, side)
    u = np.concatenate([node[:-1, :].ravel(), node[:, :-1].ravel()])
    v = np.concatenate([node[1:, :].ravel(), node[:, 1:].ravel()])
    keep = rng.random(len(u)) >= 0.05
    lines = shapely.linestrings(np.stack([xy[u[keep]], xy[v[keep]]], axis=1))
    return gpd.GeoSeries(lines, crs=CRS)


def run(side: int, n_demand: int, n_sites: int, limit_m: float, memory_mb: float, seed: int) -> dict[str, float]:
    """Build the network and reach once; return the figures."""
    rng = np.random.default_rng(seed)
    spacing = 60.0
    lines = street_grid(side, spacing, rng)
    extent = (side - 1) * spacing
    demand_xy = rng.uniform(0, extent, (n_demand, 2))
    site_xy = rng.uniform(0, extent, (n_sites, 2))
    clock = time.perf_counter()
    graph = build_street_graph(lines)
    t_graph = time.perf_counter() - clock
    clock = time.perf_counter()
    snap = snap_points(graph, np.vstack([demand_xy, site_xy]))
    walk, point_node = attach_points(graph, snap)
    t_snap = time.perf_counter() - clock
    clock = time.perf_counter()
    i, s, dist = walk_pairs(walk, (point_node[:n_demand], snap.access_m[:n_demand]),
                            (point_node[n_demand:], snap.access_m[n_demand:]), limit_m, memory_mb=memory_mb)
    t_search = time.perf_counter() - clock
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    covered = len(np.unique(i))
    return {"edges": graph.n_segments, "nodes": graph.n_nodes, "virtual_nodes": walk.adjacency.shape[0] - graph.n_nodes,
            "demand": n_demand, "sites": n_sites, "pairs": len(i), "units_in_reach": covered,
            "build_graph_s": t_graph, "snap_s": t_snap, "search_s": t_search, "peak_mb": peak_mb,
            "max_dist_m": float(dist.max()) if len(dist) else 0.0, "sites_used": len(np.unique(s))}


def main() -> None:
    """Parse arguments, run once, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=520, help="grid nodes per side (520: ~513k edges)")
    parser.add_argument("--demand", type=int, default=100_000)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--limit-m", type=float, default=1000.0)
    parser.add_argument("--memory-mb", type=float, default=SEARCH_MEMORY_MB, help="Dijkstra batch budget")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    figures = run(args.side, args.demand, args.sites, args.limit_m, args.memory_mb, args.seed)
    print(f"network {figures['edges']:,} edges, {figures['nodes']:,} nodes (+{figures['virtual_nodes']:,} "
          f"virtual); {figures['demand']:,} demand units x {figures['sites']:,} sites, limit {args.limit_m:g} m")
    print(f"build graph {figures['build_graph_s']:.2f} s · snap {figures['snap_s']:.2f} s · "
          f"search {figures['search_s']:.2f} s · peak {figures['peak_mb']:,.0f} MB")
    print(f"{figures['pairs']:,} pairs within reach; {figures['units_in_reach']:,} units reach a site; "
          f"longest {figures['max_dist_m']:.1f} m")


if __name__ == "__main__":
    main()
