"""map.html: one self-contained file (Leaflet, styles, data inlined) that works with no network.

The plan's layers go in as GeoJSON (EPSG:4326) inside a ``<script type="application/json">``;
``optimizer/static/webmap/app.js`` draws them: facilities per type as toggleable marker
layers, communities coloured by coverage, zones shaded by target achievement, service areas
(off by default), popups with the figures, a legend, no basemap tiles. Leaflet's images are
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
import pandas as pd
import shapely

from optimizer.export.bundle import PlanBundle
from optimizer.export.fields import target_descriptions
from optimizer.export.styles import COVERAGE_CLASSES, ZONE_CLASSES, ZONE_OUTLINE, type_colours
from optimizer.report.atomic import write_text

STATIC = Path(__file__).resolve().parents[1] / "static"
LONLAT_DIGITS = 1e-6   # ~0.1 m


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


def map_data(bundle: PlanBundle, layers: dict[str, gpd.GeoDataFrame]) -> dict[str, Any]:
    """Everything app.js draws: layers as GeoJSON, classes, colours, the plan's headline figures."""
    plan, cost = bundle.plan, bundle.checked.cost
    descriptions = target_descriptions(bundle.scenario.targets)
    return {
        "meta": {"title": bundle.scenario.name, "status": plan.get("status"), "gap": plan.get("gap"),
                 "all_targets_met": plan.get("all_targets_met"), "cost_total": cost["total"],
                 "cost_capital": cost["capital"], "cost_annual": cost["annual"]},
        "types": [{"name": n, "colour": c} for n, c in type_colours(bundle.region.type_names).items()],
        "weights": list(bundle.region.demand.weights),
        "distanceUnit": bundle.reach.unit,
        "coverageClasses": [{"value": v, "colour": c, "label": lb} for v, c, lb in COVERAGE_CLASSES],
        "zoneClasses": [{"value": v, "colour": c, "label": lb} for v, c, lb in ZONE_CLASSES],
        "zoneOutline": ZONE_OUTLINE,
        "targets": [{"index": t["index"], "kind": t["kind"], "text": descriptions[t["index"]]}
                    for t in bundle.checked.targets],
        "facilities": _features(layers["facilities"]),
        "demand": _features(_demand_points(layers["demand"], bundle)),
        "zones": _features(layers["zones"]),
        "serviceAreas": _features(layers["service_areas"], ["site", "type"]),
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
