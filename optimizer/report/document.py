"""plan.json: the plan contract of SCENARIO_FORMAT.md, every figure from the checker."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, cast

import numpy as np

from optimizer.check.plan import CheckedPlan
from optimizer.inputs.geodata import Region
from optimizer.plan import PlanResult, decode_assignments, money_objective, weighted_coverage
from optimizer.reach.base import served_mask
from optimizer.report.atomic import write_text
from optimizer.report.build_list import build_list
from optimizer.report.network import network_section
from optimizer.scenario.format import Scenario
from optimizer.search.phases import Solution

PLAN_FORMAT = 1


def plan_document(result: PlanResult) -> dict[str, Any]:
    """The plan as a JSON-ready dict (see README, "The plan")."""
    prep, checked = result.prepared, result.checked
    scenario = prep.scenario
    doc: dict[str, Any] = {
        "format": PLAN_FORMAT, "scenario": scenario.name, "status": result.status,
        "all_targets_met": result.all_targets_met, "objective_kind": scenario.objective,
        **_objective(result),
        "crs": prep.region.crs, "reach": prep.reach.source,
        "budget": {"capital": scenario.budget.capital, "annual": scenario.budget.annual,
                   "horizon_years": scenario.budget.horizon_years},
        "solver": _solver(result.solution, scenario.solver.backend),
        "notes": list(prep.region.notes),
        "reductions": prep.reductions.as_dict() if prep.reductions is not None else {"applied": False},
        "facility_types": {name: {"label": label} for name, label in scenario.type_labels.items()},
    }
    if checked is not None:
        doc |= {"cost": checked.cost, "facilities": _with_loads(result, checked),
                "build_list": build_list(scenario, prep.region, prep.reach, checked),
                "targets": _targets(scenario, checked.targets), "coverage": _coverage(result, checked),
                "zones": _zones(result, checked), "violations": checked.violations}
    else:
        doc |= {"cost": None, "facilities": [], "build_list": [], "targets": [], "coverage": {}, "zones": []}
    if scenario.years:   # a phased plan's yearly capital caps, as solved
        doc["budget"]["capital_by_year"] = scenario.budget.capital_by_year
    if checked is not None and prep.model.schedule is not None:
        doc["bed_actions"] = checked.bed_actions
        if scenario.years:
            doc["years"] = checked.years
    if checked is not None and checked.distance:
        doc["distance"] = {"weighted_by_type": checked.distance, "unit": prep.reach.unit}
    if checked is not None and checked.load:
        doc["assignments"] = _assignments(result)
    doc["uncoverable"] = _uncoverable(result)
    if prep.reach.network is not None:
        doc["network"] = network_section(result)
    if result.explanation is not None:
        doc["explanation"] = {k: v for k, v in result.explanation.items() if k != "uncoverable"}
    return cast(dict[str, Any], _jsonable(doc))


def write_plan(result: PlanResult, out_dir: Path, *, source: dict[str, Any] | None = None) -> Path:
    """Write ``plan.json`` into `out_dir` (created) and return its path.

    `source` (`optimizer.export.scenario_source`: where the scenario is, digests of its files)
    is recorded as ``source``, so that ``eldercare export`` can re-create the exports later.
    """
    document = plan_document(result) | ({"source": source} if source is not None else {})
    return write_plan_document(document, out_dir)


def write_plan_document(document: dict[str, Any], out_dir: Path) -> Path:
    """Write `document` as ``plan.json`` into `out_dir` (created) and return its path.

    Written whole or not at all (`optimizer.report.atomic`): a failed write raises `WriteError`
    and leaves an earlier plan.json intact; inside `replaced_together` it replaces the earlier
    one only together with the other files of the block.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_text(out_dir / "plan.json", json.dumps(document, ensure_ascii=False, indent=1))


def _objective(result: PlanResult) -> dict[str, Any]:
    """Objective from the checker; bound and gap from the phase that optimised it."""
    scenario, checked = result.prepared.scenario, result.checked
    if scenario.objective == "max_coverage":
        phase, sign = result.solution.phase("coverage"), -1.0
        value = weighted_coverage(result.prepared, checked) if checked else None
        if checked is not None and checked.years:   # phased: Σ over planning years, with that year's weights
            value = float(sum(entry["weighted_coverage"] for entry in checked.years.values()))
    elif result.solution.phase("distance") is not None:
        phase, sign = result.solution.phase("distance"), 1.0
        value = sum(checked.distance.values()) if checked else None
    else:
        phase, sign = result.solution.phase("cost"), 1.0
        value = money_objective(result.prepared, checked) if checked else None
    if phase is None or value is None or result.status == "infeasible":
        return {"objective": value, "bound": None, "gap": None}
    bound = None if phase.result.bound is None else sign * phase.result.bound
    gap = None if bound is None else abs(value - bound) / max(abs(value), 1e-9)
    return {"objective": value, "bound": bound, "gap": gap}


