"""Which sites can serve which demand units, per facility type: sparse, never dense.

The result is a `optimizer.reach.base.Reach`. Sources: straight line (a grid join,
`optimizer.reach.radius_join`), a precomputed distance table, or walking distance on a road
network (`network` in the scenario, built in `optimizer.reach.walking`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree

from optimizer.errors import ScenarioError
from optimizer.inputs.geodata import Region
from optimizer.reach.base import Reach, pairs_to_csr, served_and_candidates
from optimizer.reach.radius_join import radius_join
from optimizer.reach.walking import network_reach
from optimizer.scenario.format import Scenario

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def build_reach(scenario: Scenario, region: Region, base_dir: Path) -> Reach:
    """Reach of every facility type, from the scenario's reach source."""
    if scenario.network is not None:
        return network_reach(scenario, region, base_dir)
    if region.distances is not None:
        return _table_reach(scenario, region)
    return _straight_line_reach(scenario, region)


def _straight_line_reach(scenario: Scenario, region: Region) -> Reach:
    by_type, limits = [], []
    for t, (name, ftype) in enumerate(scenario.facility_types.items()):
        if ftype.radius_m is None:
            raise ScenarioError("straight-line reach needs `radius_m` (metres); `walk_minutes` "
                                "alone applies to networks and time tables", f"facility_types.{name}")
        rows, cols = served_and_candidates(scenario, region, t)
        by_type.append(_radius_pairs(region, rows, cols, ftype.radius_m))
        limits.append(ftype.radius_m)
    return Reach(tuple(by_type), "m", tuple(limits), "straight_line")


def _radius_pairs(region: Region, rows: IntArray, cols: IntArray, radius_m: float) -> sp.csr_array:
    """Pairs with ``np.hypot(*(demand.xy[i] - sites.xy[s])) <= radius_m``, distances as values."""
    shape = (region.demand.n, region.sites.n)
    if len(rows) == 0 or len(cols) == 0:
        return sp.csr_array(shape, dtype=np.float64)
    indptr, indices, dist = radius_join(region.demand.xy, rows, region.sites.xy, cols, radius_m, shape[0])
    return sp.csr_array((dist, indices, indptr), shape=shape)


def _table_reach(scenario: Scenario, region: Region) -> Reach:
    pairs = region.distances
    assert pairs is not None
    by_type, limits = [], []
    for t, (name, ftype) in enumerate(scenario.facility_types.items()):
        limit = ftype.radius_m if pairs.unit == "m" else ftype.walk_minutes
        if limit is None:
            field_name = "radius_m" if pairs.unit == "m" else "walk_minutes"
            raise ScenarioError(f"the distance table is in '{pairs.unit}'; give `{field_name}`",
                                f"facility_types.{name}")
        rows, cols = served_and_candidates(scenario, region, t)
        keep = (pairs.value <= limit) & np.isin(pairs.demand, rows) & np.isin(pairs.site, cols)
        by_type.append(pairs_to_csr(pairs.demand[keep], pairs.site[keep], pairs.value[keep],
                                    (region.demand.n, region.sites.n)))
        limits.append(float(limit))
    return Reach(tuple(by_type), pairs.unit, tuple(limits), "table")


def nearest_candidate(region: Region, t: int, units: IntArray) -> FloatArray:
    """Distance from each unit to the nearest site that may host type t: straight-line metres,
    or the table's value when the region has a distance table (inf when none is listed)."""
    cols = np.flatnonzero(region.sites.candidate[:, t])
    if len(cols) == 0 or len(units) == 0:
        return np.full(len(units), np.inf)
    if region.distances is not None:
        pairs = region.distances
        keep = region.sites.candidate[pairs.site, t]
        best = np.full(region.demand.n, np.inf)
        np.minimum.at(best, pairs.demand[keep], pairs.value[keep])
        return best[units]
    dist, _ = cKDTree(region.sites.xy[cols]).query(region.demand.xy[units])
    return np.asarray(dist, dtype=np.float64)
