"""Independent check of a plan: every reported figure recomputed without the model.

Given the scenario, its loaded region and a list of open (site, type) pairs, this module
recomputes distances from coordinates (or looks them up in the distance table), costs with
co-location factors, coverage, every target and both budgets. It shares no code with
`optimizer.reach.build` or `optimizer.model.build`: a k-d tree nearest-facility query here, sparse radius
queries there; on a road network, one Dijkstra from all open facilities at once
(`optimizer.check.walking`) here, batched bounded searches between virtual nodes there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from optimizer.check.assignments import check_assignments
from optimizer.check.rows import binding_row
from optimizer.check.walking import nearest_open_walk
from optimizer.inputs.geodata import Region
from optimizer.reach.network import limit_m
from optimizer.scenario.fields import CountTarget, CoverageTarget, LandTarget
from optimizer.scenario.format import Scenario

FloatArray = npt.NDArray[np.float64]
TOL = 1e-9


@dataclass(frozen=True)
class CheckedPlan:
    """The checker's figures for one plan.

    Attributes
    ----------
    facilities : list of dict
        One per open facility: site, type, new, capital_cost, annual_cost, land_m2, capacity, zone.
    cost : dict
        capital, annual, total (capital + horizon_years x annual).
    nearest : dict
        Facility type -> per-unit distance (or time) to the nearest open facility of that type.
    covered : dict
        Facility type -> per-unit boolean (served by the type and within its limit).
    targets : list of dict
        index, kind, facility, required, achieved, met, shortfall (and per-zone rows).
    violations : list of str
        Structural faults: a type at a site that may not host it, a duplicate, an existing
        facility missing, a budget exceeded, a capacity exceeded.
    share : dict
        Facility type -> per-unit share that counts as covered: `covered` for uncapacitated
        types, the assigned share for capacitated ones.
    load : dict
        Capacitated type -> per-site load (capacity weight x uptake x assigned share).
    distance : dict
        `min_distance` type -> weighted distance to the assigned open facility.
    years : dict
        Phased plans (`optimizer.check.years`): per planning year, capital, annual, facilities
        open, beds by kind and every target's achievement.
    bed_actions : list of dict
        Phased plans: site, action, beds, year of every bed action taken.
    """

    facilities: list[dict[str, Any]]
    cost: dict[str, float]
    nearest: dict[str, FloatArray]
    covered: dict[str, npt.NDArray[np.bool_]]
    targets: list[dict[str, Any]]
    violations: list[str]
    share: dict[str, FloatArray] = field(default_factory=dict)
    load: dict[str, FloatArray] = field(default_factory=dict)
    distance: dict[str, float] = field(default_factory=dict)
    years: dict[str, dict[str, Any]] = field(default_factory=dict)
    bed_actions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def targets_met(self) -> bool:
        """Every target met."""
        return all(t["met"] for t in self.targets)

    @property
    def feasible(self) -> bool:
        """No structural fault and every target met."""
        return not self.violations and self.targets_met


def check_plan(scenario: Scenario, region: Region, base_dir: Path,
               open_pairs: list[tuple[Any, str]], assignments: pd.DataFrame | None = None) -> CheckedPlan:
    """Recompute every figure of the plan that opens `open_pairs` (site id, facility type).

    Existing facilities count as open whether or not they are listed. `assignments` (columns
    demand, site, type, share) say which facility serves which unit for capacitated types.
    """
    violations: list[str] = []
    is_open = _open_table(region, open_pairs, violations)
    facilities, cost = _costs(scenario, region, is_open, violations)
    nearest = nearest_open(scenario, region, base_dir, is_open)
    limits = {name: type_limit(scenario, region, name) for name in region.type_names}
    covered = {}
    for name in region.type_names:
        ftype = scenario.facility_types[name]
        serves = (np.ones(region.demand.n, bool) if ftype.serves is None
                  else np.isin(region.demand.group, ftype.serves))
        covered[name] = serves & (nearest[name] <= limits[name])
    assigned = check_assignments(scenario, region, is_open, nearest, assignments, limits)
    violations += assigned.violations
    share = {name: assigned.share.get(name, covered[name].astype(np.float64)) for name in region.type_names}
    targets = [_target(k, tg, scenario, region, is_open, share) for k, tg in enumerate(scenario.targets)]
    return CheckedPlan(facilities, cost, nearest, covered, targets, violations, share, assigned.load,
                       assigned.distance)


def _open_table(region: Region, open_pairs: list[tuple[Any, str]],
                violations: list[str]) -> npt.NDArray[np.bool_]:
    """``[s, t]`` open, from the pair list plus existing facilities; faults to `violations`."""
    sites = region.sites
    position = {str(site_id): s for s, site_id in enumerate(sites.ids)}
    is_open = sites.existing.copy()
    seen: set[tuple[int, int]] = set()
    for site_id, type_name in open_pairs:
        s = position.get(str(site_id))
        if s is None or type_name not in region.type_names:
            violations.append(f"unknown site '{site_id}' or facility type '{type_name}'")
            continue
        t = region.type_names.index(type_name)
        if (s, t) in seen:
            violations.append(f"'{type_name}' listed twice at site '{site_id}'")
        seen.add((s, t))
        if not (sites.allowed[s, t] or sites.existing[s, t]):
            violations.append(f"site '{site_id}' may not host '{type_name}'")
        is_open[s, t] = True
    return is_open


def _costs(scenario: Scenario, region: Region, is_open: npt.NDArray[np.bool_],
           violations: list[str]) -> tuple[list[dict[str, Any]], dict[str, float]]:
    sites, names = region.sites, region.type_names
    facilities = []
    for s, t in zip(*np.nonzero(is_open)):
        ftype = scenario.facility_types[names[t]]
        new = not sites.existing[s, t]
        factors = [f for host, f in ftype.colocate.items() if is_open[s, names.index(host)]]
        capital = float(sites.capex_cny[s, t]) * min([1.0, *factors]) if new else 0.0
        facilities.append({
            "site": _plain(sites.ids[s]), "type": names[t], "new": new, "capital_cost": capital,
            "annual_cost": ftype.annual_cost, "capacity": ftype.capacity, "land_m2": ftype.land_m2,
            "zone": str(sites.zone[s]) or None, "name": site_name(region, int(s)),
            "label": scenario.type_label(names[t]),
        })
    capital = float(sum(f["capital_cost"] for f in facilities))
    annual = float(sum(f["annual_cost"] for f in facilities))
    total = capital + scenario.budget.horizon_years * annual
    budget = scenario.budget
    if budget.capital is not None and capital > budget.capital * (1 + 1e-9) + 1e-6:
        violations.append(f"capital cost {capital:,.0f} exceeds the capital budget {budget.capital:,.0f}")
    if budget.annual is not None and annual > budget.annual * (1 + 1e-9) + 1e-6:
        violations.append(f"annual cost {annual:,.0f} exceeds the annual budget {budget.annual:,.0f}")
    return facilities, {"capital": capital, "annual": annual, "total": total}


def site_name(region: Region, s: int) -> str | None:
    """The name of site `s` (None when the layer gives none)."""
    names = region.sites.names
    return None if names is None or names[s] is None else str(names[s])


def _plain(value: Any) -> Any:
    """A JSON-ready id: numpy scalars become Python numbers, everything else stays."""
    return value.item() if isinstance(value, np.generic) else value


def type_limit(scenario: Scenario, region: Region, name: str) -> float:
    ftype = scenario.facility_types[name]
    if scenario.network is not None:
        # Walking metres; a micrometre of slack for sums taken in another order than reach's.
        return limit_m(ftype, scenario.network) + 1e-6
    if region.distances is not None and region.distances.unit == "min":
        return float(ftype.walk_minutes or 0.0)
    return float(ftype.radius_m or 0.0)


def nearest_open(scenario: Scenario, region: Region, base_dir: Path,
                  is_open: npt.NDArray[np.bool_]) -> dict[str, FloatArray]:
    """Per type, each unit's distance to the nearest open facility (inf if none)."""
    if region.distances is not None:
        return _nearest_by_table(region, is_open)
    if scenario.network is not None:
        return nearest_open_walk(scenario, region, base_dir, is_open)
    out = {}
    for t, name in enumerate(region.type_names):
        open_sites = np.flatnonzero(is_open[:, t])
        if len(open_sites) == 0:
            out[name] = np.full(region.demand.n, np.inf)
            continue
        dist, _ = cKDTree(region.sites.xy[open_sites]).query(region.demand.xy)
        out[name] = np.asarray(dist, dtype=np.float64)
    return out


