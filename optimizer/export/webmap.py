"""map.html: one self-contained file (Leaflet, styles, data inlined) that works with no network.

The plan's layers go in as GeoJSON (EPSG:4326) inside a ``<script type="application/json">``;
``optimizer/static/webmap/app.js`` draws them: the road network when the scenario has one,
facilities per type as toggleable marker layers, communities coloured by coverage, zones
shaded by target achievement and labelled with their names, service areas (off by default),
popups with names, type labels and figures, a search box for a site or community by name or
id, a legend, no basemap tiles. A phased plan gets a year control: facilities open in the
chosen year (opening year <= it), communities coloured by that year's coverage, zones shaded
by that year's per-zone targets, and the headline gives the capital spent up to that year,
its annual cost, facilities open and targets met. Leaflet's images are
inlined as data: URIs, so the file opens from a USB stick.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimizer.export.bundle import PlanBundle
from optimizer.export.charts import network_lines
from optimizer.export.fields import target_descriptions
from optimizer.export.labels import type_label
from optimizer.export.layers import facility_sites
from optimizer.export.styles import COVERAGE_CLASSES, ZONE_CLASSES, ZONE_OUTLINE, type_colours
from optimizer.export.zones import target_class_by_year
from optimizer.reach.base import served_mask
from optimizer.report.atomic import write_text

STATIC = Path(__file__).resolve().parents[1] / "static"
LONLAT_DIGITS = 1e-6   # ~0.1 m
ROAD_SIMPLIFY_M = 2.0   # roads are drawn, not measured: 2 m of detail is invisible and halves the file


def _leaflet_css() -> str:
    """leaflet.css with its image references replaced by data: URIs."""
    folder = STATIC / "leaflet"
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        data = base64.b64encode((folder / match.group(1)).read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)


def _leaflet_js() -> str:
    js = (STATIC / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    return re.sub(r"//# sourceMappingURL=\S+", "", js)


def _features(frame: gpd.GeoDataFrame, columns: list[str] | None = None) -> dict[str, Any]:
    """A GeoJSON FeatureCollection in EPSG:4326, coordinates rounded to `LONLAT_DIGITS` degrees."""
    frame = frame.to_crs("EPSG:4326")
    if columns is not None:
        frame = frame[[*columns, frame.geometry.name]]
    frame = frame.set_geometry(shapely.set_precision(frame.geometry.values, LONLAT_DIGITS))
    frame = frame.astype({c: object for c in frame.columns if c != frame.geometry.name})
    frame = frame.where(pd.notna(frame), None)
    return frame.to_geo_dict(drop_id=True)


def _demand_points(frame: gpd.GeoDataFrame, bundle: PlanBundle) -> gpd.GeoDataFrame:
    """Demand as the points that count (lighter than polygons), distances to whole units."""
    xy = bundle.region.demand.xy
    points = frame.set_geometry(gpd.points_from_xy(xy[:, 0], xy[:, 1], crs=bundle.region.crs))
    dist = [c for c in points.columns if c.startswith("dist_")]
    points[dist] = points[dist].round(0)
    return points


def coverage_by_year(bundle: PlanBundle) -> list[list[str]]:
    """``[i][p]``: unit i's coverage class (as the demand layer's ``coverage``) in planning year p.

    A unit is covered by a type in year p when the plan's last year covers it and a facility of
    that type opened in year p or before (existing ones count from the first year) has it in
    reach; the open sets only grow, so the last year is exactly the checker's ``covered``.
    Empty lists without ``years``.
    """
    years = list(bundle.scenario.years or [])
    if not years:
        return [[] for _ in range(bundle.region.demand.n)]
    region, checked = bundle.region, bundle.checked
    s, t = facility_sites(bundle)
    opened = np.array([0 if not f["new"] or f.get("year") is None else years.index(int(f["year"]))
                       for f in checked.facilities], dtype=np.int64)
    n, periods = region.demand.n, len(years)
    first = np.full((n, len(region.type_names)), periods, dtype=np.int64)   # first year in reach, or never
    for f in range(len(s)):
        units = bundle.reach.by_type[t[f]][:, [s[f]]].tocoo().row
        first[units, t[f]] = np.minimum(first[units, t[f]], opened[f])
    serving = np.column_stack([served_mask(bundle.scenario.facility_types[name], region.demand.group)
                               for name in region.type_names])
    covered_last = np.column_stack([checked.covered[name] for name in region.type_names])
    n_serving = serving.sum(axis=1)
    classes = []
    for p in range(periods):
        n_covered = (covered_last & serving & (first <= p)).sum(axis=1)
        classes.append(np.select([n_serving == 0, n_covered == n_serving, n_covered == 0],
                                 ["not_served", "covered", "uncovered"], "partly"))
    table: list[list[str]] = np.column_stack(classes).tolist()
    return table


def _year_summaries(bundle: PlanBundle) -> list[dict[str, Any]]:
    """Per planning year: capital (that year, and up to it), annual cost, facilities open, targets met."""
    out = []
    to_date = 0.0
    for year, entry in (bundle.plan.get("years") or {}).items():
        targets = entry.get("targets") or []
        to_date += float(entry.get("capital") or 0.0)
        out.append({"year": int(year), "capital": entry.get("capital"), "capitalToDate": to_date,
                    "annual": entry.get("annual"),
                    "facilitiesOpen": entry.get("facilities_open"),
                    "targetsMet": sum(bool(t.get("met")) for t in targets), "targets": len(targets)})
    return out


def _roads(bundle: PlanBundle) -> dict[str, Any] | None:
    """The scenario's road network as GeoJSON lines (geometry only), or None without one."""
    roads = network_lines(bundle)
    if roads is None or roads.empty:
        return None
    lines = gpd.GeoDataFrame(geometry=roads.geometry.simplify(ROAD_SIMPLIFY_M), crs=roads.crs)
    return _features(lines[~lines.geometry.is_empty])


