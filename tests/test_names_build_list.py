"""Names, type labels and the build list (建设清单): plan.json, layers, plan.csv, the terminal at 80 columns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from openpyxl import load_workbook
from rich.cells import cell_len
from typer.testing import CliRunner

from optimizer.cli.main import app
from optimizer.errors import OptimizerError
from optimizer.export.workbook import SHEETS
from optimizer.plan import solve
from optimizer.report.build_list import ROW_KEYS
from optimizer.report.document import plan_document
from optimizer.scenario.format import load_scenario, parse_scenario
from tests.conftest import SHARED, scenario_doc

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "scenarios" / "pingyin-2024-2026.json"
LABELS = {"station": "社区养老服务站", "meal_point": "老年助餐点", "happiness_home": "农村幸福院",
          "centre": "街道综合养老服务中心"}


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The default county solved from the CLI at 80 columns, with the GIS exports and plan.csv."""
    out = tmp_path_factory.mktemp("pingyin")
    run = CliRunner().invoke(app, ["solve", str(DEFAULT), "--out", str(out), "--formats", "csv,xlsx,gpkg,geojson"],
                             env={"COLUMNS": "80"})
    assert run.exit_code == 0, run.output
    return run.output, out


def _check_build_list(plan: dict[str, Any]) -> None:
    """Every facility is one build-list row, sorted by zone, year, name, with figures that add up."""
    rows = plan["build_list"]
    assert rows and all(tuple(row) == ROW_KEYS for row in rows)
    assert sorted((str(r["site"]), r["type"]) for r in rows) == sorted(
        (str(f["site"]), f["type"]) for f in plan["facilities"])
    keys = [(r["zone"] or "", -1 if r["year"] is None else r["year"], r["name"] or "") for r in rows]
    assert keys == sorted(keys)
    assert {r["action"] for r in rows} <= {"new", "renovation", "existing"}
    bed_capital = sum(e.get("capital", 0.0) for e in plan.get("bed_actions") or [])
    assert sum(r["capital"] for r in rows) == pytest.approx(plan["cost"]["capital"] if not plan.get("years")
                                                            else sum(f["capital_cost"] for f in plan["facilities"])
                                                            + bed_capital)
    for row in rows:
        assert row["label"] == plan["facility_types"][row["type"]]["label"]
        assert row["units_served"] >= 0 and (row["elderly_served"] is None or row["elderly_served"] >= 0)


def test_default_county_plan_names_sites_labels_types_and_lists_what_to_build(default_run: tuple[str, Path]) -> None:
    _, out = default_run
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert {t: plan["facility_types"][t]["label"] for t in LABELS} == LABELS
    assert plan["facility_types"]["institution"]["label"] == "养老机构"
    assert all(f["name"] and f["label"] for f in plan["facilities"])
    _check_build_list(plan)
    rows = plan["build_list"]
    new = [r for r in rows if r["action"] == "new"]
    assert new and all(r["year"] in (2024, 2025, 2026) for r in new)
    renovated = [r for r in rows if r["action"] == "renovation"]
    assert renovated and all(r["type"] == "institution" and r["beds"] and r["capital"] > 0 for r in renovated)
    converted = sum(e["beds"] for e in plan["bed_actions"] if e["action"] == "convert_to_nursing")
    assert sum(r["beds"].get("nursing", 0) for r in rows if r["action"] != "new") == converted
    assert all(r["beds"] == {} for r in rows if r["action"] == "existing")
    assert all(u["name"] for u in plan["uncoverable"])


def test_default_county_layers_and_csv_carry_names_and_labels(default_run: tuple[str, Path]) -> None:
    _, out = default_run
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    facilities = pyogrio.read_dataframe(out / "plan.gpkg", layer="facilities")
    assert {"site", "name", "type", "label", "action"} <= set(facilities.columns)
    assert "东阿镇敬老院" in set(facilities["name"]) and "老年助餐点" in set(facilities["label"])
    demand = pyogrio.read_dataframe(out / "plan.gpkg", layer="demand")
    assert {"id", "name"} <= set(demand.columns) and demand["name"].notna().all()
    assert "东南沟社区居民委员会" in set(demand["name"])
    geojson = gpd.read_file(out / "plan.geojson", engine="pyogrio")
    assert {"name", "label"} <= set(geojson.columns)
    csv = pd.read_csv(out / "plan.csv", encoding="utf-8-sig", dtype={"site": str})
    assert list(csv.columns[:len(ROW_KEYS) - 3]) == [k for k in ROW_KEYS if k != "beds"][:len(ROW_KEYS) - 3]
    assert list(zip(csv["site"], csv["type"])) == [(str(r["site"]), r["type"]) for r in plan["build_list"]]
    assert list(csv["action"]) == [r["action"] for r in plan["build_list"]]
    assert {"lon", "lat", "served_units"} <= set(csv.columns)


