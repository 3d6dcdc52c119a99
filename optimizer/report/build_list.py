"""The build list (建设清单): what to build, renovate or keep where, one row per facility of the plan.

Rows (plan.json ``build_list``, plan.csv, the first sheet of plan.xlsx, the terminal), sorted by
zone (township), then year, then site name:

- ``zone, site, name, type, label``: where, by id and name, and the facility type by id and label;
- ``action``: ``new`` (built by the plan), ``renovation`` (an existing facility whose beds the
  plan's bed actions change) or ``existing`` (kept as it is);
- ``year``: the year a new facility opens or a renovation starts (null without `years`);
- ``capital, annual``: the facility's capital (after co-location factors) plus its bed actions'
  capital, and its annual cost plus the annual cost of the beds the actions add (yuan);
- ``land_m2``; ``beds``: bed kind -> beds the row adds (a new facility's own beds plus the
  actions' net change; {} when none);
- ``units_served, elderly_served``: the demand units (and their elderly) whose nearest open
  facility of the type in reach is this one, among the units the plan covers.

A site's bed actions count on the first facility there of a type they are taken at, as in the
GIS layers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.check.plan import CheckedPlan
from optimizer.inputs.geodata import Region
from optimizer.reach.base import Reach
from optimizer.scenario.format import Scenario

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ACTIONS = ("new", "renovation", "existing")
ROW_KEYS = ("zone", "site", "name", "type", "label", "action", "year", "capital", "annual", "land_m2", "beds",
            "units_served", "elderly_served")


def facility_index(region: Region, checked: CheckedPlan) -> tuple[IntArray, IntArray]:
    """Site and type index of every facility in ``checked.facilities`` (in that order)."""
    position = {str(site_id): s for s, site_id in enumerate(region.sites.ids)}
    s = np.array([position[str(f["site"])] for f in checked.facilities], dtype=np.int64)
    t = np.array([region.type_names.index(f["type"]) for f in checked.facilities], dtype=np.int64)
    return s, t


def assigned_site(region: Region, reach: Reach, checked: CheckedPlan, t: int) -> IntArray:
    """``[i]``: the nearest open site of type t in reach of unit i that covers it, or -1.

    Reads the reach matrix restricted to open sites; ties go to the lower site index.
    """
    sites, types = facility_index(region, checked)
    open_sites = np.array(sorted(set(sites[types == t].tolist())), dtype=np.int64)
    out = np.full(region.demand.n, -1, dtype=np.int64)
    if len(open_sites) == 0:
        return out
    pairs = reach.by_type[t][:, open_sites].tocoo()
    order = np.lexsort((pairs.col, pairs.data, pairs.row))
    rows, first = np.unique(pairs.row[order], return_index=True)
    out[rows] = open_sites[pairs.col[order][first]]
    out[~checked.covered[region.type_names[t]]] = -1
    return out


def served_by_facility(region: Region, reach: Reach, checked: CheckedPlan) -> tuple[IntArray, dict[str, FloatArray]]:
    """Per facility of ``checked.facilities``: the units it serves (`assigned_site`) and the sum of every weight."""
    s, t = facility_index(region, checked)
    units = np.zeros(len(s), dtype=np.int64)
    weights = {w: np.zeros(len(s)) for w in region.demand.weights}
    for k in np.unique(t):
        site = assigned_site(region, reach, checked, int(k))
        keep, rows = site >= 0, t == k
        units[rows] = np.bincount(site[keep], minlength=region.sites.n)[s[rows]]
        for w, values in region.demand.weights.items():
            weights[w][rows] = np.bincount(site[keep], weights=values[keep], minlength=region.sites.n)[s[rows]]
    return units, weights


def elderly_weight(region: Region) -> str | None:
    """The weight reported as ``elderly_served``: ``elderly`` when named, else the first weight."""
    names = list(region.demand.weights)
    return "elderly" if "elderly" in names else (names[0] if names else None)


def bed_hosts(scenario: Scenario, checked: CheckedPlan) -> dict[int, list[dict[str, Any]]]:
    """Facility position -> the bed actions counted on it (the first facility at the site of an `at` type)."""
    out: dict[int, list[dict[str, Any]]] = {}
    for entry in checked.bed_actions or []:
        action = scenario.bed_actions.get(entry["action"])
        if action is None:
            continue
        host = next((k for k, f in enumerate(checked.facilities)
                     if str(f["site"]) == str(entry["site"]) and f["type"] in action.at), None)
        if host is not None:
            out.setdefault(host, []).append(entry)
    return out


def build_list(scenario: Scenario, region: Region, reach: Reach, checked: CheckedPlan) -> list[dict[str, Any]]:
    """The build list of a checked plan: one row per facility (keys `ROW_KEYS`), sorted as the module says."""
    units, weights = served_by_facility(region, reach, checked)
    elderly = elderly_weight(region)
    hosts = bed_hosts(scenario, checked)
    rows = []
    for k, facility in enumerate(checked.facilities):
        actions = hosts.get(k, [])
        beds = _beds(scenario, facility, actions)
        action = "new" if facility["new"] else ("renovation" if actions else "existing")
        years = [a["year"] for a in actions if a.get("year") is not None]
        year = facility.get("year") if facility["new"] else (min(years) if years else None)
        rows.append({
            "zone": facility.get("zone"), "site": facility["site"], "name": facility.get("name"),
            "type": facility["type"], "label": facility.get("label") or scenario.type_label(facility["type"]),
            "action": action, "year": year,
            "capital": float(facility["capital_cost"]) + float(sum(a.get("capital", 0.0) for a in actions)),
            "annual": float(facility["annual_cost"]) + float(sum(a.get("annual", 0.0) for a in actions)),
            "land_m2": float(facility.get("land_m2") or 0.0), "beds": beds, "units_served": int(units[k]),
            "elderly_served": None if elderly is None else float(weights[elderly][k]),
        })
    return sorted(rows, key=_order)


def _beds(scenario: Scenario, facility: dict[str, Any], actions: list[dict[str, Any]]) -> dict[str, int]:
    """Bed kind -> beds the row adds: a new facility's own, plus the actions' net change (zeros left out)."""
    beds: dict[str, int] = dict(scenario.facility_types[facility["type"]].beds) if facility["new"] else {}
    for entry in actions:
        action = scenario.bed_actions[entry["action"]]
        beds[action.adds] = beds.get(action.adds, 0) + int(entry["beds"])
        if action.removes is not None:
            beds[action.removes] = beds.get(action.removes, 0) - int(entry["beds"])
    return {kind: n for kind, n in sorted(beds.items()) if n}


def _order(row: dict[str, Any]) -> tuple[str, int, str, str, str]:
    """Zone, then year (none first), then name; site and type break ties."""
    year = row["year"] if row["year"] is not None else -1
    return (row["zone"] or "", year, row["name"] or "", str(row["site"]), row["type"])
