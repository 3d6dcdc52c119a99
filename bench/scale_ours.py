"""The scale models through our engine: in-memory layers, straight-line reach, one backend."""

from __future__ import annotations

import time
from typing import Any

from bench.scale_city import RADIUS_M, City, Outcome
from optimizer.plan import prepare_tables, solve_prepared, weighted_coverage

PHASE = {"lscp": "cost", "mclp": "coverage", "pmedian": "distance"}


def scenario(city: City, model: str, backend: str, time_limit_s: float) -> dict[str, Any]:
    """One facility type ("station", radius 1,000 m) and the model's targets and objective."""
    doc: dict[str, Any] = {
        "format": 1, "name": f"scale {model}", "crs": "EPSG:32650",
        "demand": {"id": "id", "weights": {"elderly": "pop60"}}, "sites": {"id": "id"},
        "facility_types": {"station": {"radius_m": RADIUS_M, "capital_cost": 1.0 if model == "lscp" else 0.0}},
        "solver": {"backend": backend, "time_limit_s": time_limit_s, "mip_gap": 1e-4}}
    if model == "lscp":
        doc |= {"objective": "min_cost",
                "targets": [{"kind": "coverage", "facility": "station", "min_share": 1.0}]}
    elif model == "mclp":
        doc |= {"objective": "max_coverage",
                "targets": [{"kind": "count", "facility": "station", "max": city.p_mclp}]}
    else:
        doc |= {"objective": "min_distance", "min_distance": {"weight": "elderly"},
                "targets": [{"kind": "count", "facility": "station", "min": city.p_median,
                             "max": city.p_median}]}
    return doc


def run_ours(city: City, model: str, backend: str, time_limit_s: float) -> Outcome:
    """Prepare (region, reach, model) then solve and check; LSCP and p-median on reachable units."""
    demand = city.demand if model == "mclp" else city.demand[city.reachable]
    start = time.perf_counter()
    prep = prepare_tables(scenario(city, model, backend, time_limit_s), demand, city.sites)
    built = time.perf_counter()
    try:
        result = solve_prepared(prep)
    except Exception as exc:   # e.g. CP-SAT refusing fractional coefficients: a row, not a crash
        return Outcome(build_s=built - start, solve_s=time.perf_counter() - built, status="refused",
                       note=f"{type(exc).__name__}: {exc}"[:200])
    out = Outcome(build_s=built - start, solve_s=time.perf_counter() - built, status=result.status)
    checked = result.checked
    if checked is not None:
        out.objective = {"lscp": float(checked.cost["total"]), "mclp": weighted_coverage(prep, checked),
                         "pmedian": float(sum(checked.distance.values()))}[model]
    phase = result.solution.phase(PHASE[model])
    if phase is not None and result.status != "optimal":
        bound = phase.result.bound
        out.bound = -bound if (bound is not None and model == "mclp") else bound
        out.gap = phase.result.gap
        out.note = phase.result.native_status
    return out
