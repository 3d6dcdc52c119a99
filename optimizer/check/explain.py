"""Why a plan cannot meet its targets: causes found from the data before any solve.

Per target: the best value any plan could reach ignoring budget and the other targets, and
the units or zones that make it unreachable. Budget causes are measured by a re-solve in
`optimizer.plan` (the least capital that meets every target).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from optimizer.check.targets import counted_elsewhere
from optimizer.inputs.geodata import Region, land_need
from optimizer.model.build import coverage_scope, measure_of
from optimizer.reach.base import Reach, served_mask
from optimizer.reach.build import nearest_candidate
from optimizer.scenario.fields import CountTarget, CoverageTarget, LandTarget
from optimizer.scenario.format import Scenario

MAX_LISTED = 50


def uncoverable_units(scenario: Scenario, region: Region, reach: Reach) -> list[dict[str, Any]]:
    """Units a type serves that no site allowed to host it can reach.

    ``nearest_site_m`` is the distance to the nearest candidate site of the type: the table's
    value with a distance table, else straight-line metres (also on a road network, where the
    walk is longer still); ``distance`` says which.
    """
    kind = "table" if region.distances is not None else "straight_line"
    out: list[dict[str, Any]] = []
    for t, name in enumerate(region.type_names):
        served = served_mask(scenario.facility_types[name], region.demand.group)
        lonely = np.flatnonzero(served & (np.diff(reach.by_type[t].indptr) == 0))
        nearest = nearest_candidate(region, t, lonely)
        out += [{"demand": _plain(region.demand.ids[i]), "facility": name,
                 "zone": str(region.demand.zone[i]) or None,
                 "nearest_site_m": None if not np.isfinite(d) else round(float(d), 1), "distance": kind}
                for i, d in zip(lonely, nearest)]
    return out


def target_limits(scenario: Scenario, region: Region, reach: Reach) -> list[dict[str, Any]]:
    """For every target: the best achievable value ignoring budget, and why it is limited."""
    out = []
    for k, target in enumerate(scenario.targets):
        if isinstance(target, CoverageTarget):
            out.append(_coverage_limit(k, target, scenario, region, reach))
        elif isinstance(target, CountTarget):
            out.append(_count_limit(k, target, scenario, region))
        elif isinstance(target, LandTarget):
            out.append(_land_limit(k, target, region))
        else:
            out.append({"index": k, "kind": target.kind, "best_possible": None, "required": target.min,
                        "cause": None})
    return out


def _coverage_limit(k: int, target: CoverageTarget, scenario: Scenario, region: Region,
                    reach: Reach) -> dict[str, Any]:
    t = region.type_names.index(target.facility)
    scope = coverage_scope(target, scenario, region)
    measure = measure_of(target.measure, region)
    reachable = np.diff(reach.by_type[t].indptr) > 0
    zones = sorted(set(region.demand.zone[scope])) if target.per_zone else [None]
    worst, blocked = 1.0, []
    for zone in zones:
        in_row = scope if zone is None else scope & (region.demand.zone == zone)
        total = float(measure[in_row].sum())
        share = float(measure[in_row & reachable].sum()) / total if total > 0 else 1.0
        worst = min(worst, share)
        if share < target.min_share - 1e-9:
            blocked.append(zone)
    cause = None
    if worst < target.min_share - 1e-9:
        lonely = np.flatnonzero(scope & ~reachable & (measure > 0))
        cause = (f"{len(lonely)} unit(s) in scope have no site allowed to host '{target.facility}' "
                 f"within its limit (see `uncoverable`): e.g. "
                 + ", ".join(f"'{region.demand.ids[i]}'" for i in lonely[:5]))
        if target.per_zone:
            cause += f"; zones short: {', '.join(map(str, blocked))}"
    return {"index": k, "kind": "coverage", "best_possible": worst, "required": target.min_share,
            "cause": cause}


def _count_limit(k: int, target: CountTarget, scenario: Scenario, region: Region) -> dict[str, Any]:
    t = region.type_names.index(target.facility)
    elsewhere = counted_elsewhere(target, scenario, region)
    possible = region.sites.candidate[:, t] & ~elsewhere
    if target.new_only:
        possible &= ~region.sites.existing[:, t]
    forced = region.sites.existing[:, t] & ~elsewhere if not target.new_only else np.zeros_like(possible)
    zones = sorted(set(region.demand.zone)) if target.per_zone else [None]
    short, over = [], []
    for zone in zones:
        in_zone = np.ones_like(possible) if zone is None else region.sites.zone == zone
        if target.min is not None and int((possible & in_zone).sum()) < target.min:
            short.append(zone)
        if target.max is not None and int((forced & in_zone).sum()) > target.max:
            over.append(zone)
    causes = []
    if short:
        causes.append(f"fewer than {target.min} site(s) may host '{target.facility}'"
                      + (" outside the scope of the target(s) it excludes" if target.exclude else "")
                      + (f" in zone(s): {', '.join(map(str, short))}" if target.per_zone else ""))
    if over:
        causes.append(f"more than {target.max} existing '{target.facility}' facilities"
                      + (f" in zone(s): {', '.join(map(str, over))}" if target.per_zone else ""))
    best = int(possible.sum()) if not target.per_zone else None
    return {"index": k, "kind": "count", "best_possible": best, "required": target.min,
            "cause": "; ".join(causes) or None}


def _land_limit(k: int, target: LandTarget, region: Region) -> dict[str, Any]:
    best = float((region.sites.candidate * region.sites.land_m2).sum())
    required = float(land_need(target, region.demand.weights).sum())
    cause = None
    if best < required - 1e-9:
        cause = (f"opening every candidate gives {best:,.0f} m² of the {required:,.0f} m² required; "
                 "add candidate sites or `land_m2` to facility types")
    return {"index": k, "kind": "land", "best_possible": best, "required": required, "cause": cause}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def has_data_cause(limits: list[dict[str, Any]]) -> bool:
    """Whether some target is out of reach whatever the budget."""
    return any(item["cause"] for item in limits)

