"""Phased plans and beds at city scale: figures, not timed tests.

    python -m bench phased --units 20000 --sites 3000 --time-limit 60 --out /tmp/phasedbench

Writes the `bench.synthetic` city (seed 0), then solves, one run at a time, each in this
process with HiGHS and the scenario's gap (0.1%):

1. ``one-year``: the city's scenario as it is (least total cost, four types, four targets);
   its checked capital is the *one-year budget* C;
2. ``three-years``: the same city planned over 2024-2026 with growth from 2023 (elderly 3% a
   year, oldest 5%), yearly capital budgets scaled from C (2024: 0.5 C, 2025: 0.35 C, 2026:
   0.35 C; 1.2 C in all, room for the grown weights), and the station target dated 2025;
3. ``beds``: the one-year city with institutions: 2% of sites hold an existing institution
   (60-160 nursing, 20-80 ordinary beds), institutions may open where every type may (with 120
   nursing and 30 ordinary beds), three bed actions at every institution site (convert
   ordinary to nursing, add nursing, add dementia) and three beds targets.

For each: wall seconds (load, reach, model, solve, check), status, gap, total cost, whether
the independent checker accepts the plan (no violation, every target met), and model size.
Figures go to ``OUT/bench_phased.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from bench.synthetic import write_city
from optimizer.plan import solve
from optimizer.report.document import plan_document
from optimizer.scenario.format import load_scenario

YEAR_SHARES = {"2024": 0.5, "2025": 0.35, "2026": 0.35}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m bench phased``."""
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--sites", type=int, default=3_000)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--backend", default="highs")
    parser.add_argument("--runs", default="one-year,three-years,beds",
                        help="comma-separated: one-year, three-years, beds (three-years needs one-year's capital)")
    parser.add_argument("--capital", type=float, default=None,
                        help="the one-year budget C in yuan (default: the one-year run's checked capital)")
    parser.add_argument("--out", type=Path, required=True)


def three_year_doc(doc: dict[str, Any], capital_cny: float) -> dict[str, Any]:
    """The city over 2024-2026: growth, yearly capital budgets scaled from `capital_cny`, a dated target."""
    doc = json.loads(json.dumps(doc))
    doc["name"] += ", 2024-2026"
    doc["years"] = [2024, 2025, 2026]
    doc["demand"]["base_year"] = 2023
    doc["demand"]["growth"] = {"elderly": 0.03, "oldest": 0.05}
    doc["budget"] = {"capital": None, "annual": None,
                     "capital_by_year": {y: round(share * capital_cny) for y, share in YEAR_SHARES.items()}}
    doc["targets"][0]["year"] = 2025
    return doc