def test_terminal_at_80_columns_shows_the_build_list_with_chinese_names(default_run: tuple[str, Path]) -> None:
    output, out = default_run
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert "建设清单" in output
    first = next(r for r in plan["build_list"] if r["action"] != "existing")
    assert first["name"] in output and str(first["site"]) in output and first["label"] in output
    assert "more rows" in output and "plan.csv / plan.xlsx" in output
    assert "街道综合养老服务中心 count 1 per zone" in output   # targets by label, not `count centre`
    too_wide = [line for line in output.splitlines() if cell_len(line) > 80]
    assert not too_wide, too_wide


SHARED_EXAMPLE = ROOT.parent / "shared" / "example" / "scenario.json"


@pytest.mark.parametrize("path", [SHARED / "scenario.json", SHARED_EXAMPLE], ids=["shipped", "shared"])
def test_example_plan_has_labels_and_a_build_list(path: Path) -> None:
    """The shipped example labels its types; the shared copy has none, so the ids stand in."""
    if not path.exists():
        pytest.skip(f"{path} is not beside the repo")
    scenario, base_dir = load_scenario(path)
    plan = json.loads(json.dumps(plan_document(solve(scenario, base_dir)), ensure_ascii=False))
    labelled = "label" in json.loads(path.read_text(encoding="utf-8"))["facility_types"]["street_centre"]
    assert plan["facility_types"]["street_centre"]["label"] == ("街道综合养老服务中心" if labelled else "street_centre")
    assert all("name" in f and f["name"] is None and f["label"] for f in plan["facilities"])
    _check_build_list(plan)


def _named_doc(**demand: Any) -> dict[str, Any]:
    units = [{"id": "u1", "xy": (0, 0), "kind": "urban", "zone": "甲街道", "pop": 10, "name": "东南沟社区"},
             {"id": "u2", "xy": (5000, 0), "kind": "urban", "zone": "甲街道", "pop": 10, "name": ""}]
    sites = [{"id": "s1", "xy": (100, 0), "zone": "甲街道", "allowed": "*", "existing": "", "title": "村委会用房"},
             {"id": "s2", "xy": (4900, 0), "zone": "甲街道", "allowed": "*", "existing": "st", "title": None}]
    types = {"st": {"label": "社区养老服务站", "radius_m": 500, "capital_cost": 100}, "mp": {"radius_m": 500}}
    doc = scenario_doc(units, sites, types, [{"kind": "count", "facility": "st", "min": 2, "new_only": False},
                                             {"kind": "count", "facility": "mp", "min": 1, "new_only": True}])
    doc["sites"]["name"] = "title"
    doc["demand"] |= demand
    return doc


def test_names_default_to_a_name_column_and_labels_to_the_type_id() -> None:
    scenario, base_dir = parse_scenario(_named_doc())
    result = solve(scenario, base_dir)
    plan = plan_document(result)
    assert list(result.prepared.region.demand.names) == ["东南沟社区", None]   # `name` column, empty -> None
    assert plan["facility_types"] == {"st": {"label": "社区养老服务站"}, "mp": {"label": "mp"}}
    names = {(f["site"], f["type"]): (f["name"], f["label"]) for f in plan["facilities"]}
    assert names[("s1", "st")] == ("村委会用房", "社区养老服务站") and names[("s2", "st")] == (None, "社区养老服务站")
    new_count = next(t for t in plan["targets"] if t["facility"] == "mp")
    assert new_count["new_only"] is True and new_count["facility_label"] == "mp"
    actions = {(r["site"], r["type"]): r["action"] for r in plan["build_list"]}
    assert actions[("s2", "st")] == "existing" and actions[("s1", "st")] == "new"


