"""``python -m bench scale``: our backends against PySAL spopt on the same synthetic cities.

Each (size, model, method) runs in its own process (`bench.scale_worker`), so its peak memory
is its own; a run that exceeds the wall limit is killed and reported as such. spopt builds
dense n x m arrays and a Python expression per pair: beyond `SPOPT_MAX_PAIRS` (LSCP, MCLP) or
`SPOPT_MAX_PMEDIAN_PAIRS` (p-median, one PuLP variable per pair) it is not run, and the table
says "does not fit" with the estimate.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SIZES = "1000x200,5000x1000,20000x3000,50000x5000,100000x10000"
MODELS = ("lscp", "mclp", "pmedian")
METHODS = "spopt,highs,cpsat,pulp:CBC"
SPOPT_MAX_PAIRS = 1.5e8
"""LSCP / MCLP: above this, two dense float64 arrays take >= 2.4 GB and the build >= 750 s at
5 us per pair (../shared/PERF_NOTES.md); the 20,000 x 3,000 city (6e7 pairs) is the largest run."""
SPOPT_MAX_PMEDIAN_PAIRS = 1.2e6
"""p-median: spopt makes one PuLP variable and one row per pair; measured here about 10 KB per
pair (1.3 GB for 1.3e5 pairs), so 1.2e6 pairs is already ~12 GB, half of this machine."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m bench scale``."""
    parser.add_argument("--sizes", default=SIZES, help="comma-separated UNITSxSITES")
    parser.add_argument("--models", default=",".join(MODELS), help="lscp,mclp,pmedian")
    parser.add_argument("--methods", default=METHODS, help="spopt and/or our backends")
    parser.add_argument("--time-limit", type=float, default=120.0, help="solver seconds per run")
    parser.add_argument("--wall-extra", type=float, default=900.0,
                        help="seconds a run may take beyond the solver limit (model build) before it is killed")
    parser.add_argument("--jsonl", default="", help="append each run's raw result to this file")
    parser.add_argument("--out", default="", help="write the markdown tables here after every run")


def _skip_reason(model: str, units: int, sites: int) -> str:
    pairs = float(units) * sites
    limit = SPOPT_MAX_PMEDIAN_PAIRS if model == "pmedian" else SPOPT_MAX_PAIRS
    if pairs <= limit:
        return ""
    if model == "pmedian":
        return f"does not fit: {pairs:.1e} PuLP variables, ~{pairs * 1e4 / 2**30:,.0f} GB at 10 KB each"
    return (f"does not fit: dense {units:,} x {sites:,} float64 x 2 = {pairs * 16 / 2**30:,.1f} GB, "
            f"build >= {pairs * 5e-6:,.0f} s at 5 us per pair")


def run_one(units: int, sites: int, model: str, method: str, args: argparse.Namespace) -> dict[str, Any]:
    """One worker process; its JSON result, or why there is none."""
    row: dict[str, Any] = {"units": units, "sites": sites, "model": model, "method": method,
                           "load1": round(os.getloadavg()[0], 2)}   # 1-minute load at the start
    if method == "spopt" and (reason := _skip_reason(model, units, sites)):
        return row | {"status": "skipped", "note": reason}
    cmd = [sys.executable, "-m", "bench.scale_worker", "--units", str(units), "--sites", str(sites),
           "--model", model, "--method", method, "--time-limit", str(args.time_limit)]
    wall = args.time_limit + args.wall_extra
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=wall, check=False)
    except subprocess.TimeoutExpired:
        return row | {"status": "killed", "note": f"no answer within {wall:.0f} s wall", "wall_s": wall}
    row["wall_s"] = time.perf_counter() - start
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return row | {"status": "crashed", "note": f"exit {done.returncode}: {tail}"[:160]}
    return row | json.loads(line.removeprefix("RESULT "))


def run_scale(args: argparse.Namespace) -> int:
    """Every size (smallest first) x model x method; tables re-written after every run."""
    from bench.scale_table import render

    rows: list[dict[str, Any]] = []
    for size in args.sizes.split(","):
        units, sites = (int(v) for v in size.lower().split("x"))
        for model in args.models.split(","):
            for method in args.methods.split(","):
                rows.append(run_one(units, sites, model, method, args))
                print(json.dumps(rows[-1]), flush=True)
                if args.jsonl:
                    with open(args.jsonl, "a", encoding="utf-8") as fh:
                        fh.write(json.dumps(rows[-1]) + "\n")
                if args.out:
                    Path(args.out).write_text(render(rows), encoding="utf-8")
    print(render(rows))
    return 0
