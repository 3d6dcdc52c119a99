"""Independent check of a phased plan (years, beds, sharper targets), from raw data only.

Given the scenario, its loaded region, the new facilities with their opening years and the bed
actions by site and year, this module recomputes who is open in every planning year, coverage
with that year's grown weights, every target in its years and zones, capital and annual cost
per year against the yearly budgets, and beds by site, kind and year. It shares no code with
`optimizer.model`: it reads the contract (SCENARIO_FORMAT.md, "Extensions"), not the model's arrays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.check.beds import BedLedger, bed_ledger
from optimizer.check.plan import CheckedPlan, nearest_open, site_name, type_limit
from optimizer.check.rows import binding_row
from optimizer.check.targets import TargetScope, phased_target
from optimizer.inputs.geodata import Region
from optimizer.scenario.format import Scenario

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
NEVER = 1 << 30


def check_phased(scenario: Scenario, region: Region, base_dir: Path,
                 facilities: list[tuple[Any, str, int | None]],
                 bed_actions: list[tuple[Any, str, int, int | None]]) -> CheckedPlan:
    """Recompute every figure of a phased plan.

    Parameters
    ----------
    facilities : list of (site id, facility type, opening year or None)
        New facilities; existing ones are open in every year whether listed or not. Without
        `years` the year is None.
    bed_actions : list of (site id, action name, beds, year or None)
        Beds taken by each action at each site in each year.
    """
    violations: list[str] = []
    years = list(scenario.years or [])
    periods = max(1, len(years))
    opened = _opening(scenario, region, facilities, violations)
    is_open = [opened <= p for p in range(periods)]
    ledger = bed_ledger(scenario, region, bed_actions, is_open, violations)
    covered = []
    nearest: dict[str, FloatArray] = {}
    for p in range(periods):
        nearest = nearest_open(scenario, region, base_dir, is_open[p])
        covered.append({name: _serves(scenario, region, name) & (nearest[name] <= type_limit(scenario, region, name))
                        for name in region.type_names})
    weights = [_grown(scenario, region, years[p] if years else None) for p in range(periods)]
    scope = TargetScope(scenario, region, is_open, covered, weights, ledger)
    targets = [phased_target(k, target, scope) for k, target in enumerate(scenario.targets)]
    fac, cost, by_year = _money(scenario, region, opened, ledger, violations)
    for p, entry in enumerate(by_year):
        entry["facilities_open"] = is_open[p].sum().item()
        entry["beds"] = {kind: round(float(ledger.beds[p][:, k].sum())) for k, kind in enumerate(ledger.kinds)}
        entry["weighted_coverage"] = _weighted_coverage(scenario, region, weights[p], covered[p])
        entry["targets"] = [_year_view(t, years[p] if years else None) for t in targets
                            if any(r.get("year") == (years[p] if years else None) for r in t["rows"])]
    for t in targets:
        rows, split = t.pop("rows"), t.pop("split")
        if split:
            t["zones"] = rows
        elif len(rows) > 1:   # a dated target: one row per year it holds in
            t["by_year"] = rows
        else:
            t |= {key: v for key, v in rows[0].items() if key in ("covered", "total", "beds", "of")}
    last = periods - 1
    return CheckedPlan(fac, cost, nearest, covered[last], targets, violations,
                       {n: c.astype(np.float64) for n, c in covered[last].items()},
                       years={str(years[p]): by_year[p] for p in range(len(years))},
                       bed_actions=ledger.actions)


def _weighted_coverage(scenario: Scenario, region: Region, weights: dict[str, FloatArray],
                       covered: dict[str, BoolArray]) -> float:
    """Σ over types of the first weight (that year's, grown; 1 per unit when none) of the units covered:
    one year's term of the `max_coverage` objective."""
    first = next(iter(scenario.demand.weights), None)
    w = weights[first] if first is not None else np.ones(region.demand.n)
    return float(sum(w[c].sum() for c in covered.values()))


def _serves(scenario: Scenario, region: Region, name: str) -> BoolArray:
    serves = scenario.facility_types[name].serves
    return np.ones(region.demand.n, bool) if serves is None else np.isin(region.demand.group, serves)


def _grown(scenario: Scenario, region: Region, year: int | None) -> dict[str, FloatArray]:
    """Weights of `year`: weight x (1 + g)^(year - base_year), g per weight or per demand group."""
    out = dict(region.demand.weights)
    if year is None or not scenario.years:
        return out
    base = scenario.years[0] if scenario.demand.base_year is None else scenario.demand.base_year
    for name, rate in scenario.demand.growth.items():
        if isinstance(rate, dict):
            g = np.array([rate.get(str(group), 0.0) for group in region.demand.group], dtype=np.float64)
        else:
            g = np.full(region.demand.n, float(rate))
        out[name] = region.demand.weights[name] * np.power(1.0 + g, year - base)
    return out


def _opening(scenario: Scenario, region: Region, facilities: list[tuple[Any, str, int | None]],
             violations: list[str]) -> npt.NDArray[np.int64]:
    """``[s, t]`` period a facility opens in: -1 existing, NEVER when not open; faults to `violations`."""
    sites, names = region.sites, region.type_names
    years = list(scenario.years or [])
    position = {str(site_id): s for s, site_id in enumerate(sites.ids)}
    opened = np.where(sites.existing, -1, NEVER).astype(np.int64)
    seen: set[tuple[int, int]] = set()
    for site_id, type_name, year in facilities:
        s = position.get(str(site_id))
        if s is None or type_name not in names:
            violations.append(f"unknown site '{site_id}' or facility type '{type_name}'")
            continue
        t = names.index(type_name)
        if sites.existing[s, t]:
            continue
        if (s, t) in seen:
            violations.append(f"'{type_name}' at site '{site_id}' is listed twice: a facility opens once and "
                              "stays open (it cannot close)")
            continue
        seen.add((s, t))
        if not sites.allowed[s, t]:
            violations.append(f"site '{site_id}' may not host '{type_name}'")
        if years and year not in years:
            violations.append(f"'{type_name}' at site '{site_id}' opens in {year}, not a planning year")
            continue
        opened[s, t] = years.index(year) if years and year is not None else 0
    return opened


def _money(scenario: Scenario, region: Region, opened: npt.NDArray[np.int64], ledger: BedLedger,
           violations: list[str]) -> tuple[list[dict[str, Any]], dict[str, float], list[dict[str, Any]]]:
    """Facilities with their capital, cost totals, and capital and annual cost per year against budgets."""
    sites, names = region.sites, region.type_names
    years = list(scenario.years or [])
    periods = max(1, len(years))
    budget = scenario.budget
    operated = np.maximum(0.0, budget.horizon_years - (np.array(years or [0], dtype=np.float64) - (years or [0])[0]))
    capital = np.zeros(periods)
    annual = np.zeros(periods)
    total = 0.0
    facilities = []
    for s, t in zip(*np.nonzero(opened < NEVER)):
        ftype = scenario.facility_types[names[t]]
        p = int(opened[s, t])
        new = p >= 0
        factors = [f for host, f in ftype.colocate.items() if opened[s, names.index(host)] <= max(p, -1)]
        cost = float(sites.capex_cny[s, t]) * min([1.0, *factors]) if new else 0.0
        if new:
            capital[p] += cost
        annual[max(p, 0):] += ftype.annual_cost
        total += cost + ftype.annual_cost * (operated[p] if new else budget.horizon_years)
        entry = {"site": _plain(sites.ids[s]), "type": names[t], "new": new, "capital_cost": cost,
                 "annual_cost": ftype.annual_cost, "capacity": ftype.capacity, "land_m2": float(sites.land_m2[s, t]),
                 "zone": str(sites.zone[s]) or None, "year": years[p] if new and years else None,
                 "name": site_name(region, int(s)), "label": scenario.type_label(names[t])}
        facilities.append(entry)
    capital += ledger.capital
    annual += ledger.annual
    total += float(ledger.capital.sum() + (ledger.annual_added * operated).sum())
    _budget_faults(scenario, capital, annual, violations)
    by_year = [{"capital": float(capital[p]), "annual": float(annual[p])} for p in range(periods)]
    return facilities, {"capital": float(capital.sum()), "annual": float(annual[-1]), "total": float(total)}, by_year


def _budget_faults(scenario: Scenario, capital: FloatArray, annual: FloatArray, violations: list[str]) -> None:
    budget = scenario.budget
    years = list(scenario.years or [])
    for p, year in enumerate(years):
        cap = (budget.capital_by_year or {}).get(str(year))
        if cap is not None and capital[p] > cap * (1 + 1e-9) + 1e-6:
            violations.append(f"capital spent in {year} {capital[p]:,.0f} exceeds that year's budget {cap:,.0f}")
    if budget.capital is not None and capital.sum() > budget.capital * (1 + 1e-9) + 1e-6:
        violations.append(f"capital cost {capital.sum():,.0f} exceeds the capital budget {budget.capital:,.0f}")
    if budget.annual is not None and annual.max() > budget.annual * (1 + 1e-9) + 1e-6:
        violations.append(f"annual cost {annual.max():,.0f} exceeds the annual budget {budget.annual:,.0f}")


def _year_view(target: dict[str, Any], year: int | None) -> dict[str, Any]:
    rows = [r for r in target["rows"] if r.get("year") == year]
    binding = binding_row(rows)
    view = {"index": target["index"], "required": binding["required"],
            "achieved": binding["achieved"], "met": all(r["met"] for r in rows)}
    if len(rows) > 1 or target["split"]:
        view["zones"] = [{"zone": r["zone"], "required": r["required"], "achieved": r["achieved"], "met": r["met"]}
                         for r in rows]
    return view


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value



