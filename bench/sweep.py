"""Budget sweep benchmark: cold solves per level vs the warm sweep vs local workers.

    python -m bench.sweep --units 20000 --sites 3000 --levels 20 --out /tmp/sweepbench

Writes a synthetic city (`bench.synthetic`) and a `max_coverage` variant of its scenario
(coverage within each capital budget; the one target kept is a street centre per zone, so the
least sufficient budget is 8 x 3 million = 24 million), then times

1. cold solves: a sample of levels, each from scratch (no start) with ``--cold-time-limit``;
2. the warm sweep: every level, upward, each from the level below topped up greedily, with
   ``--time-limit`` per level (`optimizer.sweep.run`);
3. the same sweep with ``--workers`` local worker processes.

It prints seconds, weighted coverage and gaps per level and the ratio of each sweep's wall time
to one cold solve (target: the warm sweep of 20 levels within 4 cold solves). Figures go to
``OUT/bench_sweep.json``. Timings are wall clock; say whether the machine was shared.

With ``--auto-levels N`` it times instead what a planner runs on the city's own scenario: one
``solve`` and ``eldercare sweep --levels N`` (automatic levels from the least sufficient budget),
each level with ``--time-limit``; it prints the ratio, each level's seconds against its limit,
and the levels written from the unlimited-budget plan. Figures go to ``OUT/bench_auto.json``::

    python -m bench.sweep --units 5000 --sites 1000 --auto-levels 10 --time-limit 30 --out /tmp/sweepbench
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from bench.synthetic import write_city
from optimizer.plan import solve_file
from optimizer.scenario.format import load_scenario
from optimizer.sweep.levels import prepare_sweep, run_level
from optimizer.sweep.run import SweepSettings, sweep_file

LEAST_SUFFICIENT_CNY = 24e6   # one street centre (3 million) in each of the 8 zones


def sweep_variant(city_scenario: Path, *, time_limit_s: float) -> Path:
    """The city's scenario as `max_coverage` with only the per-zone street-centre target."""
    doc = json.loads(city_scenario.read_text(encoding="utf-8"))
    doc["name"] = doc["name"] + ", max coverage per capital budget"
    doc["objective"] = "max_coverage"
    doc["targets"] = [{"kind": "count", "facility": "street_centre", "per_zone": True, "min": 1}]
    doc["budget"] = {"capital": None, "annual": None, "horizon_years": 3}
    doc["solver"]["time_limit_s"] = time_limit_s
    path = city_scenario.with_name("sweep_scenario.json")
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def level_budgets(levels: int, *, low_cny: float, step_cny: float) -> tuple[float, ...]:
    """`levels` budgets from `low_cny` in steps of `step_cny`."""
    return tuple(low_cny + step_cny * k for k in range(levels))


def cold_solves(scenario_path: Path, budgets: list[float], *, time_limit_s: float) -> list[dict[str, Any]]:
    """Each budget solved from scratch: no start, no greedy top-up."""
    scenario, base_dir = load_scenario(scenario_path)
    solver = scenario.solver.model_copy(update={"time_limit_s": time_limit_s})
    prep = prepare_sweep(scenario.model_copy(update={"solver": solver}), base_dir, elastic=False)
    out = []
    for budget in budgets:
        began = time.perf_counter()
        outcome = run_level(prep, budget, None, greedy=False)
        out.append(_figures(budget, outcome.document, time.perf_counter() - began))
        print(f"  cold {budget / 1e6:6.1f} M: {out[-1]['seconds']:7.1f} s  coverage {out[-1]['coverage']}  "
              f"gap {out[-1]['gap']}  {out[-1]['status']}", flush=True)
    return out


def _figures(budget: float, document: dict[str, Any], seconds: float) -> dict[str, Any]:
    return {"budget": budget, "seconds": round(seconds, 2), "status": document["status"],
            "coverage": document["objective"], "bound": document["bound"], "gap": document["gap"],
            "capital": (document["cost"] or {}).get("capital")}


def timed_sweep(scenario_path: Path, out: Path, budgets: tuple[float, ...], *, workers: int,
                time_limit_s: float) -> dict[str, Any]:
    """One sweep into `out` (fresh), its wall time and its levels."""
    began = time.perf_counter()
    frontier = sweep_file(scenario_path, SweepSettings(out, budgets=budgets, workers=workers),
                          solver={"time_limit_s": time_limit_s})
    seconds = time.perf_counter() - began
    levels = [{"budget": r["budget"], "seconds": r["seconds"], "status": r["status"], "coverage": r["coverage"],
               "bound": r["bound"], "gap": r["gap"], "capital": r["capital"]} for r in frontier.rows]
    return {"workers": workers, "seconds": round(seconds, 2), "levels": levels, "monotone": frontier.monotone,
            "least_sufficient": frontier.document["least_sufficient"]}


def report(figures: dict[str, Any]) -> None:
    """Print the comparison: per level, then totals and ratios to one cold solve."""
    cold = figures["cold"]
    one_cold = statistics.mean(c["seconds"] for c in cold) if cold else None
    warm = {lv["budget"]: lv for lv in figures["warm"]["levels"]}
    print("\nbudget M | cold s | cold coverage | warm s | warm coverage | warm gap")
    for c in cold:
        w = warm.get(c["budget"], {})
        print(f"{c['budget'] / 1e6:8.1f} | {c['seconds']:6.1f} | {c['coverage'] or 0:13,.0f} | "
              f"{w.get('seconds', 0):6.1f} | {w.get('coverage') or 0:13,.0f} | {w.get('gap')}")
    print(f"\nprepare (region, reach, model): {figures['prepare_s']:.1f} s")
    for name in ("warm", "workers"):
        run = figures.get(name)
        if run is None:
            continue
        ratio = f" = {run['seconds'] / one_cold:.2f} x one cold solve" if one_cold else ""
        print(f"{name} sweep ({run['workers']} worker(s), {len(run['levels'])} levels): {run['seconds']:.1f} s"
              f"{ratio}; monotone: {run['monotone']}")
    if one_cold:
        print(f"one cold solve (mean of {len(cold)}): {one_cold:.1f} s; sequential cold sweep of "
              f"{len(figures['warm']['levels'])} levels ~ {one_cold * len(figures['warm']['levels']):.0f} s "
              f"(extrapolated); target: warm sweep <= 4 x one cold solve")


