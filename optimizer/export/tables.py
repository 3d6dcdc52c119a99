"""Attribute tables of the plan (no geometry): ``targets`` and ``plan_info``."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd

from optimizer.export.bundle import PlanBundle
from optimizer.report.build_list import ROW_KEYS, build_list

_TARGET_COLUMNS = ["index", "kind", "facility", "label", "zone", "required", "achieved", "met", "shortfall",
                   "covered", "total"]


def targets_table(bundle: PlanBundle) -> pd.DataFrame:
    """One row per target overall (``zone`` empty) and one per zone of a per-zone target."""
    rows = []
    for target in bundle.checked.targets:
        head = {key: target.get(key) for key in _TARGET_COLUMNS} | {"zone": None}
        rows.append(head)
        for zone_row in target.get("zones") or []:
            rows.append(head | {key: zone_row.get(key) for key in _TARGET_COLUMNS[4:]})
    frame = pd.DataFrame(rows, columns=_TARGET_COLUMNS)
    for column in ("required", "achieved", "shortfall", "covered", "total"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(np.float64)
    frame["met"] = frame["met"].astype(np.int8)
    frame["index"] = frame["index"].astype(np.int64)
    return frame


def build_rows(bundle: PlanBundle) -> list[dict[str, Any]]:
    """The build list (`optimizer.report.build_list`), re-computed from the checked plan."""
    return build_list(bundle.scenario, bundle.region, bundle.reach, bundle.checked)


def build_list_table(bundle: PlanBundle, rows: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """The build list as a table (`rows`, default `build_rows`), one column per bed kind
    (``beds_<kind>``) instead of the ``beds`` dict."""
    rows = build_rows(bundle) if rows is None else rows
    kinds = sorted({kind for row in rows for kind in row["beds"]})
    flat = [{key: row[key] for key in ROW_KEYS if key != "beds"} | {f"beds_{k}": row["beds"].get(k, 0) for k in kinds}
            for row in rows]
    columns = [key for key in ROW_KEYS if key != "beds"]
    at = columns.index("units_served")
    columns = columns[:at] + [f"beds_{k}" for k in kinds] + columns[at:]
    frame = pd.DataFrame(flat, columns=columns)
    frame["year"] = pd.to_numeric(frame["year"], errors="coerce").astype("Int64")
    for column in ("capital", "annual", "land_m2", "elderly_served"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(np.float64)
    return frame


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _version() -> str:
    try:
        return version("eldercare-optimizer")
    except PackageNotFoundError:
        return "unknown"


def info_table(bundle: PlanBundle, *, crs: str, notes: list[str]) -> pd.DataFrame:
    """Key / value rows: scenario, solver status, objective, bound, gap, cost, CRS and how layers were made.

    Parameters
    ----------
    crs : str
        The CRS the layers are written in.
    notes : list of str
        How derived layers were made (zone polygons, service areas).
    """
    plan = bundle.plan
    solver = plan.get("solver") or {}
    cost = bundle.checked.cost
    source = plan.get("source") or {}
    rows = {
        "scenario": bundle.scenario.name, "scenario_file": source.get("scenario_absolute"),
        "status": plan.get("status"), "all_targets_met": plan.get("all_targets_met"),
        "objective_kind": plan.get("objective_kind"), "objective": plan.get("objective"),
        "bound": plan.get("bound"), "gap": plan.get("gap"),
        "cost_capital": cost["capital"], "cost_annual": cost["annual"], "cost_total": cost["total"],
        "horizon_years": bundle.scenario.budget.horizon_years,
        "solver_backend": solver.get("backend"), "solver_seconds": solver.get("seconds"),
        "time_limited": solver.get("time_limited"), "distance_crs": bundle.region.crs, "layer_crs": crs,
        "reach": bundle.reach.source, "facilities": len(bundle.checked.facilities),
        "exported_by": f"eldercare {_version()}", "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    rows |= {f"note_{k}": note for k, note in enumerate([*plan.get("notes", []), *notes])}
    return pd.DataFrame({"key": list(rows), "value": [_text(v) for v in rows.values()]})
