"""One scale run in its own process: a synthetic city, one model, one method; prints one JSON line.

    python -m bench.scale_worker --units 1000 --sites 200 --model lscp --method highs --time-limit 120

Models (radius 1,000 m, elderly weight ``pop60``):
- ``lscp``: least number of sites covering every unit that some site can reach;
- ``mclp``: most elderly covered by p = 10% of the sites;
- ``pmedian``: least elderly-weighted distance with exactly p sites, every unit that some site
  can reach assigned within the radius; p = a greedy cover's size + 10% of the sites (capped at
  the number of sites), so that the radius-limited problem is feasible and not trivial.
Methods: ``highs``, ``cpsat``, ``pulp:CBC`` (our engine through `optimizer.solve_tables`), and
``spopt`` (PySAL spopt's LSCP / MCLP / PMedian on its dense cost matrix, solved by PuLP's CBC).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree

from bench.synthetic import make_city

RADIUS_M = 1000.0
FloatArray = npt.NDArray[np.float64]


@dataclass
class City:
    """A synthetic city reduced to what the three models need."""

    demand: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    reachable: npt.NDArray[np.bool_]
    p_mclp: int
    p_median: int


@dataclass
class Outcome:
    """What one run reports (seconds, memory, objective and how it was proven)."""

    build_s: float | None = None
    solve_s: float | None = None
    objective: float | None = None
    status: str = ""
    bound: float | None = None
    gap: float | None = None
    peak_mb: float | None = None
    note: str = ""


def cover_matrix(demand_xy: FloatArray, site_xy: FloatArray) -> sp.csr_array:
    """Units x sites within `RADIUS_M` (the benchmark's own k-d tree, not the engine's)."""
    pairs = cKDTree(demand_xy).query_ball_tree(cKDTree(site_xy), RADIUS_M)
    rows = np.repeat(np.arange(len(pairs)), [len(p) for p in pairs])
    cols = np.fromiter((s for p in pairs for s in p), dtype=np.int64, count=len(rows))
    return sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(len(demand_xy), len(site_xy)))


def greedy_cover_size(cover: sp.csr_array) -> int:
    """Sites a greedy set cover opens to cover every reachable unit (decremental counts)."""
    csc = cover.tocsc()
    counts = np.asarray(cover.sum(axis=0)).ravel()
    covered = np.asarray(cover.sum(axis=1)).ravel() == 0   # unreachable units count as done
    opened = 0
    while not covered.all():
        s = int(np.argmax(counts))
        units = csc.indices[csc.indptr[s]:csc.indptr[s + 1]]
        new = units[~covered[units]]
        covered[new] = True
        opened += 1
        for i in new:
            counts[cover.indices[cover.indptr[i]:cover.indptr[i + 1]]] -= 1
    return opened


def make(n_units: int, n_sites: int) -> City:
    """The city of `bench.synthetic.make_city` (seed 0) with the models' p values."""
    demand, sites = make_city(n_units, n_sites, seed=0)
    dxy = np.column_stack([demand.geometry.x, demand.geometry.y])
    sxy = np.column_stack([sites.geometry.x, sites.geometry.y])
    cover = cover_matrix(dxy, sxy)
    reachable = np.asarray(cover.sum(axis=1)).ravel() > 0
    p_mclp = math.ceil(0.1 * n_sites)
    p_median = min(n_sites, greedy_cover_size(cover) + p_mclp)
    demand = demand[["id", "pop60", "geometry"]]
    sites = sites[["id", "geometry"]]
    return City(demand, sites, reachable, p_mclp, p_median)


def peak_mb() -> float:
    """Peak resident memory of this process plus that of its largest finished child (CBC), MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + child) / 1024.0


def main() -> None:
    """CLI: run one (size, model, method) and print its `Outcome` as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, required=True)
    parser.add_argument("--sites", type=int, required=True)
    parser.add_argument("--model", choices=["lscp", "mclp", "pmedian"], required=True)
    parser.add_argument("--method", required=True)
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args()
    city = make(args.units, args.sites)
    if args.method == "spopt":
        from bench.scale_spopt import run_spopt

        out = run_spopt(city, args.model, args.time_limit)
    else:
        from bench.scale_ours import run_ours

        out = run_ours(city, args.model, args.method, args.time_limit)
    out.peak_mb = peak_mb()
    extra: dict[str, Any] = {"p_mclp": city.p_mclp, "p_median": city.p_median,
                             "reachable": int(city.reachable.sum())}
    print("RESULT " + json.dumps(asdict(out) | extra), flush=True)


if __name__ == "__main__":
    main()
