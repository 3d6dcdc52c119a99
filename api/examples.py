"""Example requests shown in the OpenAPI document (and used as its smallest working submission)."""

from __future__ import annotations

from typing import Any


def _point(fid: str, lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"id": fid, **properties},
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


TINY_SCENARIO: dict[str, Any] = {
    "format": 1,
    "name": "Three communities, two candidate sites",
    "crs": "EPSG:32650",
    "demand": {"features": {"type": "FeatureCollection", "features": [
        _point("C1", 116.3000, 39.9900, pop60=420), _point("C2", 116.3060, 39.9905, pop60=310),
        _point("C3", 116.3200, 39.9950, pop60=150)]},
        "id": "id", "weights": {"elderly": "pop60"}},
    "sites": {"features": {"type": "FeatureCollection", "features": [
        _point("S1", 116.3030, 39.9902), _point("S2", 116.3190, 39.9945)]}, "id": "id"},
    "facility_types": {"station": {"radius_m": 1000, "capital_cost": 600000, "annual_cost": 90000}},
    "targets": [{"kind": "coverage", "facility": "station", "measure": "units", "min_share": 1.0}],
    "solver": {"time_limit_s": 30},
}

UPLOADED_SCENARIO: dict[str, Any] = {
    "format": 1,
    "name": "Example district (uploaded layers)",
    "demand": {"path": "files/<upload id>/demand.geojson", "id": "id", "group": "kind", "zone": "street",
               "weights": {"elderly": "pop60"}},
    # every site may host a station: the example's `allowed` field also names types this scenario leaves out
    "sites": {"path": "files/<upload id>/sites.geojson", "id": "id", "zone": "street"},
    "facility_types": {"station": {"radius_m": 1000, "serves": ["urban"], "capital_cost": 600000}},
    "targets": [{"kind": "coverage", "facility": "station", "group": "urban", "min_share": 1.0}],
}

SCENARIO_EXAMPLES: dict[str, dict[str, Any]] = {
    "inline": {"summary": "Inline GeoJSON features", "value": TINY_SCENARIO},
    "uploaded": {"summary": "Layers uploaded with POST /v1/files first (not runnable as it is)",
                 "description": "Needs an upload first: POST /v1/files with scenarios/example/demand.geojson and "
                 "sites.geojson, then replace <upload id> with the `id` it returned (with the same key). As it "
                 "stands the paths name no upload, and the answer is 422.",
                 "value": UPLOADED_SCENARIO},
}

SWEEP_EXAMPLES: dict[str, dict[str, Any]] = {
    "budgets": {"summary": "Given capital budgets", "value": {"scenario": TINY_SCENARIO, "budgets": [6e5, 1.2e6]}},
    "levels": {"summary": "Automatic levels", "value": {"scenario": TINY_SCENARIO, "levels": 3}},
}
