"""The plan as GIS layers, one builder per layer, assembled by `plan_layers`.

Layers: ``facilities`` (points), ``demand`` (units as in the input), ``service_areas``,
``zones`` (see `optimizer.export.zones`), and two attribute tables, ``targets`` and
``plan_info``. Builders work in the scenario's metric CRS; `plan_layers` reprojects. Service
areas are buffers of the service radius in straight-line mode (`service_area_polygons`, the
seam for walking isochrones).
"""

from __future__ import annotations

from typing import Any, cast

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from optimizer.export.bundle import PlanBundle
from optimizer.export.tables import info_table, targets_table
from optimizer.export.zones import zones_frame
from optimizer.reach.base import served_mask
from optimizer.report.build_list import bed_hosts, facility_index, served_by_facility

HULL_MARGIN_M = 50.0
IntArray = npt.NDArray[np.int64]


def _site_index(bundle: PlanBundle) -> tuple[IntArray, IntArray]:
    """Site and type index of every facility in ``checked.facilities``."""
    return facility_index(bundle.region, bundle.checked)


def facility_sites(bundle: PlanBundle) -> tuple[IntArray, IntArray]:
    """Site and type index of every facility in ``checked.facilities`` (in that order)."""
    return _site_index(bundle)


def facilities_frame(bundle: PlanBundle) -> gpd.GeoDataFrame:
    """One point per open facility with its figures and the demand it serves."""
    region = bundle.region
    s, _ = _site_index(bundle)
    frame = pd.DataFrame(bundle.checked.facilities)
    phased = [c for c in ("year",) if c in frame.columns]   # phased plans: opening year (QGIS time filter)
    frame = frame[["site", "name", "type", "label", "new", "capital_cost", "annual_cost", "land_m2", "capacity",
                   "zone", *phased]].copy()
    frame["new"] = frame["new"].astype(np.int8)
    renovated = bed_hosts(bundle.scenario, bundle.checked)
    frame.insert(list(frame.columns).index("new"), "action",
                 ["new" if f["new"] else "renovation" if k in renovated else "existing"
                  for k, f in enumerate(bundle.checked.facilities)])
    if "year" in frame.columns:
        frame["year"] = pd.to_numeric(frame["year"], errors="coerce").astype("Int64")
    frame["capacity"] = pd.to_numeric(frame["capacity"], errors="coerce").astype(np.float64)
    served_units, served = served_by_facility(region, bundle.reach, bundle.checked)
    frame["served_units"] = served_units
    for w, values in served.items():
        frame[f"served_{w}"] = values
    _bed_columns(frame, bundle)
    points = gpd.points_from_xy(region.sites.xy[s, 0], region.sites.xy[s, 1], crs=region.crs)
    return gpd.GeoDataFrame(frame, geometry=points, crs=region.crs)


def _bed_columns(frame: pd.DataFrame, bundle: PlanBundle) -> None:
    """Beds the plan's bed actions add per kind (net of conversions out), and their capital and
    annual cost, on the first row of each site whose type an action is taken at: which institution
    gains how many nursing beds, and what that costs."""
    actions, taken = bundle.scenario.bed_actions or {}, bundle.plan.get("bed_actions") or []
    if not actions or not taken:
        return
    kinds = sorted({a.adds for a in actions.values()} | {a.removes for a in actions.values() if a.removes})
    for kind in kinds:
        frame[f"beds_added_{kind}"] = 0
    frame["bed_capital"], frame["bed_annual"] = 0.0, 0.0
    for entry in taken:
        action = actions[entry["action"]]
        hosts = np.flatnonzero((frame["site"] == entry["site"]).to_numpy() & frame["type"].isin(action.at).to_numpy())
        if not len(hosts):
            continue
        row = frame.index[hosts[0]]
        frame.loc[row, f"beds_added_{action.adds}"] += entry["beds"]
        if action.removes:
            frame.loc[row, f"beds_added_{action.removes}"] -= entry["beds"]
        frame.loc[row, "bed_capital"] += entry["beds"] * action.capital_per_bed
        frame.loc[row, "bed_annual"] += entry["beds"] * action.annual_per_bed


def _demand_geometry(bundle: PlanBundle) -> gpd.GeoSeries:
    """The units' own geometry when all points or all polygons; else the point that counts."""
    frame = bundle.region.demand.frame
    kinds = set(frame.geom_type)
    if kinds <= {"Point"} or kinds <= {"Polygon", "MultiPolygon"}:
        return cast(gpd.GeoSeries, frame.geometry.reset_index(drop=True))
    xy = bundle.region.demand.xy
    return gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=bundle.region.crs)


