"""Independent check of assignments: capacities, assigned shares and weighted distances.

Part of the checker (`optimizer.check.plan`): it recomputes the distance of every assigned pair
from coordinates (or the distance table), each site's load against its capacity, each unit's
assigned share, and the weighted distance of the `min_distance` objective, without the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.inputs.geodata import Region
from optimizer.scenario.format import Scenario

FloatArray = npt.NDArray[np.float64]
SHARE_TOL = 1e-6


@dataclass(frozen=True)
class AssignmentCheck:
    """Assigned share per unit and load per site (capacitated types), weighted distances."""

    share: dict[str, FloatArray] = field(default_factory=dict)
    load: dict[str, FloatArray] = field(default_factory=dict)
    distance: dict[str, float] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def check_assignments(scenario: Scenario, region: Region, is_open: npt.NDArray[np.bool_],
                      nearest: dict[str, FloatArray], assignments: pd.DataFrame | None,
                      limits: dict[str, float]) -> AssignmentCheck:
    """Check `assignments` (columns demand, site, type, share; ids as in the layers)."""
    table = _positions(region, assignments)
    result = AssignmentCheck()
    names = region.type_names
    capacity = region.sites.capacity
    for t, name in enumerate(names):
        rows = table[table["t"] == t]
        if not np.isnan(capacity[:, t]).all():
            _capacitated(scenario, region, t, rows, is_open, limits[name], result)
    _distances(scenario, region, table, nearest, limits, result)
    return result


def _positions(region: Region, assignments: pd.DataFrame | None) -> pd.DataFrame:
    """Assignment rows with positions i, s, t; unknown ids raise (a decoding bug)."""
    if assignments is None or len(assignments) == 0:
        return pd.DataFrame({"i": np.zeros(0, int), "s": np.zeros(0, int), "t": np.zeros(0, int),
                             "share": np.zeros(0)})
    units = pd.Index(pd.Series(region.demand.ids).astype(str))
    sites = pd.Index(pd.Series(region.sites.ids).astype(str))
    types = pd.Index(list(region.type_names))
    out = pd.DataFrame({"i": units.get_indexer(pd.Index(assignments["demand"].astype(str))),
                        "s": sites.get_indexer(pd.Index(assignments["site"].astype(str))),
                        "t": types.get_indexer(pd.Index(assignments["type"])),
                        "share": assignments["share"].to_numpy(dtype=np.float64)})
    if (out[["i", "s", "t"]] < 0).any().any():
        raise ValueError("an assignment names an unknown unit, site or facility type")
    return out


def pair_distance(region: Region, i: npt.NDArray[np.int64], s: npt.NDArray[np.int64]) -> FloatArray:
    """Distance (or time) of each (unit, site) pair: coordinates, or the table (inf if absent)."""
    if region.distances is None:
        return cast(FloatArray, np.hypot(*(region.demand.xy[i] - region.sites.xy[s]).T).astype(np.float64))
    pairs = region.distances
    lookup = pd.Series(pairs.value, index=pairs.demand.astype(np.int64) * region.sites.n + pairs.site)
    found = lookup.reindex(i.astype(np.int64) * region.sites.n + s)
    return cast(FloatArray, found.fillna(np.inf).to_numpy(dtype=np.float64))   # pandas-stubs: floating[Any]


def _capacitated(scenario: Scenario, region: Region, t: int, rows: pd.DataFrame,
                 is_open: npt.NDArray[np.bool_], limit: float, result: AssignmentCheck) -> None:
    name = region.type_names[t]
    ftype = scenario.facility_types[name]
    i, s, share = rows["i"].to_numpy(), rows["s"].to_numpy(), rows["share"].to_numpy()
    bad = []
    served = np.ones(region.demand.n, bool) if ftype.serves is None else np.isin(region.demand.group, ftype.serves)
    if (~served[i]).any():
        bad.append(f"'{name}': units of a group it does not serve are assigned to it")
    if (~is_open[s, t]).any():
        bad.append(f"'{name}': units assigned to sites where it is not open")
    if (pair_distance(region, i, s) > limit * (1 + 1e-9)).any():
        bad.append(f"'{name}': units assigned beyond its limit of {limit:g}")
    if ((share < -SHARE_TOL) | (share > 1 + SHARE_TOL)).any():
        bad.append(f"'{name}': assigned shares outside [0, 1]")
    unit_share = np.bincount(i, weights=share, minlength=region.demand.n)
    if (unit_share > 1 + SHARE_TOL).any():
        bad.append(f"'{name}': units assigned more than once in total")
    if ftype.single_source and (np.bincount(i, minlength=region.demand.n) > 1).any():
        bad.append(f"'{name}' is single-source but units are split between facilities")
    weight = (np.ones(region.demand.n) if ftype.capacity_weight is None
              else region.demand.weights[ftype.capacity_weight])
    # cast: numpy's stub types bincount as intp, also when it sums float weights
    load = cast(FloatArray, np.bincount(s, weights=share * weight[i] * ftype.uptake, minlength=region.sites.n))
    cap = region.sites.capacity[:, t]
    over = np.flatnonzero(load > np.nan_to_num(cap, nan=np.inf) * (1 + SHARE_TOL) + SHARE_TOL)
    if len(over):
        bad.append(f"'{name}': capacity exceeded at sites " + ", ".join(f"'{region.sites.ids[k]}'" for k in over[:5]))
    result.share[name] = np.minimum(unit_share, 1.0)
    result.load[name] = load
    result.violations.extend(bad)


def _distances(scenario: Scenario, region: Region, table: pd.DataFrame, nearest: dict[str, FloatArray],
               limits: dict[str, float], result: AssignmentCheck) -> None:
    """Weighted distance of every `min_distance` type; each weighted unit must be fully assigned."""
    if scenario.objective != "min_distance":
        return
    spec = scenario.min_distance
    chosen = spec.facilities if spec is not None and spec.facilities else list(region.type_names)
    weight = _distance_weight(scenario, region)
    for name in chosen:
        t = region.type_names.index(name)
        ftype = scenario.facility_types[name]
        must = (np.ones(region.demand.n, bool) if ftype.serves is None
                else np.isin(region.demand.group, ftype.serves)) & (weight > 0)
        if name in result.share:
            rows = table[table["t"] == t]
            d = pair_distance(region, rows["i"].to_numpy(), rows["s"].to_numpy())
            total = float((weight[rows["i"].to_numpy()] * rows["share"].to_numpy() * d).sum())
            short = must & (result.share[name] < 1 - SHARE_TOL)
        else:
            total = float((weight[must] * nearest[name][must]).sum())
            short = must & (nearest[name] > limits[name])
        if short.any():
            result.violations.append(f"'{name}': {int(short.sum())} weighted unit(s) have no open facility in "
                                     f"reach to be assigned to, e.g. '{region.demand.ids[np.argmax(short)]}'")
        result.distance[name] = total


def _distance_weight(scenario: Scenario, region: Region) -> FloatArray:
    name: Any = scenario.min_distance.weight if scenario.min_distance is not None else None
    if name is None:
        weights = list(region.demand.weights.values())
        return weights[0] if weights else np.ones(region.demand.n)
    return np.ones(region.demand.n) if name == "units" else region.demand.weights[name]
