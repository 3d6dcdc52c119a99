"""Targets that cannot be met: exit 1, and the report says which target, which unit, what budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from optimizer.cli.main import app

runner = CliRunner()


def _solve(folder: Path, doc: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    path = folder / "scenario.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = runner.invoke(app, ["solve", str(path), "--out", str(folder / "out")])
    plan = json.loads((folder / "out" / "plan.json").read_text(encoding="utf-8"))
    return result.exit_code, " ".join(result.output.split()), plan


def test_budget_below_least_sufficient_capital_names_targets_and_budget(example_dir: Path,
                                                                        example_doc: dict[str, Any]) -> None:
    example_doc["budget"]["capital"] = 5_000_000
    code, output, plan = _solve(example_dir, example_doc)
    assert code == 1
    assert plan["status"] == "infeasible"
    # The least capital meeting every target, proven by the budget-free re-solve (it equals
    # the capital of the least-total-cost plan on this instance).
    assert plan["explanation"]["budget"]["least_capital"] == pytest.approx(21_566_579, abs=1)
    assert "21,566,579" in output
    unmet = [t["index"] for t in plan["targets"] if not t["met"]]
    assert unmet, "the best plan within 5 million cannot meet every target"
    assert plan["cost"]["capital"] <= 5_000_000
    assert plan["violations"] == []


def test_urban_community_out_of_reach_is_named_with_nearest_site(example_dir: Path,
                                                                 example_doc: dict[str, Any]) -> None:
    demand_path = example_dir / "demand.geojson"
    demand = json.loads(demand_path.read_text(encoding="utf-8"))
    lonely = demand["features"][0]
    lonely["properties"]["id"] = "FarCommunity"
    lonely["geometry"]["coordinates"] = [117.30, 36.90]   # ~40 km north-east of the district
    demand_path.write_text(json.dumps(demand), encoding="utf-8")
    code, output, plan = _solve(example_dir, example_doc)
    assert code == 1
    assert plan["status"] == "infeasible"
    station_target = plan["explanation"]["targets"][0]
    assert station_target["index"] == 0 and "FarCommunity" in station_target["cause"]
    entry = next(u for u in plan["uncoverable"] if u["demand"] == "FarCommunity" and u["facility"] == "station")
    assert entry["nearest_site_m"] > 30_000
    assert "target 0" in output and "FarCommunity" in output
    # The best elastic plan still covers every other urban community.
    station = next(t for t in plan["targets"] if t["index"] == 0)
    assert station["covered"] == station["total"] - 1


def test_elastic_mode_reports_shortfall_per_target_and_exits_1(example_dir: Path,
                                                               example_doc: dict[str, Any]) -> None:
    example_doc["budget"]["capital"] = 8_000_000
    example_doc["elastic"] = True
    code, _, plan = _solve(example_dir, example_doc)
    assert code == 1
    assert plan["status"] == "optimal"
    assert plan["cost"]["capital"] <= 8_000_000
    short = [t for t in plan["targets"] if not t["met"]]
    assert short and all(t["shortfall"] > 0 for t in short)
