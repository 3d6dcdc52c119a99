"""The `min_radius` figure of a plan, recomputed without the model.

Per `min_radius` type: the longest distance from a unit the type serves, and that some site of
the type reaches within its limit, to its nearest open facility of the type (the checker's own
nearest-facility distances, `optimizer.check.plan.nearest_open`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.inputs.geodata import Region
from optimizer.scenario.format import Scenario

FloatArray = npt.NDArray[np.float64]


def radius_types(scenario: Scenario, region: Region) -> list[str]:
    """The types whose radius `min_radius` minimises (none for other objectives)."""
    if scenario.objective != "min_radius":
        return []
    spec = scenario.min_radius
    chosen = spec.facilities if spec is not None and spec.facilities else region.type_names
    return [name for name in region.type_names if name in chosen]


def checked_radius(scenario: Scenario, region: Region, nearest: dict[str, FloatArray],
                   reachable: dict[str, FloatArray], limits: dict[str, float]) -> dict[str, Any]:
    """Per radius type, the plan's radius (`nearest` to open facilities) over the units it serves
    that `reachable` (nearest to any site of the type) puts within its limit; inf where such a
    unit has no open facility."""
    out: dict[str, Any] = {}
    for name in radius_types(scenario, region):
        serves = scenario.facility_types[name].serves
        scope = np.ones(region.demand.n, bool) if serves is None else np.isin(region.demand.group, serves)
        scope &= reachable[name] <= limits[name]
        out[name] = float(nearest[name][scope].max()) if scope.any() else 0.0
    return out
