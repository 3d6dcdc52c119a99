"""Bad input: exit code 2 and one message naming the place and the fix, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from optimizer.cli.main import app

runner = CliRunner()


def _run(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["solve", str(path), "--out", str(path.parent / "out")])
    return result.exit_code, result.output


def _edit_geojson(folder: Path, name: str, change: Callable[[list[dict[str, Any]]], None]) -> None:
    path = folder / name
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc["features"])
    path.write_text(json.dumps(doc), encoding="utf-8")


def _edit_scenario(folder: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    path = folder / "scenario.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


SCENARIO_CASES: dict[str, tuple[Callable[[dict[str, Any]], None], list[str]]] = {
    "missing_demand_file": (lambda d: d["demand"].update(path="nowhere.geojson"),
                            ["demand.path", "file not found"]),
    "misspelled_field": (lambda d: d["facility_types"]["station"].update(radius=900),
                         ["facility_types.station.radius", "did you mean `radius_m`"]),
    "misspelled_top_field": (lambda d: d.update(budjet={}), ["budjet", "did you mean `budget`"]),
    "missing_weight_field": (lambda d: d["demand"]["weights"].update(elderly="pop65"),
                             ["demand.weights.elderly", "no attribute 'pop65'"]),
    "unknown_type_in_target": (lambda d: d["targets"][1].update(facility="hapiness_home"),
                               ["targets[1].facility", "did you mean 'happiness_home'"]),
    "min_share_above_one": (lambda d: d["targets"][0].update(min_share=1.2),
                            ["targets[0].min_share", "less than or equal to 1"]),
    "per_zone_without_zone_field": (lambda d: d["demand"].pop("zone"),
                                    ["targets[3].per_zone", "needs `demand.zone`"]),
    "geographic_crs": (lambda d: d.update(crs="EPSG:4326"), ["crs", "geographic"]),
    "unknown_measure": (lambda d: d["targets"][2].update(measure="eldery"),
                        ["targets[2].measure", "did you mean 'elderly'"]),
    "negative_capital_cost": (lambda d: d["facility_types"]["station"].update(capital_cost=-5),
                              ["facility_types.station.capital_cost", "greater than or equal to 0"]),
    "unknown_backend": (lambda d: d["solver"].update(backend="gurobi"),
                        ["solver.backend", "unknown backend 'gurobi'"]),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_bad_scenario_exits_2_naming_the_field(case: str, example_dir: Path) -> None:
    change, expected = SCENARIO_CASES[case]
    code, output = _run(_edit_scenario(example_dir, change))
    assert code == 2, output
    flat = " ".join(output.split())
    for text in expected:
        assert text in flat
    assert "Traceback" not in output


def _set(index: int, key: str, value: Any) -> Callable[[list[dict[str, Any]]], None]:
    def change(features: list[dict[str, Any]]) -> None:
        features[index]["properties"][key] = value
    return change


def _line_geometry(features: list[dict[str, Any]]) -> None:
    features[3]["geometry"] = {"type": "LineString", "coordinates": [[117.0, 36.6], [117.01, 36.61]]}


GEODATA_CASES: dict[str, tuple[str, Callable[[list[dict[str, Any]]], None], list[str]]] = {
    "duplicate_ids": ("demand.geojson", _set(5, "id", "C0000"), ["demand.id", "duplicate ids", "C0000"]),
    "non_numeric_weight": ("demand.geojson", _set(2, "pop60", "many"),
                           ["demand.weights.elderly", "not a number", "C0002"]),
    "negative_weight": ("demand.geojson", _set(4, "pop60", -3), ["demand.weights.elderly", "negative", "C0004"]),
    "missing_weight_value": ("demand.geojson", _set(4, "pop60", None), ["demand.weights.elderly", "C0004"]),
    "line_geometry": ("demand.geojson", _line_geometry, ["demand layer", "C0003", "LineString"]),
    "unknown_allowed_type": ("sites.geojson", _set(1, "allowed", "station,canteen"),
                             ["sites.allowed", "canteen", "S0001"]),
    "unknown_existing_type": ("sites.geojson", _set(0, "existing", "statoin"),
                              ["sites.existing", "statoin", "did you mean 'station'"]),
    "negative_site_cost": ("sites.geojson", _set(2, "cost_station", -1),
                           ["sites.cost.station", "negative", "S0002"]),
    "text_site_cost": ("sites.geojson", _set(2, "cost_station", "cheap"),
                       ["sites.cost.station", "not a number", "S0002"]),
}


@pytest.mark.parametrize("case", sorted(GEODATA_CASES))
def test_bad_feature_exits_2_naming_the_feature(case: str, example_dir: Path) -> None:
    name, change, expected = GEODATA_CASES[case]
    _edit_geojson(example_dir, name, change)
    code, output = _run(example_dir / "scenario.json")
    assert code == 2, output
    flat = " ".join(output.split())
    for text in expected:
        assert text in flat
    assert "Traceback" not in output


def test_empty_layer_exits_2(example_dir: Path) -> None:
    _edit_geojson(example_dir, "sites.geojson", lambda features: features.clear())
    code, output = _run(example_dir / "scenario.json")
    assert code == 2
    assert "sites" in output and "no features" in output


def test_unreadable_scenario_json_names_line(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text('{"format": 1,\n "name": }', encoding="utf-8")
    code, output = _run(path)
    assert code == 2
    assert "line 2" in output


def test_missing_scenario_file_exits_2(tmp_path: Path) -> None:
    code, output = _run(tmp_path / "absent.json")
    assert code == 2
    assert "cannot read the scenario file" in output


def test_validate_reports_model_size_for_good_scenario(example_dir: Path) -> None:
    result = runner.invoke(app, ["validate", str(example_dir / "scenario.json")])
    assert result.exit_code == 0
    assert "100 demand units, 54 sites" in result.output
