"""Coordinates are finite and inside the area where their CRS is valid.

A point at lon 500, lat 95 (swapped or mistyped coordinates), or a projected point a continent
away from its CRS's zone, would not fail anywhere else: it would be measured, and the plan would
be nonsense. Every layer is checked in its own CRS before projection, and again in the scenario
CRS after it (projection turns a point outside a projection's domain into infinity).

The valid area is pyproj's ``CRS.area_of_use`` (lon/lat) widened by `AREA_MARGIN_DEG`, and
transformed into the CRS for projected coordinates. A CRS without an area of use is not checked.
"""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from optimizer.errors import Problem

#: Degrees added on every side of a CRS's area of use: data a little beyond a UTM zone's edge is
#: still measured well; data several zones away is an error of CRS or coordinate order.
AREA_MARGIN_DEG = 3.0
_SHOWN = 5   # features named one by one; the rest are counted


def coordinate_problems(frame: gpd.GeoDataFrame, crs: CRS | str, id_field: str, name: str,
                        *, stage: str = "") -> list[Problem]:
    """Every feature whose coordinates are not finite, or lie outside `crs`'s valid area.

    Parameters
    ----------
    frame : GeoDataFrame
        The layer; its coordinates are read as `crs` (its own CRS, or the one it is given).
    crs : CRS or str
    id_field : str
        Attribute naming each feature in the messages (the row number when absent).
    name : str
        ``"demand"`` or ``"sites"``.
    stage : str
        Said in the message, e.g. ``" after projection to EPSG:32650"``.

    Returns
    -------
    list of Problem
        One per bad feature (the first few), located at ``<name> feature '<id>'``.
    """
    geoms = frame.geometry
    bounds = geoms.bounds.to_numpy(dtype=np.float64)
    present = ~(geoms.isna().to_numpy() | geoms.is_empty.to_numpy())
    finite = np.isfinite(bounds).all(axis=1)
    crs = CRS.from_user_input(crs)
    problems = _listed(frame, present & ~finite, id_field, name, bounds,
                       f"coordinates are not finite numbers{stage}; give numeric coordinates")
    box = valid_box(crs)
    if box is None:
        return problems
    west, south, east, north = box
    outside = present & finite & ((bounds[:, 0] < west) | (bounds[:, 1] < south) |
                                  (bounds[:, 2] > east) | (bounds[:, 3] > north))
    area = crs.area_of_use
    assert area is not None
    where = (f"lon {area.west:g}..{area.east:g}, lat {area.south:g}..{area.north:g}, "
             f"plus {AREA_MARGIN_DEG:g}°")
    return problems + _listed(frame, outside, id_field, name, bounds,
                              f"lies outside the area where {crs.to_string()} is valid ({where}){stage}; "
                              "check the coordinates (lon, lat order) and the layer's CRS")


@functools.lru_cache(maxsize=32)
def valid_box(crs: CRS) -> tuple[float, float, float, float] | None:
    """(xmin, ymin, xmax, ymax) in `crs` of its area of use widened by `AREA_MARGIN_DEG`; None when
    the CRS has no area of use or the box cannot be computed."""
    area = crs.area_of_use
    if area is None or area.west > area.east:   # unknown, or across the antimeridian: not checked
        return None
    m = AREA_MARGIN_DEG
    west, south = max(area.west - m, -180.0), max(area.south - m, -90.0)
    east, north = min(area.east + m, 180.0), min(area.north + m, 90.0)
    if crs.is_geographic:
        return west, south, east, north
    try:
        box = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform_bounds(
            west, south, east, north, densify_pts=21)
    except ProjError:
        return None
    xmin, ymin, xmax, ymax = (float(v) for v in box)
    return (xmin, ymin, xmax, ymax) if np.isfinite([xmin, ymin, xmax, ymax]).all() else None


def _listed(frame: gpd.GeoDataFrame, bad: npt.NDArray[np.bool_], id_field: str, name: str,
            bounds: npt.NDArray[np.float64], message: str) -> list[Problem]:
    rows = np.flatnonzero(bad)
    if len(rows) == 0:
        return []
    ids = frame[id_field].to_numpy(dtype=object) if id_field in frame.columns else None
    problems = []
    for k in rows[:_SHOWN]:
        label = f"row {k}" if ids is None else str(ids[k])
        x, y = bounds[k, 0], bounds[k, 1]
        problems.append(Problem(f"{name} feature '{label}'", f"({x:g}, {y:g}) {message}"))
    if len(rows) > _SHOWN:
        problems.append(Problem(f"{name} layer", f"{len(rows) - _SHOWN} more feature(s) like these"))
    return problems