def _nearest_by_table(region: Region, is_open: npt.NDArray[np.bool_]) -> dict[str, FloatArray]:
    """Nearest open facility per unit by a group-by over the table's pairs at open sites."""
    pairs = region.distances
    assert pairs is not None
    table = pd.DataFrame({"demand": pairs.demand, "site": pairs.site, "value": pairs.value})
    out = {}
    for t, name in enumerate(region.type_names):
        best = table[is_open[table["site"].to_numpy(), t]].groupby("demand")["value"].min()
        nearest = np.full(region.demand.n, np.inf)
        nearest[best.index.to_numpy()] = best.to_numpy()
        out[name] = nearest
    return out


def _target(k: int, target: Any, scenario: Scenario, region: Region,
            is_open: npt.NDArray[np.bool_], covered: dict[str, FloatArray]) -> dict[str, Any]:
    if isinstance(target, CoverageTarget):
        rows = _coverage_rows(target, scenario, region, covered)
    elif isinstance(target, CountTarget):
        rows = _count_rows(target, region, is_open)
    else:
        rows = [_land_row(target, scenario, region, is_open)]
    binding = binding_row(rows) if rows else {"required": None, "achieved": None}
    entry = {"index": k, "kind": target.kind, "facility": getattr(target, "facility", None),
             "label": target.label, "required": binding["required"], "achieved": binding["achieved"],
             "met": all(r["met"] for r in rows),
             "shortfall": max((r["shortfall"] for r in rows), default=0.0)}
    entry |= {key: getattr(target, key) for key in ("preset", "source") if getattr(target, key, None)}
    if isinstance(target, CountTarget) and target.max is not None:
        entry["max"] = target.max
        entry["achieved"] = rows[0]["achieved"] if len(rows) == 1 else entry["achieved"]
    if len(rows) > 1 or getattr(target, "per_zone", False):
        entry["zones"] = rows
    else:
        entry.update({key: v for key, v in rows[0].items() if key in ("covered", "total")})
    return entry


