"""End to end: `eldercare solve --out` writes every export; `eldercare export PLAN.json` re-creates them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from typer.testing import CliRunner

from optimizer.cli.main import app
from tests.conftest import scenario_doc, write_scenario

ZONES = {"历下街道", "千佛山街道"}


def chinese_scenario() -> dict[str, Any]:
    """Two streets, Chinese names throughout.

    Optimum: 养老服务站 at 站点一 and 站点二 (each reaches its street's units, 站点三 reaches
    neither pair); 助餐点 at the same two sites (one per street).
    """
    units = [{"id": "社区甲", "xy": (0, 0), "kind": "urban", "zone": "历下街道", "pop": 300},
             {"id": "社区乙", "xy": (600, 0), "kind": "urban", "zone": "历下街道", "pop": 200},
             {"id": "社区丙", "xy": (3000, 0), "kind": "urban", "zone": "千佛山街道", "pop": 250},
             {"id": "社区丁", "xy": (3500, 500), "kind": "urban", "zone": "千佛山街道", "pop": 150}]
    sites = [{"id": "站点一", "xy": (300, 0), "zone": "历下街道", "allowed": "*", "existing": ""},
             {"id": "站点二", "xy": (3200, 200), "zone": "千佛山街道", "allowed": "*", "existing": ""},
             {"id": "站点三", "xy": (1500, -900), "zone": "历下街道", "allowed": "*", "existing": ""}]
    types = {"养老服务站": {"radius_m": 1000, "capital_cost": 500000, "annual_cost": 50000, "land_m2": 300},
             "助餐点": {"radius_m": 800, "capital_cost": 100000, "annual_cost": 20000}}
    targets = [{"kind": "coverage", "facility": "养老服务站", "min_share": 1.0},
               {"kind": "count", "facility": "助餐点", "per_zone": True, "min": 1}]
    return scenario_doc(units, sites, types, targets, name="历下区养老设施规划")


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_solve_writes_every_export_with_chinese_names_intact(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, chinese_scenario())
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(scenario), "--out", str(out),
                          "--crs", "EPSG:4490"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    names = {"plan.json", "plan.gpkg", "plan.geojson", "plan.csv", "map.html", "map.png", "targets.png"}
    assert names <= {p.name for p in out.iterdir()}
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert {(f["site"], f["type"]) for f in plan["facilities"]} == {
        ("站点一", "养老服务站"), ("站点二", "养老服务站"), ("站点一", "助餐点"), ("站点二", "助餐点")}
    geojson = gpd.read_file(out / "plan.geojson", engine="pyogrio")
    assert geojson.crs == "EPSG:4326" and len(geojson) == 4
    assert set(geojson["zone"]) == ZONES and set(geojson["type"]) == {"养老服务站", "助餐点"}
    assert "历下街道" in (out / "plan.geojson").read_text(encoding="utf-8")   # UTF-8, not \\u escapes
    csv = pd.read_csv(out / "plan.csv", encoding="utf-8-sig")
    assert set(csv["site"]) == {"站点一", "站点二"} and set(csv["zone"]) == ZONES
    zones = pyogrio.read_dataframe(out / "plan.gpkg", layer="zones")
    assert set(zones["zone"]) == ZONES and zones.crs == "EPSG:4490"
    assert "社区甲" in (out / "map.html").read_text(encoding="utf-8")


def test_export_recreates_the_exports_of_a_written_plan(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, chinese_scenario())
    code, output = _invoke("solve", str(scenario), "--out", str(tmp_path / "solved"), "--formats", "none")
    assert code == 0, output
    assert [p.name for p in (tmp_path / "solved").iterdir()] == ["plan.json"]
    code, output = _invoke("export", str(tmp_path / "solved" / "plan.json"), "--out", str(tmp_path / "again"),
                           "--format", "geojson,csv")
    assert code == 0, output
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == ["plan.csv", "plan.geojson"]
    plan = json.loads((tmp_path / "solved" / "plan.json").read_text(encoding="utf-8"))
    again = gpd.read_file(tmp_path / "again" / "plan.geojson", engine="pyogrio")
    assert sorted(zip(again["site"], again["type"])) == sorted((f["site"], f["type"]) for f in plan["facilities"])
    assert again["served_units"].sum() == 4 + 4   # both types cover every unit once


def test_export_refuses_a_plan_whose_data_changed_since_the_solve(example_dir: Path) -> None:
    code, output = _invoke("solve", str(example_dir / "scenario.json"), "--out", str(example_dir / "out"),
                           "--formats", "none")
    assert code == 0, output
    sites = example_dir / "sites.geojson"
    sites.write_text(sites.read_text(encoding="utf-8").replace("469153", "469154"), encoding="utf-8")
    code, output = _invoke("export", str(example_dir / "out" / "plan.json"))
    assert code == 2
    assert "source.sha256" in output and "sites.geojson changed since the plan was solved" in output


def test_export_of_a_moved_scenario_asks_for_it_and_accepts_it(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, chinese_scenario())
    code, output = _invoke("solve", str(scenario), "--out", str(tmp_path / "out"), "--formats", "none")
    assert code == 0, output
    moved = scenario.rename(tmp_path / "moved.json")
    code, output = _invoke("export", str(tmp_path / "out" / "plan.json"), "--formats", "csv")
    assert code == 2 and "source.scenario" in output and "--scenario" in output
    code, output = _invoke("export", str(tmp_path / "out" / "plan.json"), "--formats", "csv", "--scenario", str(moved))
    assert code == 0, output
    assert (tmp_path / "out" / "plan.csv").exists()


def test_unknown_format_or_crs_fails_before_solving(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, chinese_scenario())
    code, output = _invoke("solve", str(scenario), "--out", str(tmp_path / "out"), "--formats", "gpkg,kml")
    assert code == 2 and "--formats" in output and "kml" in output
    code, output = _invoke("solve", str(scenario), "--out", str(tmp_path / "out"), "--crs", "EPSG:4490x")
    assert code == 2 and "--crs" in output
    assert not (tmp_path / "out").exists()