def _zone_labels(zones: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Where each named zone's label goes: a point inside it (EPSG:4326)."""
    named = zones[zones["zone"].notna()]
    points = named.geometry.representative_point().to_crs("EPSG:4326")
    return [{"zone": str(zone), "lon": round(float(x), 6), "lat": round(float(y), 6)}
            for zone, x, y in zip(named["zone"], points.x, points.y)]


def _zone_features(bundle: PlanBundle, zones: gpd.GeoDataFrame) -> dict[str, Any]:
    collection = _features(zones)
    for feature, classes in zip(collection["features"], target_class_by_year(bundle, list(zones["zone"]))):
        feature["properties"]["target_class_by_year"] = classes
    return collection


def map_data(bundle: PlanBundle, layers: dict[str, gpd.GeoDataFrame]) -> dict[str, Any]:
    """Everything app.js draws: layers as GeoJSON, classes, colours, the plan's headline figures."""
    plan, cost = bundle.plan, bundle.checked.cost
    descriptions = target_descriptions(bundle.scenario.targets)
    demand = _features(_demand_points(layers["demand"], bundle))
    for feature, classes in zip(demand["features"], coverage_by_year(bundle)):
        feature["properties"]["coverage_by_year"] = classes
    return {
        "meta": {"title": bundle.scenario.name, "status": plan.get("status"), "gap": plan.get("gap"),
                 "all_targets_met": plan.get("all_targets_met"), "cost_total": cost["total"],
                 "cost_capital": cost["capital"], "cost_annual": cost["annual"]},
        "types": [{"name": n, "colour": c, "label": type_label(bundle, n)}
                  for n, c in type_colours(bundle.region.type_names).items()],
        "weights": list(bundle.region.demand.weights),
        "distanceUnit": bundle.reach.unit,
        "coverageClasses": [{"value": v, "colour": c, "label": lb} for v, c, lb in COVERAGE_CLASSES],
        "zoneClasses": [{"value": v, "colour": c, "label": lb} for v, c, lb in ZONE_CLASSES],
        "zoneOutline": ZONE_OUTLINE,
        "targets": [{"index": t["index"], "kind": t["kind"], "text": descriptions[t["index"]]}
                    for t in bundle.checked.targets],
        "facilities": _features(layers["facilities"]),
        "demand": demand,
        "zones": _zone_features(bundle, layers["zones"]),
        "zoneLabels": _zone_labels(layers["zones"]),
        "roads": _roads(bundle),
        "serviceAreas": _features(layers["service_areas"], ["site", "type"]),
        "years": [int(y) for y in bundle.scenario.years or []],
        "yearSummaries": _year_summaries(bundle),
    }


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no ``</script>``, no HTML comment openers)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def write_webmap(bundle: PlanBundle, layers: dict[str, gpd.GeoDataFrame], path: Path) -> Path:
    """Write the offline web map of the plan to `path` (UTF-8 HTML, everything inlined).

    Parameters
    ----------
    bundle : PlanBundle
        The plan.
    layers : dict
        ``facilities``, ``demand``, ``zones``, ``service_areas`` from `plan_layers` (any CRS).
    path : Path
        The HTML file to write.
    """
    folder = STATIC / "webmap"
    parts = {
        "TITLE": html.escape(bundle.scenario.name),
        "LEAFLET_CSS": _leaflet_css(),
        "APP_CSS": (folder / "app.css").read_text(encoding="utf-8"),
        "DATA": _script_json(map_data(bundle, layers)),
        "LEAFLET_JS": _leaflet_js(),
        "APP_JS": (folder / "app.js").read_text(encoding="utf-8"),
    }
    template = (folder / "template.html").read_text(encoding="utf-8")
    page = re.sub(r"__([A-Z_]+)__", lambda m: parts.get(m.group(1), m.group(0)), template)
    return write_text(path, page)
