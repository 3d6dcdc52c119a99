"""``python -m bench pcenter``: the least radius (`min_radius`) on Swain 55 and SJC324 against an
exact reference computed here.

    python -m bench pcenter [--sets swain55,SJC324] [--p 1,2,3,4,5,10] [--time-limit 60]
    python -m bench pcenter --city 5000x1000 --p 100 [--limit-m 3000] [--time-limit 60]

Ours: every node a unit and a candidate site, Euclidean distances, at most p sites, objective
`min_radius`, solved end to end by `optimizer.solve_tables` (plan re-checked by the checker).

Reference (no code of the engine): the vertex p-center radius is the least distance R among the
pairwise distances for which the location set-covering problem at R needs at most p sites, and
that need only falls as R grows. So a bisection over the sorted distinct distances, each step an
exact set-covering MIP (one row per node, ``sum_{j: d_ij <= R} y_j >= 1``, min sum y) solved to
optimality by SciPy's HiGHS (`scipy.optimize.milp`), gives the radius exactly. Swain's published
LSCP table (`bench.coverdata.SWAIN_LSCP`) brackets it: e.g. 1 site covers at S = 30 but 2 are
needed at S = 25, so the 1-center radius lies in (25, 30].

``--city``: the synthetic city of `bench.synthetic.make_city` (seed 0), at most p stations, every
unit with a site within ``--limit-m`` counted; ours only (its proven range is the result).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from bench.cases import _points
from bench.coverdata import Points
from bench.instances import euclidean_pairs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m bench pcenter``."""
    parser.add_argument("--sets", default="swain55,SJC324")
    parser.add_argument("--p", default="1,2,3,4,5,10")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--backend", default="highs")
    parser.add_argument("--city", default="", help="UNITSxSITES: the synthetic city instead of the sets")
    parser.add_argument("--limit-m", type=float, default=3000.0, help="city: a station's limit in metres")


def _distances(points: Points) -> np.ndarray:
    diff = points.xy[:, None, :] - points.xy[None, :, :]
    return np.asarray(np.sqrt((diff**2).sum(axis=2)))


def cover_size(dist: np.ndarray, radius: float) -> int:
    """Least sites covering every node within `radius` (exact, SciPy's HiGHS)."""
    n = dist.shape[1]
    cover = sp.csr_array((dist <= radius).astype(np.float64))
    res = milp(np.ones(n), constraints=LinearConstraint(cover, 1.0, np.inf), integrality=np.ones(n),
               bounds=Bounds(0, 1))
    if res.status != 0:
        raise RuntimeError(f"set covering at {radius} not solved: {res.message}")
    return round(res.fun)


def reference_radius(dist: np.ndarray, p: int) -> float:
    """The exact vertex p-center radius by bisection over the distinct distances."""
    distances = np.unique(dist)
    lo, hi = int(np.searchsorted(distances, dist.min(axis=1).max())), len(distances) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cover_size(dist, float(distances[mid])) <= p:
            hi = mid
        else:
            lo = mid + 1
    return float(distances[lo])


def ours(points: Points, p: int, backend: str, limit: float) -> tuple[float, float | None, float | None, str]:
    """(checked radius, proven lower, upper, status) of the engine's `min_radius` plan."""
    import pandas as pd

    from optimizer import solve_tables

    doc = {"format": 1, "name": f"{points.name} p-center p={p}", "demand": {"id": "id"}, "sites": {"id": "id"},
           "facility_types": {"site": {"radius_m": 1e7}},
           "targets": [{"kind": "count", "facility": "site", "max": p}],
           "objective": "min_radius", "solver": {"backend": backend, "time_limit_s": limit, "mip_gap": 0.0}}
    ids = pd.DataFrame({"id": np.arange(len(points.xy))})
    result = solve_tables(doc, ids, ids.copy(), euclidean_pairs(points))
    phase = result.solution.phase("radius")
    radius = max(result.checked.radius.values()) if result.checked is not None else float("nan")
    lower = phase.result.bound if phase is not None else None
    upper = phase.result.objective if phase is not None else None
    return radius, lower, upper, str(result.status)


def run_city(args: argparse.Namespace) -> int:
    """The synthetic city at each p: the proven range of the least radius."""
    from bench.synthetic import make_city
    from optimizer.plan import prepare_tables, solve_prepared

    units, sites = (int(v) for v in args.city.split("x"))
    demand, site_layer = make_city(units, sites, seed=0)
    for p in (int(v) for v in args.p.split(",")):
        doc = {"format": 1, "name": f"city p-center p={p}", "crs": "EPSG:32650", "demand": {"id": "id"},
               "sites": {"id": "id"}, "facility_types": {"station": {"radius_m": args.limit_m}},
               "targets": [{"kind": "count", "facility": "station", "max": p}], "objective": "min_radius",
               "solver": {"backend": args.backend, "time_limit_s": args.time_limit, "mip_gap": 0.0}}
        t0 = time.perf_counter()
        result = solve_prepared(prepare_tables(doc, demand[["id", "geometry"]], site_layer[["id", "geometry"]]))
        phase = result.solution.phase("radius")
        radius = max(result.checked.radius.values()) if result.checked is not None else float("nan")
        ends = (phase.result.bound, phase.result.objective) if phase is not None else (None, None)
        print(f"city {args.city} p={p}: radius {radius:,.1f} m, proven range {ends} {result.status} "
              f"({time.perf_counter() - t0:.1f} s end to end); {phase.result.notes if phase else ''}", flush=True)
    return 0


def run_pcenter(args: argparse.Namespace) -> int:
    """Each set and p: ours against the reference; a line each (or the city with ``--city``)."""
    if args.city:
        return run_city(args)
    bad = 0
    for name in args.sets.split(","):
        points = _points(name)
        dist = _distances(points)
        for p in (int(v) for v in args.p.split(",")):
            t0 = time.perf_counter()
            exact = reference_radius(dist, p)
            t1 = time.perf_counter()
            radius, lower, upper, status = ours(points, p, args.backend, args.time_limit)
            t2 = time.perf_counter()
            match = abs(radius - exact) <= 1e-6 * max(1.0, exact)
            bad += not match or status != "optimal"
            print(f"{name:8} p={p:<3} reference {exact:10.4f} ({t1 - t0:5.1f} s)  ours {radius:10.4f} "
                  f"[{lower:.4f}, {upper:.4f}] {status} ({t2 - t1:5.1f} s)  {'match' if match else 'MISMATCH'}",
                  flush=True)
    return 1 if bad else 0