def _coverage_rows(target: CoverageTarget, scenario: Scenario, region: Region,
                   covered: dict[str, FloatArray]) -> list[dict[str, Any]]:
    ftype = scenario.facility_types[target.facility]
    group = region.demand.group
    scope = np.ones(region.demand.n, bool) if ftype.serves is None else np.isin(group, ftype.serves)
    if target.group is not None:
        scope &= group == target.group
    measure = (np.ones(region.demand.n) if target.measure == "units"
               else region.demand.weights[target.measure])
    zones = (sorted(set(region.demand.zone[scope])) or [None]) if target.per_zone else [None]
    rows = []
    for zone in zones:
        in_row = scope if zone is None else scope & (region.demand.zone == zone)
        total = float(measure[in_row].sum())
        got = float(measure[in_row] @ covered[target.facility][in_row])
        share = got / total if total > 0 else 1.0
        rows.append({"zone": zone, "required": target.min_share, "achieved": share,
                     "met": share >= target.min_share - TOL, "covered": got, "total": total,
                     "shortfall": max(0.0, target.min_share - share)})
    return rows


def _count_rows(target: CountTarget, region: Region, is_open: npt.NDArray[np.bool_]) -> list[dict[str, Any]]:
    t = region.type_names.index(target.facility)
    counted = is_open[:, t] & (~region.sites.existing[:, t] if target.new_only else True)
    zones = sorted(set(region.demand.zone)) if target.per_zone else [None]
    rows = []
    for zone in zones:
        n = int((counted & (region.sites.zone == zone)).sum() if zone is not None else counted.sum())
        low = max(0, (target.min or 0) - n)
        high = max(0, n - target.max) if target.max is not None else 0
        rows.append({"zone": zone, "required": target.min if target.min is not None else target.max,
                     "achieved": n, "met": low == 0 and high == 0, "shortfall": float(low + high)})
    return rows


def _land_row(target: LandTarget, scenario: Scenario, region: Region,
              is_open: npt.NDArray[np.bool_]) -> dict[str, Any]:
    land = np.array([scenario.facility_types[n].land_m2 for n in region.type_names])
    achieved = float((is_open * land[None, :]).sum())
    assert target.per_capita_m2 is not None and target.population is not None   # else a phased check
    required = target.per_capita_m2 * float(region.demand.weights[target.population].sum())
    return {"zone": None, "required": required, "achieved": achieved,
            "met": achieved >= required - TOL * max(1.0, required),
            "shortfall": max(0.0, required - achieved)}
