"""Benchmark instances as engine inputs: a scenario document plus in-memory tables.

Every instance goes through the public API (`optimizer.solve_tables`), never a side model:

- p-median: one facility type, `min_distance` with weight "units", a count target
  min = max = p, the all-pairs shortest-path table, a radius above every distance;
- UFLP: `min_distance` priced at 1 yuan per unit, table value c_ij, site capital cost f_i;
- CFLP: the same plus capacities (per-site field s_i, capacity weight d_j, splittable);
- SCP: a 100% coverage target, pairs at distance 0, a capital cost per column;
- LSCP: the same with unit costs on Euclidean pairs within S;
- MCLP: `max_coverage` with a count target max = p, the population as weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bench.coverdata import Points
from bench.orlib import PMedian, SetCover, Warehouse

Tables = tuple[dict[str, Any], pd.DataFrame, pd.DataFrame, pd.DataFrame]


@dataclass(frozen=True)
class Case:
    """One benchmark solve.

    Attributes
    ----------
    family : str
        Problem family shown in the table (p-median, UFLP, CFLP, SCP, LSCP, MCLP).
    name : str
        Instance name (with S, p or capacity where one file gives several instances).
    known : float
        The known optimum (or reference value) of the objective.
    measure : str
        Which figure of the checked plan is the objective: "distance" (weighted distance),
        "money" (cost + priced distance), "cost" (total cost) or "coverage" (weighted coverage).
    build : callable
        ``build(backend, time_limit_s) -> (scenario, demand, sites, distances)``.
    time_limit_s : float
        Default per-instance limit (the CLI may override it).
    """

    family: str
    name: str
    known: float
    measure: str
    build: Callable[[str, float], Tables]
    time_limit_s: float = 60.0


def _solver(backend: str, time_limit_s: float) -> dict[str, Any]:
    return {"backend": backend, "time_limit_s": time_limit_s, "mip_gap": 0.0}


def _all_pairs(dist: np.ndarray) -> pd.DataFrame:
    """Long-form table of a (demand x site) matrix; infinite entries (no path) left out."""
    i, s = np.nonzero(np.isfinite(dist))
    return pd.DataFrame({"demand_id": i, "site_id": s, "distance": dist[i, s]})


def pmedian_tables(inst: PMedian, backend: str, time_limit_s: float) -> Tables:
    """p-median: every vertex a unit (weight 1) and a candidate site; exactly p medians."""
    n = len(inst.dist)
    radius = float(np.nanmax(inst.dist[np.isfinite(inst.dist)])) + 1.0
    doc = {"format": 1, "name": inst.name, "demand": {"id": "id"}, "sites": {"id": "id"},
           "facility_types": {"median": {"radius_m": radius}},
           "targets": [{"kind": "count", "facility": "median", "min": inst.p, "max": inst.p}],
           "objective": "min_distance", "min_distance": {"weight": "units"},
           "solver": _solver(backend, time_limit_s)}
    ids = pd.DataFrame({"id": np.arange(n)})
    return doc, ids, ids.copy(), _all_pairs(inst.dist)


def warehouse_tables(inst: Warehouse, capacity: float | None, backend: str, time_limit_s: float) -> Tables:
    """UFLP (``capacity`` None) or multi-source CFLP (per-site capacity, demand d_j as weight).

    The table's value is c_ij, the total cost of serving customer j from site i, priced at
    1 yuan per unit with weight "units" (so it is never multiplied by d_j)."""
    m, n = inst.cost.shape
    ftype: dict[str, Any] = {"radius_m": float(inst.cost.max()) + 1.0}
    sites_spec: dict[str, Any] = {"id": "id", "cost": {"warehouse": "fixed"}}
    sites = pd.DataFrame({"id": np.arange(m), "fixed": inst.fixed})
    if capacity is not None:
        ftype["capacity_weight"] = "demand"
        sites_spec["capacity"] = {"warehouse": "cap"}
        sites["cap"] = np.where(np.isnan(inst.capacity), capacity, inst.capacity)
    doc = {"format": 1, "name": inst.name, "demand": {"id": "id", "weights": {"demand": "d"}},
           "sites": sites_spec, "facility_types": {"warehouse": ftype}, "targets": [],
           "objective": "min_distance", "min_distance": {"weight": "units", "yuan_per_unit": 1.0},
           "solver": _solver(backend, time_limit_s)}
    demand = pd.DataFrame({"id": np.arange(n), "d": inst.demand})
    return doc, demand, sites, _all_pairs(inst.cost.T)


def setcover_tables(inst: SetCover, backend: str, time_limit_s: float) -> Tables:
    """Weighted set covering: rows are units, columns are sites that cover their rows at distance 0."""
    doc = {"format": 1, "name": inst.name, "demand": {"id": "id"},
           "sites": {"id": "id", "cost": {"column": "cost"}},
           "facility_types": {"column": {"radius_m": 1.0}},
           "targets": [{"kind": "coverage", "facility": "column", "min_share": 1.0}],
           "objective": "min_cost", "solver": _solver(backend, time_limit_s)}
    demand = pd.DataFrame({"id": np.arange(int(inst.rows.max()) + 1)})
    sites = pd.DataFrame({"id": np.arange(len(inst.cost)), "cost": inst.cost})
    pairs = pd.DataFrame({"demand_id": inst.rows, "site_id": inst.cols, "distance": 0.0})
    return doc, demand, sites, pairs


def euclidean_pairs(points: Points) -> pd.DataFrame:
    """All pairs with the Euclidean distance sqrt(dx^2 + dy^2) (exact for integer ties)."""
    diff = points.xy[:, None, :] - points.xy[None, :, :]
    return _all_pairs(np.sqrt((diff**2).sum(axis=2)))


def lscp_tables(points: Points, radius: float, backend: str, time_limit_s: float) -> Tables:
    """LSCP: least number of sites (unit capital cost) covering every point within `radius`."""
    doc = {"format": 1, "name": f"{points.name} S={radius:g}", "demand": {"id": "id"}, "sites": {"id": "id"},
           "facility_types": {"site": {"radius_m": radius, "capital_cost": 1.0}},
           "targets": [{"kind": "coverage", "facility": "site", "min_share": 1.0}],
           "objective": "min_cost", "solver": _solver(backend, time_limit_s)}
    ids = pd.DataFrame({"id": np.arange(len(points.xy))})
    return doc, ids, ids.copy(), euclidean_pairs(points)


def mclp_tables(points: Points, radius: float, p: int, backend: str, time_limit_s: float) -> Tables:
    """MCLP: most population within `radius` of at most p open sites."""
    doc = {"format": 1, "name": f"{points.name} S={radius:g} p={p}",
           "demand": {"id": "id", "weights": {"population": "w"}}, "sites": {"id": "id"},
           "facility_types": {"site": {"radius_m": radius}},
           "targets": [{"kind": "count", "facility": "site", "max": p}],
           "objective": "max_coverage", "solver": _solver(backend, time_limit_s)}
    demand = pd.DataFrame({"id": np.arange(len(points.xy)), "w": points.weight})
    return doc, demand, pd.DataFrame({"id": np.arange(len(points.xy))}), euclidean_pairs(points)
