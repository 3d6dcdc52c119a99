"""OpenAPI links: from a created job or upload to what can be done with it next (by operationId).

They let a client, and stateful test generators, follow a 202 or 201 answer to the operations
on the resource it created, passing the `id` of the answer as the path parameter. The answer's
``Location`` header names the created resource too.
"""

from __future__ import annotations

from typing import Any


def _links(parameter: str, operations: dict[str, str]) -> dict[str, dict[str, Any]]:
    """One link per (name, operationId), each passing the answer's `id` as `parameter`."""
    return {name: {"operationId": operation, "parameters": {parameter: "$response.body#/id"},
                   "description": f"The `id` of this answer is the `{parameter}` of {operation}."}
            for name, operation in operations.items()}


SOLVE_LINKS = _links("job_id", {
    "ReadJob": "read_job", "CancelJob": "cancel_job", "DeleteJob": "delete_job", "ReadPlan": "read_job_plan",
    "ReadPlanGeoJSON": "read_job_plan_geojson", "ReadPlanGeoPackage": "read_job_plan_gpkg",
    "ReadMap": "read_job_map_html"})
SWEEP_LINKS = _links("job_id", {
    "ReadSweep": "read_sweep", "CancelSweep": "cancel_sweep", "DeleteSweep": "delete_sweep",
    "ReadFrontier": "read_sweep_frontier", "ReadFrontierCsv": "read_sweep_frontier_csv",
    "ReadFrontierChart": "read_sweep_frontier_png"})
UPLOAD_LINKS = _links("upload_id", {"ReadUpload": "read_upload", "DeleteUpload": "delete_upload"})

LOCATION = {"Location": {"description": "The URL of the created job or upload.", "schema": {"type": "string"}}}