def beds_city(folder: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """Institutions with beds in the city's sites layer, three bed actions, three beds targets."""
    sites = gpd.read_file(folder / "sites.gpkg", engine="pyogrio")
    rng = np.random.default_rng(1)
    institution = rng.random(len(sites)) < 0.02
    sites["existing"] = np.where(institution, np.where(sites["existing"] == "", "institution",
                                                       sites["existing"] + ",institution"), sites["existing"])
    sites["allowed"] = np.where(institution & (sites["allowed"] != "*"), sites["allowed"] + ",institution",
                                sites["allowed"])
    sites["beds_nursing"] = np.where(institution, rng.integers(60, 161, len(sites)), 0)
    sites["beds_ordinary"] = np.where(institution, rng.integers(20, 81, len(sites)), 0)
    sites.to_file(folder / "sites_beds.gpkg", layer="sites", engine="pyogrio")
    doc = json.loads(json.dumps(doc))
    doc["name"] += ", institutions with beds"
    doc["sites"]["path"] = "sites_beds.gpkg"
    doc["sites"]["beds"] = {"nursing": "beds_nursing", "ordinary": "beds_ordinary"}
    doc["facility_types"]["institution"] = {"radius_m": 5000, "capital_cost": 30_000_000, "annual_cost": 4_000_000,
                                            "land_m2": 6000, "beds": {"nursing": 120, "ordinary": 30}}
    doc["bed_actions"] = {
        "convert_to_nursing": {"at": ["institution"], "adds": "nursing", "removes": "ordinary",
                               "capital_per_bed": 12_000, "annual_per_bed": 3_000, "max_per_site": 80},
        "add_nursing": {"at": ["institution"], "adds": "nursing", "capital_per_bed": 60_000,
                        "annual_per_bed": 8_000, "max_per_site": 40},
        "add_dementia": {"at": ["institution"], "adds": "dementia", "capital_per_bed": 50_000,
                         "annual_per_bed": 9_000, "max_per_site": 30}}
    existing = int(institution.sum())
    nursing, ordinary = int(sites["beds_nursing"].sum()), int(sites["beds_ordinary"].sum())
    doc["targets"] += [
        {"kind": "beds", "bed": ["nursing", "ordinary", "dementia"], "min": nursing + ordinary + 40 * existing},
        {"kind": "beds", "bed": "nursing", "min_share": 0.8, "of": ["nursing", "ordinary", "dementia"]},
        {"kind": "beds", "bed": "dementia", "min": 10 * existing}]
    return doc


def run_one(name: str, doc: dict[str, Any], folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Solve `doc` (written beside the city's layers) and report its figures."""
    path = folder / f"scenario_{name}.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    began = time.perf_counter()
    scenario, base_dir = load_scenario(path)
    result = solve(scenario, base_dir, backend=args.backend, time_limit_s=args.time_limit)
    wall = time.perf_counter() - began
    checked = result.checked
    document = plan_document(result)
    milp = result.prepared.model.milp
    row = {"run": name, "wall_s": round(wall, 1), "status": result.status,
           "gap": document.get("gap"),
           "total": None if checked is None else round(checked.cost["total"]),
           "capital": None if checked is None else round(checked.cost["capital"]),
           "checked": checked is not None and not checked.violations and result.all_targets_met,
           "columns": milp.A.shape[1], "rows": milp.A.shape[0], "nonzeros": int(milp.A.nnz)}
    row["solver_s"] = document["solver"]["seconds"]
    row["phases"] = [{k: p[k] for k in ("phase", "status", "seconds", "gap", "notes")}
                     for p in document["solver"]["phases"]]
    if checked is not None and checked.years:
        row["years"] = {y: {"capital": round(e["capital"]), "facilities_open": e["facilities_open"]}
                        for y, e in checked.years.items()}
    if checked is not None and checked.bed_actions:
        row["bed_beds"] = sum(int(a["beds"]) for a in checked.bed_actions)
    print(json.dumps(row), flush=True)
    return row


def run_phased(args: argparse.Namespace) -> int:
    """Write the city, run the chosen solves one after another, write ``bench_phased.json``."""
    folder = args.out
    city = folder / "scenario.json"
    if not city.exists():
        write_city(folder, args.units, args.sites, time_limit_s=args.time_limit)
    doc = json.loads(city.read_text(encoding="utf-8"))
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    rows, capital = [], args.capital
    for name in runs:
        if name == "one-year":
            rows.append(run_one(name, doc, folder, args))
            if capital is None and rows[-1]["checked"]:
                capital = rows[-1]["capital"]
        elif name == "three-years":
            if capital is None:
                raise SystemExit("three-years needs the one-year budget: run one-year first or give --capital")
            rows.append(run_one(name, three_year_doc(doc, capital), folder, args) | {"one_year_budget": capital})
        elif name == "beds":
            rows.append(run_one(name, beds_city(folder, doc), folder, args))
        else:
            raise SystemExit(f"unknown run '{name}'")
    out = folder / "bench_phased.json"
    previous = json.loads(out.read_text(encoding="utf-8")) if out.exists() else []
    kept = [r for r in previous if r["run"] not in runs]
    out.write_text(json.dumps(kept + rows, indent=1), encoding="utf-8")
    return 0 if all(r["checked"] for r in rows) else 1
