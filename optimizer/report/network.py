"""The `network` section of plan.json: how walking reach was measured and what it changed.

Lists units and sites far from any walkable way (their access distance is suspicious: a
missing path in the data, or a misplaced point), and per facility type the units that
straight-line distance would count as covered by the chosen plan but walking does not.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from optimizer.check.plan import CheckedPlan
from optimizer.inputs.geodata import Region
from optimizer.plan import PlanResult
from optimizer.reach.base import served_mask
from optimizer.reach.network import NetworkSummary
from optimizer.scenario.format import Scenario

MAX_LISTED = 200
LIMIT_RULE = ("radius_m, or walk_minutes x walk_speed_m_per_min; the smaller of the two when a "
              "type gives both")


def network_section(result: PlanResult) -> dict[str, Any] | None:
    """The plan's `network` section, or None when reach is not measured on a network."""
    prep = result.prepared
    summary = prep.reach.network
    if summary is None:
        return None
    region = prep.region
    section: dict[str, Any] = {
        "path": summary.path, "walk_speed_m_per_min": summary.walk_speed_m_per_min,
        "limits_m": dict(zip(region.type_names, summary.limits_m)), "limit_rule": LIMIT_RULE,
        "graph": summary.graph, "cache": summary.cache,
        "seconds": {k: round(v, 3) for k, v in summary.seconds.items()},
        "access_m": {"demand": _stats(summary.demand_access_m), "sites": _stats(summary.site_access_m)},
        "suspicious_access_m": summary.suspicious_access_m,
        **_suspicious(summary, region),
    }
    if result.checked is not None:
        section["straight_line_only"] = _straight_line_only(result.checked, prep.scenario, region, summary)
    return section


def _stats(access_m: npt.NDArray[np.float64]) -> dict[str, float | None]:
    if len(access_m) == 0:
        return {"mean": None, "p95": None, "max": None}
    return {"mean": round(float(access_m.mean()), 1), "p95": round(float(np.percentile(access_m, 95)), 1),
            "max": round(float(access_m.max()), 1)}


def _suspicious(summary: NetworkSummary, region: Region) -> dict[str, Any]:
    """Units and sites farther than the threshold from the network, farthest first."""
    rows = []
    for kind, ids, names, access in (("demand", region.demand.ids, region.demand.names, summary.demand_access_m),
                                     ("site", region.sites.ids, region.sites.names, summary.site_access_m)):
        far = np.flatnonzero(access > summary.suspicious_access_m)
        rows += [{"kind": kind, "id": _plain(ids[k]), "name": None if names is None else names[k],
                  "access_m": round(float(access[k]), 1)} for k in far]
    rows.sort(key=lambda row: -row["access_m"])
    counts = {"demand": sum(r["kind"] == "demand" for r in rows), "site": sum(r["kind"] == "site" for r in rows)}
    return {"suspicious_access": rows[:MAX_LISTED], "suspicious_access_count": counts}


def _straight_line_only(checked: CheckedPlan, scenario: Scenario, region: Region,
                        summary: NetworkSummary) -> dict[str, Any]:
    """Per type: served units within the limit of an open facility in a straight line, not on foot."""
    position = {str(site): s for s, site in enumerate(region.sites.ids)}
    out: dict[str, Any] = {}
    for t, name in enumerate(region.type_names):
        open_sites = [position[str(f["site"])] for f in checked.facilities if f["type"] == name]
        straight = np.full(region.demand.n, np.inf)
        if open_sites:
            straight = cast(npt.NDArray[np.float64], cKDTree(region.sites.xy[open_sites]).query(region.demand.xy)[0])
        served = served_mask(scenario.facility_types[name], region.demand.group)
        lost = np.flatnonzero(served & (straight <= summary.limits_m[t]) & ~checked.covered[name])
        out[name] = {"units": len(lost),
                     **{w: round(float(values[lost].sum()), 3) for w, values in region.demand.weights.items()},
                     "examples": [_plain(region.demand.ids[i]) for i in lost[:20]]}
    return out


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