def demand_frame(bundle: PlanBundle) -> gpd.GeoDataFrame:
    """Every demand unit: its weights, and per facility type covered or not and the distance."""
    region, scenario, checked = bundle.region, bundle.scenario, bundle.checked
    demand = region.demand
    names = demand.names if demand.names is not None else np.full(demand.n, None, dtype=object)
    frame = pd.DataFrame({"id": demand.ids, "name": names, "group": demand.group, "zone": demand.zone})
    frame[["group", "zone"]] = frame[["group", "zone"]].replace("", None)
    for w, values in demand.weights.items():
        frame[w] = values
    serving = np.column_stack([served_mask(scenario.facility_types[n], demand.group) for n in region.type_names])
    covered = np.column_stack([checked.covered[n] for n in region.type_names])
    n_serving, n_covered = serving.sum(axis=1), covered.sum(axis=1)
    frame["coverage"] = np.select([n_serving == 0, n_covered == n_serving, n_covered == 0],
                                  ["not_served", "covered", "uncovered"], "partly")
    for t, name in enumerate(region.type_names):
        frame[f"cov_{name}"] = pd.array(np.where(serving[:, t], covered[:, t].astype(np.int8), 0), dtype="Int8")
        frame.loc[~serving[:, t], f"cov_{name}"] = pd.NA
        nearest = checked.nearest[name]
        frame[f"dist_{name}"] = np.where(np.isfinite(nearest), nearest, np.nan)
    return gpd.GeoDataFrame(frame, geometry=_demand_geometry(bundle), crs=region.crs)


def service_area_polygons(bundle: PlanBundle, facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The area each open facility serves: the seam for walking isochrones on a network.

    Straight-line reach: a disc of the type's ``radius_m`` around the facility
    (``method = straight_line_buffer``). Table (and, until isochrones exist, network) reach: the
    convex hull of the facility and the units within its limit, widened by `HULL_MARGIN_M`
    (``method = reach_hull``).
    """
    region, reach = bundle.region, bundle.reach
    s, t = _site_index(bundle)
    in_reach = np.zeros(len(s), dtype=np.int64)
    for k in np.unique(t):
        in_reach[t == k] = np.bincount(reach.by_type[k].indices, minlength=region.sites.n)[s[t == k]]
    frame = pd.DataFrame({"site": facilities["site"], "name": facilities["name"], "type": facilities["type"],
                          "label": facilities["label"], "new": facilities["new"],
                          "radius_m": np.nan, "method": "", "units_in_reach": in_reach})
    if reach.source == "straight_line":
        radius = np.array([bundle.scenario.facility_types[n].radius_m for n in frame["type"]], dtype=np.float64)
        frame["radius_m"], frame["method"] = radius, "straight_line_buffer"
        polygons = shapely.buffer(shapely.points(region.sites.xy[s]), radius, quad_segs=16)
    else:
        frame["method"] = "reach_hull"
        polygons = _reach_hulls(bundle, s, t)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(polygons, crs=region.crs), crs=region.crs)


def _reach_hulls(bundle: PlanBundle, s: IntArray, t: IntArray) -> Any:
    region = bundle.region
    xy_parts, owner = [region.sites.xy[s]], [np.arange(len(s))]
    for f, (site, k) in enumerate(zip(s, t)):
        units = bundle.reach.by_type[k][:, [site]].tocoo().row
        xy_parts.append(region.demand.xy[units])
        owner.append(np.full(len(units), f))
    xy, index = np.vstack(xy_parts), np.concatenate(owner)
    order = np.argsort(index, kind="stable")
    hulls = shapely.convex_hull(shapely.multipoints(xy[order], indices=index[order]))
    return shapely.buffer(hulls, HULL_MARGIN_M)


# Layer -> (Chinese title, description), written to gpkg_contents.
LAYER_TITLES = {
    "facilities": ("养老服务设施", "open elder-care facilities of the plan, new and existing"),
    "demand": ("社区与村", "demand units: covered or not and distance to the nearest open facility, per type"),
    "service_areas": ("设施服务范围", "area each open facility serves"),
    "zones": ("街道乡镇目标达成", "zones with every target's required, achieved and met"),
    "targets": ("规划目标", "targets overall and per zone"),
    "plan_info": ("方案信息", "scenario, solver status, objective, bound, gap, cost"),
}


def plan_layers(bundle: PlanBundle, *, crs: str | None = None) -> dict[str, pd.DataFrame]:
    """Every layer of `LAYER_TITLES` in order, spatial ones in `crs` (default: the scenario's)."""
    crs = crs or bundle.region.crs
    facilities = facilities_frame(bundle)
    areas = service_area_polygons(bundle, facilities)
    zones = zones_frame(bundle)
    # Polygons first: GIS clients that stack layers in file order then draw points on top.
    spatial: dict[str, gpd.GeoDataFrame] = {"zones": zones, "service_areas": areas,
                                            "demand": demand_frame(bundle), "facilities": facilities}
    notes = [f"zones: {zones['boundary'].iloc[0]} (no official boundaries)" if len(zones) else "no zones",
             f"service areas: {areas['method'].iloc[0] if len(areas) else 'none'}"]
    layers: dict[str, pd.DataFrame] = {name: frame.to_crs(crs) for name, frame in spatial.items()}
    layers["targets"] = targets_table(bundle)
    layers["plan_info"] = info_table(bundle, crs=crs, notes=notes)
    return layers