def _targets(scenario: Scenario, targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The checker's targets, each with its facility type's label and, for a count of new ones, ``new_only``."""
    out = []
    for entry in targets:
        target = scenario.targets[entry["index"]]
        extra: dict[str, Any] = {}
        if entry.get("facility"):
            extra["facility_label"] = scenario.type_label(entry["facility"])
        if getattr(target, "new_only", False):
            extra["new_only"] = True
        out.append(entry | extra)
    return out


def _with_loads(result: PlanResult, checked: CheckedPlan) -> list[dict[str, Any]]:
    """Facilities, with the checker's load (capacity weight served) for capacitated types."""
    position = {str(site_id): s for s, site_id in enumerate(result.prepared.region.sites.ids)}
    out = []
    for facility in checked.facilities:
        load = checked.load.get(facility["type"])
        extra = {} if load is None else {"load": float(load[position[str(facility["site"])]])}
        out.append(facility | extra)
    return out


def _assignments(result: PlanResult) -> list[dict[str, Any]]:
    """Which facility serves which unit, and what share, for capacitated types."""
    assert result.solution.x is not None
    table = decode_assignments(result.prepared, result.prepared.model, result.solution.x)
    capacitated = set(result.checked.load) if result.checked else set()
    table = table[table["type"].isin(capacitated)]
    names = unit_names(result.prepared.region)
    return [{"demand": _plain(d), "name": names.get(str(d)), "site": _plain(s), "type": t,
             "share": round(float(v), 9)} for d, s, t, v in table.itertuples(index=False)]


def unit_names(region: Region) -> dict[str, str | None]:
    """Demand unit id (as text) -> its name; empty when the demand layer gives no names."""
    if region.demand.names is None:
        return {}
    return {str(i): (None if n is None else str(n)) for i, n in zip(region.demand.ids, region.demand.names)}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _solver(solution: Solution, backend: str) -> dict[str, Any]:
    phases = [{"phase": p.name, "status": p.result.status.value, "native_status": p.result.native_status,
               "objective": p.result.objective, "bound": p.result.bound, "gap": p.result.gap,
               "seconds": round(p.result.seconds, 3), "nodes": p.result.nodes,
               "time_limited": p.result.time_limited, "notes": list(p.result.notes)}
              for p in solution.phases]
    return {"backend": backend, "seconds": round(sum(p.result.seconds for p in solution.phases), 3),
            "nodes": sum(p.result.nodes or 0 for p in solution.phases),
            "time_limited": solution.time_limited, "phases": phases}


def _coverage(result: PlanResult, checked: CheckedPlan) -> dict[str, Any]:
    """Per type and group: units and every named weight, covered and total."""
    region, scenario = result.prepared.region, result.prepared.scenario
    out: dict[str, Any] = {}
    for name, covered in checked.covered.items():
        served = served_mask(scenario.facility_types[name], region.demand.group)
        per_group = {}
        for group in sorted(set(region.demand.group[served])):
            in_group = served & (region.demand.group == group)
            entry: dict[str, float] = {"units": int(in_group.sum()), "units_covered": int((in_group & covered).sum())}
            for weight, values in region.demand.weights.items():
                entry[weight] = float(values[in_group].sum())
                entry[f"{weight}_covered"] = float(values[in_group & covered].sum())
            entry["share_units"] = entry["units_covered"] / max(entry["units"], 1)
            per_group[group or "all"] = entry
        out[name] = per_group
    return out


def _zones(result: PlanResult, checked: CheckedPlan) -> list[dict[str, Any]]:
    """Per zone: open and new facilities by type, and unit coverage by type."""
    region = result.prepared.region
    zones = sorted(set(region.demand.zone) | set(region.sites.zone))
    open_by_zone = Counter((f["zone"] or "", f["type"]) for f in checked.facilities)
    new_by_zone = Counter((f["zone"] or "", f["type"]) for f in checked.facilities if f["new"])
    out = []
    for zone in zones:
        in_zone = region.demand.zone == zone
        out.append({
            "zone": zone or None, "units": int(in_zone.sum()),
            "facilities": {t: open_by_zone[(zone, t)] for t in region.type_names},
            "new": {t: new_by_zone[(zone, t)] for t in region.type_names},
            "coverage_units": {t: float(c[in_zone].mean()) if in_zone.any() else None
                               for t, c in checked.covered.items()},
        })
    return out


def _uncoverable(result: PlanResult) -> list[dict[str, Any]]:
    from optimizer.check.explain import uncoverable_units

    prep = result.prepared
    if result.explanation is not None and "uncoverable" in result.explanation:
        units = list(result.explanation["uncoverable"])   # already found while explaining
    else:
        units = uncoverable_units(prep.scenario, prep.region, prep.reach)
    names = unit_names(prep.region)
    return [{"demand": u["demand"], "name": names.get(str(u["demand"]))} | u for u in units]


def _jsonable(value: Any) -> Any:
    """Numpy scalars to Python, non-finite floats to None (JSON has no inf)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
