"""The ``zones`` layer: a polygon per street / township with every target's reading there.

Per-zone targets give the checker's own zone rows; they alone decide a zone's
``achievement`` and ``target_class`` (its shading). A coverage target over the whole region is
also read in each zone, for information, as the zone's own share against the region-wide
requirement; overall count and land targets have no zone reading and no zone fields.
Zones take their polygons from the scenario's `boundaries` layer; without one (or for a zone
it does not name) `zone_polygons` draws the convex hull of the zone's units and sites widened
by `ZONE_MARGIN_M`: a sketch for the map, not an official boundary.
"""

from __future__ import annotations

from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimizer.export.bundle import PlanBundle
from optimizer.export.styles import achievement_class
from optimizer.inputs.drivers import checked_input, input_format, read_vector
from optimizer.reach.base import served_mask
from optimizer.scenario.fields import CoverageTarget

ZONE_MARGIN_M = 150.0
TOL = 1e-9


def zone_names(bundle: PlanBundle) -> list[str]:
    """Every zone of the demand units and the sites (``""`` when the scenario names no zone)."""
    return sorted(set(bundle.region.demand.zone) | set(bundle.region.sites.zone))


def zone_polygons(bundle: PlanBundle, zones: list[str]) -> tuple[Any, str]:
    """One polygon per zone of `zones`, and how it was made.

    The scenario's `boundaries` layer where it names the zone; otherwise the convex hull of the
    zone's demand units and sites, widened by `ZONE_MARGIN_M` (hulls of neighbours can overlap).
    """
    hulls, how = _hull_polygons(bundle, zones)
    spec = bundle.scenario.boundaries
    if spec is None:
        return hulls, how
    drawn = _boundary_polygons(bundle, spec.path, spec.layer, spec.zone)
    polygons = np.array([drawn.get(zone, hull) for zone, hull in zip(zones, hulls)], dtype=object)
    missing = [zone for zone in zones if zone not in drawn]
    how = f"boundary from {spec.path}" + (f"; hull for {', '.join(missing)}" if missing else "")
    return polygons, how


def _boundary_polygons(bundle: PlanBundle, path: str, layer: str | None, attribute: str) -> dict[str, Any]:
    """Zone name -> polygon (parts of one zone merged), in the plan's CRS."""
    from optimizer.errors import GeodataError

    input_format(path, "boundaries.path")   # no URL, no /vsi… path
    file = bundle.base_dir / path
    if not file.exists():
        raise GeodataError(f"file not found: {file}", "boundaries.path")
    frame = read_vector(file, checked_input(file, "boundaries.path"), "boundaries.path", layer=layer)
    if attribute not in frame.columns:
        raise GeodataError(f"no attribute '{attribute}' in {path}", "boundaries.zone")
    if frame.crs is not None:
        frame = frame.to_crs(bundle.region.crs)
    merged = frame.dissolve(by=frame[attribute].astype(str).str.strip())
    return dict(zip(merged.index, merged.geometry))


def _hull_polygons(bundle: PlanBundle, zones: list[str]) -> tuple[Any, str]:
    """The convex hull of each zone's units and sites, widened by `ZONE_MARGIN_M`."""
    demand, sites = bundle.region.demand, bundle.region.sites
    position = {zone: z for z, zone in enumerate(zones)}
    xy = np.vstack([demand.xy, sites.xy])
    owner = np.array([position[z] for z in np.concatenate([demand.zone, sites.zone])], dtype=np.int64)
    order = np.argsort(owner, kind="stable")
    hulls = shapely.convex_hull(shapely.multipoints(xy[order], indices=owner[order]))
    return shapely.buffer(hulls, ZONE_MARGIN_M), f"convex hull of the zone's units and sites + {ZONE_MARGIN_M:g} m"


def _coverage_in_zones(bundle: PlanBundle, target: CoverageTarget, zones: list[str]) -> list[dict[str, Any] | None]:
    """A region-wide coverage target read in each zone: the zone's own covered share."""
    demand = bundle.region.demand
    scope = served_mask(bundle.scenario.facility_types[target.facility], demand.group)
    if target.group is not None:
        scope &= demand.group == target.group
    measure = np.ones(demand.n) if target.measure == "units" else demand.weights[target.measure]
    covered = bundle.checked.covered[target.facility]
    rows: list[dict[str, Any] | None] = []
    for zone in zones:
        in_zone = scope & (demand.zone == zone)
        total = float(measure[in_zone].sum())
        share = float(measure[in_zone & covered].sum()) / total if total > 0 else None
        rows.append(None if share is None else
                    {"required": target.min_share, "achieved": share, "met": share >= target.min_share - TOL})
    return rows


