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
import resource
from dataclasses import asdict
from typing import Any

from bench.scale_city import make
from bench.scale_ours import run_ours


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
        out = run_ours(city, args.model, args.method, args.time_limit)
    out.peak_mb = peak_mb()
    extra: dict[str, Any] = {"p_mclp": city.p_mclp, "p_median": city.p_median,
                             "reachable": int(city.reachable.sum())}
    print("RESULT " + json.dumps(asdict(out) | extra), flush=True)


if __name__ == "__main__":
    main()
