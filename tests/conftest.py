"""Shared builders: small scenarios with inline features placed in metres."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer

SHARED = Path(__file__).resolve().parents[1] / "scenarios" / "example"
CRS = "EPSG:32650"
_TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
ORIGIN = (500_000.0, 4_050_000.0)


def point(x_m: float, y_m: float) -> dict[str, Any]:
    """A GeoJSON point `x_m`, `y_m` metres from a fixed origin in UTM zone 50N."""
    lon, lat = _TO_LONLAT.transform(ORIGIN[0] + x_m, ORIGIN[1] + y_m)
    return {"type": "Point", "coordinates": [lon, lat]}


def collection(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """FeatureCollection from rows holding ``xy`` (metres) plus properties."""
    features = []
    for row in rows:
        props = {k: v for k, v in row.items() if k != "xy"}
        features.append({"type": "Feature", "geometry": point(*row["xy"]), "properties": props})
    return {"type": "FeatureCollection", "features": features}


def scenario_doc(units: list[dict[str, Any]], sites: list[dict[str, Any]],
                 types: dict[str, Any], targets: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A format-1 scenario with inline demand and sites (fields: id, kind, zone, pop)."""
    doc: dict[str, Any] = {
        "format": 1, "name": "test", "crs": CRS,
        "demand": {"features": collection(units), "id": "id", "group": "kind", "zone": "zone",
                   "weights": {"elderly": "pop"}},
        "sites": {"features": collection(sites), "id": "id", "zone": "zone", "allowed": "allowed",
                  "existing": "existing"},
        "facility_types": types, "targets": targets,
        "budget": {"capital": None, "annual": None, "horizon_years": 3},
        "objective": "min_cost", "elastic": False,
        "solver": {"backend": "highs", "time_limit_s": 30, "mip_gap": 0.0},
    }
    doc.update(extra)
    return doc


def write_scenario(folder: Path, doc: dict[str, Any], name: str = "scenario.json") -> Path:
    """Write `doc` as JSON into `folder` and return the path."""
    path = folder / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def example_doc() -> dict[str, Any]:
    """The shipped example scenario as a dict (paths relative to scenarios/example)."""
    return json.loads((SHARED / "scenario.json").read_text(encoding="utf-8"))


@pytest.fixture
def example_dir(tmp_path: Path) -> Path:
    """A temporary copy of the example folder, free to edit."""
    for name in ("scenario.json", "demand.geojson", "sites.geojson"):
        (tmp_path / name).write_bytes((SHARED / name).read_bytes())
    return tmp_path