def main() -> None:
    """CLI: build or reuse the city, run the three configurations, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--sites", type=int, default=3_000)
    parser.add_argument("--levels", type=int, default=20)
    parser.add_argument("--low", type=float, default=LEAST_SUFFICIENT_CNY, help="first budget, yuan")
    parser.add_argument("--step", type=float, default=5e6, help="budget step, yuan")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per warm level")
    parser.add_argument("--cold-time-limit", type=float, default=120.0, help="seconds per cold solve")
    parser.add_argument("--cold-samples", type=int, default=3, help="levels solved cold (spread over the range)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--auto-levels", type=int, default=None,
                        help="instead: one solve of the city against its automatic sweep of this many levels")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.auto_levels is not None:
        auto = run_auto(args)
        (args.out / "bench_auto.json").write_text(json.dumps(auto, indent=1), encoding="utf-8")
        return
    figures = run(args)
    (args.out / "bench_sweep.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    report(figures)


def run_auto(args: argparse.Namespace) -> dict[str, Any]:
    """One solve of the city's scenario, then its sweep with automatic levels; figures as a dict."""
    city = args.out / f"city{args.units}x{args.sites}"
    city_scenario = city / "scenario.json"
    if not city_scenario.is_file():
        write_city(city, args.units, args.sites)
    began = time.perf_counter()
    plan = solve_file(city_scenario, time_limit_s=args.time_limit)
    one = time.perf_counter() - began
    print(f"one solve: {one:.1f} s ({plan.status})", flush=True)
    out = args.out / f"auto{args.auto_levels}"
    shutil.rmtree(out, ignore_errors=True)
    began = time.perf_counter()
    frontier = sweep_file(city_scenario, SweepSettings(out, levels=args.auto_levels),
                          solver={"time_limit_s": args.time_limit})
    seconds = time.perf_counter() - began
    document = frontier.document
    levels = [{"budget": r["budget"], "seconds": r["seconds"], "status": r["status"], "coverage": r["coverage"],
               "capital": r["capital"], "reused": r["reused"], "saturated": r["saturated"]} for r in frontier.rows]
    for level in levels:
        print(f"  {level['budget'] / 1e6:9.2f} M  {level['seconds']:6.1f} s  {level['status']:22}"
              f"{' reused' if level['reused'] else ''}", flush=True)
    capital = {kind: {k: (document[kind] or {}).get(k) for k in ("capital", "status", "seconds")}
               for kind in ("least_sufficient", "unlimited")}
    worst = max(level["seconds"] for level in levels) if levels else 0.0
    print(f"sweep of {len(levels)} levels: {seconds:.1f} s = {seconds / one:.2f} x one solve; slowest level "
          f"{worst:.1f} s against a {args.time_limit:g} s limit; {sum(lv['reused'] for lv in levels)} written from "
          f"the unlimited-budget plan; least / unlimited: {capital}")
    return {"units": args.units, "sites": args.sites, "time_limit_s": args.time_limit, "one_solve_s": round(one, 2),
            "sweep_s": round(seconds, 2), "ratio": round(seconds / one, 2), "levels": levels, "capital_solves": capital,
            "saturation": document["saturation"], "load_average": os.getloadavg()}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The three configurations on one city; figures as a dict."""
    city = args.out / f"city{args.units}x{args.sites}"
    city_scenario = city / "scenario.json"
    if not city_scenario.is_file():
        write_city(city, args.units, args.sites)
    path = sweep_variant(city_scenario, time_limit_s=args.time_limit)
    budgets = level_budgets(args.levels, low_cny=args.low, step_cny=args.step)
    began = time.perf_counter()
    prepare_sweep(*load_scenario(path), elastic=False)
    figures: dict[str, Any] = {"units": args.units, "sites": args.sites, "cpus": os.cpu_count(),
                               "load_average_at_start": os.getloadavg(), "prepare_s": time.perf_counter() - began,
                               "time_limit_s": args.time_limit, "cold_time_limit_s": args.cold_time_limit}
    sample = sorted({round(k * (len(budgets) - 1) / max(args.cold_samples - 1, 1)) for k in range(args.cold_samples)})
    print(f"cold solves of {len(sample)} of {len(budgets)} levels ({args.cold_time_limit:g} s limit each)", flush=True)
    figures["cold"] = cold_solves(path, [budgets[k] for k in sample], time_limit_s=args.cold_time_limit)
    print(f"warm sweep, {len(budgets)} levels ({args.time_limit:g} s limit per level)", flush=True)
    figures["warm"] = timed_sweep(path, args.out / "warm", budgets, workers=1, time_limit_s=args.time_limit)
    if args.workers > 1:
        print(f"warm sweep with {args.workers} local workers", flush=True)
        figures["workers"] = timed_sweep(path, args.out / f"workers{args.workers}", budgets,
                                         workers=args.workers, time_limit_s=args.time_limit)
    figures["load_average_at_end"] = os.getloadavg()
    return figures


if __name__ == "__main__":
    main()
