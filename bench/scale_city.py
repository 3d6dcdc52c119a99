"""The synthetic city of the scale benchmark as arrays, and the record one run reports.

Shared by the engine's side (`bench.scale_ours`) and the peer's (`bench.scale_spopt`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