def _target_rows(bundle: PlanBundle, zones: list[str]) -> dict[int, list[dict[str, Any] | None]]:
    """Target index -> its reading in each zone (None where it does not apply)."""
    out = {}
    for k, (target, checked) in enumerate(zip(bundle.scenario.targets, bundle.checked.targets)):
        if checked.get("zones"):
            by_zone = {row["zone"]: row for row in checked["zones"]}
            out[k] = [by_zone.get(zone) for zone in zones]
        elif isinstance(target, CoverageTarget):
            out[k] = _coverage_in_zones(bundle, target, zones)
    return out


def _ratio(row: dict[str, Any]) -> float:
    """Achieved / required, 1 when met; over a maximum: required / achieved."""
    if row["met"]:
        return 1.0
    required, achieved = float(row["required"] or 0.0), float(row["achieved"] or 0.0)
    if achieved < required:
        return achieved / required
    return required / achieved if achieved > 0 else 0.0


def zones_frame(bundle: PlanBundle) -> gpd.GeoDataFrame:
    """Per zone: units, weights, open / new facilities and covered share per type, target readings."""
    region, checked = bundle.region, bundle.checked
    zones = zone_names(bundle)
    demand = region.demand
    frame = pd.DataFrame({"zone": [z or None for z in zones]})
    in_zone = [demand.zone == zone for zone in zones]
    frame["units"] = [int(mask.sum()) for mask in in_zone]
    for w, values in demand.weights.items():
        frame[w] = [float(values[mask].sum()) for mask in in_zone]
    for name in region.type_names:
        here = [(f["zone"] or "", f["new"]) for f in checked.facilities if f["type"] == name]
        frame[f"open_{name}"] = [sum(z == zone for z, _ in here) for zone in zones]
        frame[f"new_{name}"] = [sum(z == zone and new for z, new in here) for zone in zones]
        serves = served_mask(bundle.scenario.facility_types[name], demand.group)
        frame[f"covshare_{name}"] = [float(checked.covered[name][mask & serves].mean())
                                     if (mask & serves).any() else np.nan for mask in in_zone]
    readings = _target_rows(bundle, zones)
    for k, rows in readings.items():
        frame[f"t{k}_req"] = [np.nan if r is None else float(r["required"]) for r in rows]
        frame[f"t{k}_ach"] = [np.nan if r is None else float(r["achieved"]) for r in rows]
        frame[f"t{k}_met"] = pd.array([None if r is None else int(r["met"]) for r in rows], dtype="Int8")
    per_zone = [k for k, target in enumerate(bundle.scenario.targets) if getattr(target, "per_zone", False)]
    worst = [[_ratio(cast(dict[str, Any], readings[k][z])) for k in per_zone if readings[k][z] is not None]
             for z in range(len(zones))]
    frame["achievement"] = [min(w) if w else np.nan for w in worst]
    frame["all_met"] = pd.array([None if not w else int(min(w) >= 1.0) for w in worst], dtype="Int8")
    frame["target_class"] = [achievement_class(min(w) if w else None, min(w) >= 1.0 if w else None)
                             for w in worst]
    polygons, how = zone_polygons(bundle, zones)
    frame["boundary"] = how
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(polygons, crs=region.crs), crs=region.crs)


def target_class_by_year(bundle: PlanBundle, zones: list[str | None]) -> list[list[str]]:
    """``[z][p]``: zone z's `target_class` in planning year p (empty lists without ``years``).

    Read from plan.json's ``years`` section (the checker's per-year figures): per-zone targets
    that hold in year p decide it as `zones_frame` decides the whole plan's; a zone with none
    holding yet is ``none``. In the last year it is the zones layer's own ``target_class``.
    """
    years = bundle.plan.get("years") or {}
    per_zone = {k for k, target in enumerate(bundle.scenario.targets) if getattr(target, "per_zone", False)}
    out: list[list[str]] = [[] for _ in zones]
    for entry in years.values():
        ratios: dict[str, list[float]] = {}
        for target in entry.get("targets") or []:
            if int(target["index"]) in per_zone:
                for row in target.get("zones") or []:
                    ratios.setdefault(str(row["zone"]), []).append(_ratio(row))
        for z, zone in enumerate(zones):
            worst = ratios.get(str(zone or ""))
            out[z].append(achievement_class(min(worst), min(worst) >= 1.0) if worst else "none")
    return out
