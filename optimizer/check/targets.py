"""Targets of a phased plan, recomputed: each in its year and every later planning year (the
last year when undated), region-wide, per zone or in named zones, "at least" or, with `strict`,
"more than"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.check.beds import BedLedger
from optimizer.check.rows import binding_row
from optimizer.inputs.geodata import Region
from optimizer.scenario.fields import BedsTarget, CountTarget, CoverageTarget, LandTarget
from optimizer.scenario.format import Scenario

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
TOL = 1e-9
AnyTarget = CoverageTarget | CountTarget | LandTarget | BedsTarget


@dataclass(frozen=True)
class TargetScope:
    """What the targets are measured on, per period."""

    scenario: Scenario
    region: Region
    is_open: list[BoolArray]
    covered: list[dict[str, BoolArray]]
    weights: list[dict[str, FloatArray]]
    beds: BedLedger


def phased_target(k: int, target: AnyTarget, scope: TargetScope) -> dict[str, Any]:
    """One target's achievement: a row per (year, zone) it holds in."""
    years = list(scope.scenario.years or [])
    periods = len(scope.is_open)
    held = [periods - 1] if target.year is None else [p for p in range(periods) if years[p] >= target.year]
    rows = []
    for p in held:
        for zone, units, sites in _zones(target, scope):
            row = _measure(target, scope, p, units, sites)
            rows.append({"year": years[p] if years else None, "zone": zone} | row)
    binding = binding_row(rows)
    entry = {"index": k, "kind": target.kind, "facility": getattr(target, "facility", None), "label": target.label,
             "required": binding["required"], "achieved": binding["achieved"],
             "met": all(r["met"] for r in rows), "shortfall": max(r["shortfall"] for r in rows),
             "rows": rows, "split": bool(target.per_zone or target.zone or target.zones)}
    if target.strict:
        entry["strict"] = True
    if target.year is not None:
        entry["year"] = target.year
    return entry | {key: getattr(target, key) for key in ("preset", "source") if getattr(target, key, None)}


def _zones(target: AnyTarget, scope: TargetScope) -> list[tuple[str | None, BoolArray, BoolArray]]:
    """(zone, units in it, sites in it) of every zone the target holds in."""
    demand, sites = scope.region.demand, scope.region.sites
    if target.per_zone:
        units = np.ones(demand.n, bool)
        if isinstance(target, CoverageTarget):
            units = _scope_units(target, scope)
        names = sorted({str(z) for z in demand.zone[units]})
    elif target.zone or target.zones:
        names = [target.zone] if target.zone else list(target.zones or [])
    else:
        return [(None, np.ones(demand.n, bool), np.ones(sites.n, bool))]
    return [(z, demand.zone.astype(str) == z, sites.zone.astype(str) == z) for z in names]


def _scope_units(target: CoverageTarget, scope: TargetScope) -> BoolArray:
    ftype = scope.scenario.facility_types[target.facility]
    group = scope.region.demand.group
    units = np.ones(len(group), bool) if ftype.serves is None else np.isin(group, ftype.serves)
    return units & (group == target.group) if target.group is not None else units


def _compare(achieved: float, required: float, strict: bool) -> bool:
    if strict:
        return achieved > required
    return achieved >= required - TOL * max(1.0, abs(required))


def _measure(target: AnyTarget, scope: TargetScope, p: int, units: BoolArray, sites: BoolArray) -> dict[str, Any]:
    if isinstance(target, CoverageTarget):
        return _coverage(target, scope, p, units)
    if isinstance(target, CountTarget):
        t = scope.region.type_names.index(target.facility)
        counted = scope.is_open[p][:, t] & sites & (~scope.region.sites.existing[:, t] if target.new_only else True)
        counted &= ~counted_elsewhere(target, scope.scenario, scope.region)
        n = int(counted.sum())
        low = target.min is None or _compare(n, target.min, target.strict)
        high = target.max is None or n <= target.max
        short = max(0, (target.min or 0) + int(target.strict) - n) + (max(0, n - target.max) if target.max else 0)
        return {"required": target.min if target.min is not None else target.max, "achieved": n,
                "met": low and high, "shortfall": float(short)}
    if isinstance(target, LandTarget):
        return _land(target, scope, p, units, sites)
    return _beds(target, scope, p, sites)


def counted_elsewhere(target: CountTarget, scenario: Scenario, region: Region) -> BoolArray:
    """Per site: whether a facility of `target`'s type there falls in the scope of a count target
    `target.exclude` names (its zone, its zones, any zone with demand units when per zone, anywhere
    when region-wide; and new, when that target is `new_only`), so it does not count for `target`."""
    t = region.type_names.index(target.facility)
    zone = region.sites.zone.astype(str)
    demand_zones = {str(z) for z in region.demand.zone}
    out = np.zeros(region.sites.n, dtype=bool)
    for other in scenario.targets:
        if not isinstance(other, CountTarget) or other is target or other.label not in (target.exclude or []):
            continue
        if other.per_zone:
            inside = np.isin(zone, sorted(demand_zones))
        elif other.zone or other.zones:
            inside = np.isin(zone, [other.zone] if other.zone else list(other.zones or []))
        else:
            inside = np.ones(region.sites.n, dtype=bool)
        out |= inside & (~region.sites.existing[:, t] if other.new_only else True)
    return out


def _coverage(target: CoverageTarget, scope: TargetScope, p: int, units: BoolArray) -> dict[str, Any]:
    in_row = _scope_units(target, scope) & units
    measure = (np.ones(scope.region.demand.n) if target.measure == "units" else scope.weights[p][target.measure])
    total = float(measure[in_row].sum())
    got = float(measure[in_row] @ scope.covered[p][target.facility][in_row])
    share = got / total if total > 0 else 1.0
    met = (got > target.min_share * total if total > 0 else False) if target.strict \
        else share >= target.min_share - TOL
    return {"required": target.min_share, "achieved": share, "met": met, "covered": got, "total": total,
            "shortfall": max(0.0, target.min_share - share)}


def _land(target: LandTarget, scope: TargetScope, p: int, units: BoolArray, sites: BoolArray) -> dict[str, Any]:
    weights = scope.weights[p]
    if target.households is not None and target.per_100_households_m2 is not None:
        need = target.per_100_households_m2 / 100.0 * weights[target.households]
    else:
        assert target.per_capita_m2 is not None and target.population is not None
        need = target.per_capita_m2 * weights[target.population]
    required = float(need[units].sum())
    achieved = float((scope.is_open[p][sites] * scope.region.sites.land_m2[sites]).sum())
    return {"required": required, "achieved": achieved, "met": _compare(achieved, required, target.strict),
            "shortfall": max(0.0, required - achieved)}


def _beds(target: BedsTarget, scope: TargetScope, p: int, sites: BoolArray) -> dict[str, Any]:
    ledger = scope.beds
    here = ledger.beds[p][sites]
    got = float(sum(here[:, ledger.kinds.index(k)].sum() for k in target.kinds))
    if target.min is not None:
        return {"required": target.min, "achieved": got, "met": _compare(got, target.min, target.strict),
                "shortfall": max(0.0, target.min + int(target.strict) - got)}
    share_of = float(sum(here[:, ledger.kinds.index(k)].sum() for k in target.of or []))
    need = (target.min_share or 0.0) * share_of
    share = got / share_of if share_of > 0 else 0.0
    met = got > need if target.strict else got >= need - TOL * max(1.0, need)
    return {"required": target.min_share, "achieved": share, "met": met, "beds": got, "of": share_of,
            "shortfall": max(0.0, need - got)}
