"""Exports of a checked plan for the land-use plan and the bureau meeting.

plan.gpkg (styled GIS layers), plan.geojson and plan.csv (facilities), map.html (offline web
map), map.png and targets.png (charts); see `optimizer.export.writer`.
"""

from optimizer.export.bundle import (
    PlanBundle,
    bundle_from_plan_file,
    bundle_from_result,
    plan_files,
    scenario_files,
    scenario_source,
)
from optimizer.export.writer import FORMATS, check_crs, export_files, parse_formats, write_exports

__all__ = ["FORMATS", "PlanBundle", "bundle_from_plan_file", "bundle_from_result", "check_crs", "export_files",
           "parse_formats", "plan_files", "scenario_files", "scenario_source", "write_exports"]
