"""plan.xlsx: the plan as a workbook for the finance bureau (openpyxl).

Sheets, in order: 建设清单 build list (one row per facility, as plan.json ``build_list``), 概要
summary, 目标 targets, 乡镇 townships (the zones layer's figures), 社区 communities (the demand
layer: coverage and distance per type) and 分年度费用 cost by year. Headers read "中文 english"
(the Chinese alias, then the field name); numbers are number cells, never text; every sheet
has its header row frozen, a filter on it, and columns as wide as their longest value.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from rich.cells import cell_len

from optimizer.export.bundle import PlanBundle
from optimizer.export.fields import field_aliases, target_descriptions
from optimizer.export.tables import build_list_table, build_rows
from optimizer.report.atomic import write_bytes

SHEETS = {"build_list": "建设清单", "summary": "概要", "targets": "目标", "zones": "乡镇",
          "communities": "社区", "cost_by_year": "分年度费用"}
"""Sheet key -> sheet name, in workbook order."""

# Headers of the build list and the yearly cost (other sheets take the layers' Chinese aliases).
_HEADERS = {
    "zone": "乡镇", "site": "站点编号", "name": "名称", "type": "设施类型", "label": "设施类型名称",
    "action": "建设方式", "year": "年度", "capital": "建设投资（元）", "annual": "年运营费用（元）",
    "land_m2": "用地面积（平方米）", "units_served": "服务社区数", "elderly_served": "服务老年人数",
    "capital_budget": "年度投资预算（元）", "new_facilities": "新建设施数", "renovations": "改造设施数",
    "key": "项目", "value": "值",
}
_MONEY = ("capital", "annual", "capital_cost", "annual_cost", "bed_capital", "bed_annual", "capital_budget")
MAX_WIDTH = 60
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def write_workbook(bundle: PlanBundle, layers: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write plan.xlsx (whole or not at all) from the checked plan and its layers (`plan_layers`)."""
    book = Workbook()
    for k, (key, frame) in enumerate(workbook_tables(bundle, layers).items()):
        sheet = book.worksheets[0] if k == 0 else book.create_sheet()
        sheet.title = SHEETS[key]
        _sheet(sheet, frame, _headers(bundle, key, list(frame.columns)))
    buffer = io.BytesIO()
    book.save(buffer)
    return write_bytes(path, buffer.getvalue())


def workbook_tables(bundle: PlanBundle, layers: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Sheet key -> its table (no geometry), in `SHEETS` order."""
    def plain(name: str) -> pd.DataFrame:
        frame = layers[name]
        return pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))

    builds = build_rows(bundle)
    return {"build_list": build_list_table(bundle, builds), "summary": _summary(layers, builds, bundle),
            "targets": plain("targets"), "zones": plain("zones"), "communities": plain("demand"),
            "cost_by_year": _cost_by_year(bundle, builds)}


def _summary(layers: dict[str, pd.DataFrame], builds: list[dict[str, Any]], bundle: PlanBundle) -> pd.DataFrame:
    """Key / value: the plan_info rows, then facility counts by action and type label."""
    info = layers["plan_info"]
    rows: list[tuple[str, Any]] = [(str(k), _number_or_text(v)) for k, v in zip(info["key"], info["value"])]
    for action in ("new", "renovation", "existing"):
        rows.append((f"facilities_{action}", sum(r["action"] == action for r in builds)))
    for name, label in bundle.scenario.type_labels.items():
        new = sum(r["type"] == name and r["action"] == "new" for r in builds)
        rows.append((f"new_{name} {label}", new))
    return pd.DataFrame(rows, columns=["key", "value"])


def _number_or_text(value: Any) -> Any:
    """plan_info values are text; figures among them become numbers again."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return value
    return number if math.isfinite(number) and str(value).strip().lower() not in ("true", "false") else value


def _cost_by_year(bundle: PlanBundle, builds: list[dict[str, Any]]) -> pd.DataFrame:
    """Per planning year: capital and its budget, annual cost, facilities opened and renovated."""
    years = bundle.checked.years
    caps = bundle.scenario.budget.capital_by_year or {}
    if not years:
        cost = bundle.checked.cost
        budget = bundle.scenario.budget.capital
        return pd.DataFrame([{"year": None, "capital": cost["capital"], "capital_budget": budget,
                              "annual": cost["annual"],
                              "new_facilities": sum(r["action"] == "new" for r in builds),
                              "renovations": sum(r["action"] == "renovation" for r in builds)}])
    rows = []
    for year, entry in years.items():
        rows.append({"year": int(year), "capital": entry["capital"], "capital_budget": caps.get(year),
                     "annual": entry["annual"],
                     "new_facilities": sum(r["action"] == "new" and str(r["year"]) == year for r in builds),
                     "renovations": sum(r["action"] == "renovation" and str(r["year"]) == year for r in builds)})
    return pd.DataFrame(rows)


def _headers(bundle: PlanBundle, key: str, columns: list[str]) -> list[str]:
    """"中文 english" per column: the sheet's own names, else the layer's aliases, else the field name."""
    layer = {"communities": "demand", "zones": "zones", "targets": "targets"}.get(key, "facilities")
    aliases = field_aliases(columns, weights=list(bundle.region.demand.weights), distance_unit=bundle.reach.unit,
                            targets=target_descriptions(bundle.scenario.targets), layer=layer,
                            labels=bundle.scenario.type_labels)
    out = []
    for column in columns:
        own = _HEADERS.get(column) if key in ("build_list", "cost_by_year", "summary") else None
        if own is None and column.startswith("beds_") and key == "build_list":
            own = f"新增床位（{column.removeprefix('beds_')}）"
        chinese = own or (aliases.get(column) or (None, None))[0]
        out.append(f"{chinese} {column}" if chinese else column)
    return out


def _cell(value: Any) -> Any:
    """A value openpyxl writes as a typed cell: numbers as numbers, missing as empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _sheet(sheet: Worksheet, frame: pd.DataFrame, headers: list[str]) -> None:
    """Header row (bold, frozen, filtered), typed cells, money as #,##0, columns fitted."""
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(vertical="top")
    for row in frame.itertuples(index=False):
        sheet.append([_cell(v) for v in row])
    for k, column in enumerate(frame.columns, start=1):
        letter = get_column_letter(k)
        if column in _MONEY:
            for cell in sheet[letter][1:]:
                cell.number_format = "#,##0"
        widest = max([cell_len(headers[k - 1])] + [cell_len(_shown(v)) for v in frame[column].tolist()])
        sheet.column_dimensions[letter].width = min(MAX_WIDTH, widest + 2)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def _shown(value: Any) -> str:
    value = _cell(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)