def test_a_missing_name_attribute_is_named() -> None:
    scenario, base_dir = parse_scenario(_named_doc(name="村名"))
    with pytest.raises(OptimizerError) as caught:
        solve(scenario, base_dir)
    assert "demand.name" in str(caught.value) and "村名" in str(caught.value)


def test_preset_labels_reach_unlabelled_types() -> None:
    scenario, _ = parse_scenario(_named_doc() | {"targets": [
        {"preset": "sucheng-2025", "facilities": {"station": "st", "meal_point": "mp"},
          "skip": ["rural-community-stations", "street-centres", "regional-centres", "mutual-aid-points",
                  "demonstration-institution", "nursing-share", "land-per-capita"]}]})
    assert scenario.type_labels == {"st": "社区养老服务站", "mp": "老年助餐点"}


def test_workbook_sheets_are_typed_frozen_filtered_and_the_build_list_matches_the_plan(
        default_run: tuple[str, Path]) -> None:
    _, out = default_run
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    book = load_workbook(out / "plan.xlsx")
    assert book.sheetnames == list(SHEETS.values()) and book.sheetnames[0] == "建设清单"
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == sheet.dimensions, sheet.title
        assert sheet.max_row >= 2, sheet.title
        header = [c.value for c in sheet[1]]
        assert all(isinstance(h, str) and h for h in header)
        for k, cell in enumerate(sheet[1], start=1):   # columns fit their header
            width = sheet.column_dimensions[cell.column_letter].width
            assert width >= min(60, cell_len(str(cell.value))), (sheet.title, k)
    builds = book["建设清单"]
    header = [c.value for c in builds[1]]
    assert header[:3] == ["乡镇 zone", "站点编号 site", "名称 name"]
    fields = [h.split(" ")[-1] for h in header]
    rows = [dict(zip(fields, (c.value for c in row))) for row in builds.iter_rows(min_row=2)]
    assert len(rows) == len(plan["build_list"])
    for got, want in zip(rows, plan["build_list"]):
        for key in ("zone", "name", "type", "label", "action", "year", "units_served"):
            assert got[key] == want[key], key
        assert str(got["site"]) == str(want["site"])
        assert isinstance(got["capital"], (int, float)) and got["capital"] == pytest.approx(want["capital"])
        assert got["annual"] == pytest.approx(want["annual"]) and got["land_m2"] == pytest.approx(want["land_m2"])
        assert got["elderly_served"] == pytest.approx(want["elderly_served"])
        assert {k: got[f"beds_{k}"] for k in want["beds"]} == want["beds"]
    assert builds["H2"].number_format == "#,##0"   # capital as money
    years = book["分年度费用"]
    by_year = {row[0].value: row for row in years.iter_rows(min_row=2)}
    assert set(by_year) == {2024, 2025, 2026}
    assert all(isinstance(by_year[y][1].value, (int, float)) for y in by_year)
    assert sum(by_year[y][1].value for y in by_year) == pytest.approx(plan["cost"]["capital"])
    communities = book["社区"]
    head = [c.value for c in communities[1]]
    assert "社区/村名称 name" in head
    dist = head.index(next(h for h in head if h.endswith("dist_meal_point")))
    assert any(isinstance(row[dist].value, float) for row in communities.iter_rows(min_row=2))
    summary = {row[0].value: row[1].value for row in book["概要"].iter_rows(min_row=2)}
    assert summary["cost_total"] == pytest.approx(plan["cost"]["total"]) and summary["status"] == "optimal"


def test_terminal_prints_targets_by_label_and_counts_of_new_ones_with_new(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(_named_doc(), ensure_ascii=False), encoding="utf-8")
    run = CliRunner().invoke(app, ["solve", str(path), "--out", str(tmp_path / "out"), "--formats", "none"],
                             env={"COLUMNS": "80"})
    assert run.exit_code == 0, run.output
    assert "社区养老服务站 count 2" in run.output and "mp count 1 new" in run.output
    assert "村委会用房" in run.output   # the new station's site, by name
    assert "1 more row (every facility" in run.output and "plan.json (build_list)" in run.output   # the kept one
