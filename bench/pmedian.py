"""``python -m bench pmedian``: the p-median engine on OR-Library pmed1-40 and on a synthetic city.

    python -m bench pmedian orlib [--only 1,17,40] [--time-limit 60]
    python -m bench pmedian city [--units 20000 --sites 3000 --p 300 --radius 3000] [--time-limit 60]

Each instance runs in its own process (``python -m bench.pmedian worker ...``), so its peak
memory is its own. An instance is read, turned into a scenario (`bench.instances`), and solved
end to end by `optimizer.solve_tables` (or `solve_prepared` for the city), whose plan the
independent checker re-checks; the line reports the checked distance, the distance phase's
proven bound, the status and the peak resident memory.

The city: `bench.synthetic.make_city` (seed 0), elderly-weighted distance, exactly p sites,
every unit with a site within ``--radius`` metres assigned within it (the others left out).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m bench pmedian``."""
    parser.add_argument("set", choices=["orlib", "city"])
    parser.add_argument("--only", default="", help="orlib: comma-separated instance numbers (default 1-40)")
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--sites", type=int, default=3_000)
    parser.add_argument("--p", type=int, default=300)
    parser.add_argument("--radius", type=float, default=3_000.0, help="city: metres a unit may be served from")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--backend", default="highs")


def run_pmedian(args: argparse.Namespace) -> int:
    """Every instance in its own process, one after another; a line each."""
    if args.set == "orlib":
        numbers = [int(k) for k in args.only.split(",")] if args.only else list(range(1, 41))
        jobs = [["orlib", f"pmed{k}"] for k in numbers]
    else:
        jobs = [["city", str(args.units), str(args.sites), str(args.p), str(args.radius)]]
    proven = 0
    for job in jobs:
        cmd = [sys.executable, "-m", "bench.pmedian", "worker", *job, str(args.time_limit), args.backend]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            print(f"{' '.join(job)}: no result (exit {done.returncode}): {done.stderr.strip()[-300:]}", flush=True)
            continue
        row = json.loads(line.removeprefix("RESULT "))
        proven += row["status"] == "optimal"
        print(_line(row), flush=True)
    print(f"proven optimal: {proven}/{len(jobs)}")
    return 0


def _line(row: dict[str, Any]) -> str:
    known = f"known {row['known']:,.0f}  " if row.get("known") is not None else ""
    gap = f"{100 * row['gap']:.3f}%" if row.get("gap") is not None else "—"
    return (f"{row['name']:>22}  {known}ours {row['value']:,.1f}  bound {row['bound']:,.1f}  gap {gap}  "
            f"{row['status']}  {row['seconds']:.1f} s  peak {row['peak_mb']:,.0f} MB")


def _worker(argv: list[str]) -> None:
    """One instance: solve, check, print a RESULT line."""
    from bench.correctness import objective_value
    from optimizer import solve_tables
    from optimizer.plan import prepare_tables, solve_prepared

    start = time.perf_counter()
    known: float | None = None
    if argv[0] == "orlib":
        from bench.instances import pmedian_tables
        from bench.orlib import benchmarks_dir, read_pmed, read_pmedopt

        name, limit, backend = argv[1], float(argv[2]), argv[3]
        folder = benchmarks_dir() / "orlib_pmed"
        known = read_pmedopt(folder / "pmedopt.txt")[name]
        result = solve_tables(*pmedian_tables(read_pmed(folder / f"{name}.txt"), backend, limit))
    else:
        units, sites, p, radius, limit, backend = (int(argv[1]), int(argv[2]), int(argv[3]), float(argv[4]),
                                                   float(argv[5]), argv[6])
        name = f"city {units}x{sites} p={p}"
        doc, demand, site_layer = _city(units, sites, p, radius, backend, limit)
        result = solve_prepared(prepare_tables(doc, demand, site_layer))
    seconds = time.perf_counter() - start
    phase = result.solution.phase("distance")
    value = objective_value(result, "distance")
    bound = phase.result.bound if phase is not None else None
    gap = (value - bound) / value if value and bound is not None else None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("RESULT " + json.dumps({"name": name, "known": known, "value": value, "bound": bound, "gap": gap,
                                  "status": str(result.status), "seconds": seconds, "peak_mb": peak,
                                  "notes": list(phase.result.notes) if phase is not None else []}), flush=True)


def _city(units: int, sites: int, p: int, radius: float, backend: str, limit: float) -> tuple[Any, Any, Any]:
    """The synthetic city as a p-median scenario with its demand and site layers."""
    import numpy as np
    from scipy.spatial import cKDTree

    from bench.synthetic import make_city

    demand, site_layer = make_city(units, sites, seed=0)
    dxy = np.column_stack([demand.geometry.x, demand.geometry.y])
    sxy = np.column_stack([site_layer.geometry.x, site_layer.geometry.y])
    near, _ = cKDTree(sxy).query(dxy, k=1)
    demand = demand[near <= radius][["id", "pop60", "geometry"]]
    doc = {"format": 1, "name": "pmedian city", "crs": "EPSG:32650",
           "demand": {"id": "id", "weights": {"elderly": "pop60"}}, "sites": {"id": "id"},
           "facility_types": {"station": {"radius_m": radius, "capital_cost": 0.0}},
           "objective": "min_distance", "min_distance": {"weight": "elderly"},
           "targets": [{"kind": "count", "facility": "station", "min": p, "max": p}],
           "solver": {"backend": backend, "time_limit_s": limit, "mip_gap": 1e-4}}
    return doc, demand, site_layer[["id", "geometry"]]


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "worker":
    _worker(sys.argv[2:])
elif __name__ == "__main__":
    sys.exit(f"usage: python -m bench pmedian ...  (this module's own entry is for its workers: {Path(__file__).name})")
