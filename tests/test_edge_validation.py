"""Numbers are checked at the edge: exit 2 naming the field (or option, feature, file), before solving.

Scenario numbers must be finite and within the limits of `optimizer.scenario.fields` (a JSON
``1e400`` parses as infinity and must blame its own field); data values must be finite and not
negative; coordinates must lie where their CRS is valid; command-line solver options obey the
scenario's rules; a binary or absurdly nested scenario file is an input error, not a crash; a
backend must exist and load; and ``solver.threads`` never exceeds the machine's cores.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import optimizer.plan
from optimizer.cli.main import app
from optimizer.errors import ScenarioError
from optimizer.plan import solve_options, usable_cores
from optimizer.scenario.fields import SolverSpec
from optimizer.scenario.format import load_scenario

runner = CliRunner()
INF = "__1e400__"   # written into the JSON text as 1e400 (Python's json reads it as infinity)


@pytest.fixture
def no_solving(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any solve fails the test: the refusals below must come before solving."""
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a solver was run")

    monkeypatch.setattr(optimizer.plan, "run_phases", refuse)
    yield


def _invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def _write(folder: Path, doc: dict[str, Any]) -> Path:
    path = folder / "scenario.json"
    path.write_text(json.dumps(doc).replace(f'"{INF}"', "1e400"), encoding="utf-8")
    return path


def _at(*keys: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in keys[:-1]:
            node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
        node[keys[-1]] = value
    return change


NAN, INFINITY = float("nan"), float("inf")   # json.dumps writes NaN and Infinity, which Python's json reads

#: case -> (change to the example scenario, the field the error must name, words of the message)
SCENARIO_NUMBERS: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "capital_cost_1e400": (_at("facility_types", "station", "capital_cost", value=INF),
                           "facility_types.station.capital_cost", "finite number"),
    "capital_cost_above_1e12": (_at("facility_types", "station", "capital_cost", value=2e12),
                                "facility_types.station.capital_cost", "less than or equal to 1000000000000"),
    "annual_cost_infinity": (_at("facility_types", "meal_point", "annual_cost", value=INFINITY),
                             "facility_types.meal_point.annual_cost", "finite number"),
    "radius_nan": (_at("facility_types", "station", "radius_m", value=NAN),
                   "facility_types.station.radius_m", "finite number"),
    "radius_above_20000_km": (_at("facility_types", "station", "radius_m", value=3e7),
                              "facility_types.station.radius_m", "less than or equal to 20000000"),
    "walk_minutes_above_a_day": (_at("facility_types", "happiness_home", "walk_minutes", value=1e5),
                                 "facility_types.happiness_home.walk_minutes", "less than or equal to 1440"),
    "colocate_factor_1e400": (_at("facility_types", "meal_point", "colocate", "station", value=INF),
                              "facility_types.meal_point.colocate.station", "finite number"),
    "capacity_1e400": (_at("facility_types", "station", "capacity", value=INF),
                       "facility_types.station.capacity", "finite number"),
    "land_1e400": (_at("facility_types", "station", "land_m2", value=INF),
                   "facility_types.station.land_m2", "finite number"),
    "uptake_nan": (_at("facility_types", "station", "uptake", value=NAN),
                   "facility_types.station.uptake", "finite number"),
    "budget_1e400": (_at("budget", "capital", value=INF), "budget.capital", "finite number"),
    "budget_above_1e12": (_at("budget", "capital", value=5e12), "budget.capital", "less than or equal to"),
    "horizon_a_million_years": (_at("budget", "horizon_years", value=1e6), "budget.horizon_years",
                                "less than or equal to 100"),
    "time_limit_negative": (_at("solver", "time_limit_s", value=-1), "solver.time_limit_s", "greater than 0"),
    "time_limit_1e400": (_at("solver", "time_limit_s", value=INF), "solver.time_limit_s", "finite number"),
    "gap_negative": (_at("solver", "mip_gap", value=-5), "solver.mip_gap", "greater than or equal to 0"),
    "gap_nan": (_at("solver", "mip_gap", value=NAN), "solver.mip_gap", "finite number"),
    "threads_a_million": (_at("solver", "threads", value=1_000_000), "solver.threads",
                          "less than or equal to 1024"),
    "count_a_billion": (_at("targets", 4, "min", value=10**9), "targets[4].min", "less than or equal to 1000000"),
    "share_nan": (_at("targets", 0, "min_share", value=NAN), "targets[0].min_share", "finite number"),
    "walk_speed_1e400": (_at("network", value={"path": "roads.gpkg", "walk_speed_m_per_min": INF}),
                         "network.walk_speed_m_per_min", "finite number"),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_NUMBERS))
def test_bad_scenario_number_exits_2_naming_the_field_before_solving(
        case: str, example_dir: Path, example_doc: dict[str, Any], no_solving: None) -> None:
    change, field, words = SCENARIO_NUMBERS[case]
    change(example_doc)
    code, output = _invoke("solve", str(_write(example_dir, example_doc)), "--out", str(example_dir / "out"))
    assert code == 2, output
    assert f"{field}: " in output and words in output, output
    assert "solver.backend" not in output


def test_capital_cost_1e400_blames_its_field_in_the_engine(example_dir: Path, example_doc: dict[str, Any]) -> None:
    SCENARIO_NUMBERS["capital_cost_1e400"][0](example_doc)
    with pytest.raises(ScenarioError, match=r"^facility_types\.station\.capital_cost: Input should be a finite "
                       r"number \(got Infinity\)$"):
        load_scenario(_write(example_dir, example_doc))


def _feature(index: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(layer: dict[str, Any]) -> None:
        layer["features"][index]["properties"][key] = value
    return change


def _coordinates(index: int, lon: float, lat: float) -> Callable[[dict[str, Any]], None]:
    def change(layer: dict[str, Any]) -> None:
        layer["features"][index]["geometry"]["coordinates"] = [lon, lat]
    return change


#: case -> (layer file, change, words the message must hold: the field or feature, and what)
DATA_VALUES: dict[str, tuple[str, Callable[[dict[str, Any]], None], list[str]]] = {
    "weight_infinity_text": ("demand.geojson", _feature(2, "pop60", "Infinity"),
                             ["demand.weights.elderly", "infinite", "C0002"]),
    "weight_nan_text": ("demand.geojson", _feature(2, "pop60", "nan"),
                        ["demand.weights.elderly", "not a number", "C0002"]),
    "site_cost_above_1e12": ("sites.geojson", _feature(2, "cost_station", 3e12),
                             ["sites.cost.station", "above 1e+12", "S0002"]),
    "lon_500_lat_95": ("demand.geojson", _coordinates(3, 500, 95),
                       ["demand feature 'C0003'", "(500, 95) lies outside the area where EPSG:4326 is valid"]),
    "site_on_another_continent": ("sites.geojson", _coordinates(1, -100.0, 40.0),
                                  ["sites feature 'S0001'", "after projection to EPSG:32650"]),
}


@pytest.mark.parametrize("case", sorted(DATA_VALUES))
def test_bad_data_value_exits_2_naming_the_feature_before_solving(case: str, example_dir: Path,
                                                                  no_solving: None) -> None:
    name, change, words = DATA_VALUES[case]
    path = example_dir / name
    layer = json.loads(path.read_text(encoding="utf-8"))
    change(layer)
    path.write_text(json.dumps(layer), encoding="utf-8")
    code, output = _invoke("solve", str(example_dir / "scenario.json"), "--out", str(example_dir / "out"))
    assert code == 2, output
    for text in words:
        assert text in output, output


def test_inline_weight_of_1e400_is_refused_naming_the_unit(example_dir: Path, example_doc: dict[str, Any],
                                                           no_solving: None) -> None:
    features = json.loads((example_dir / "demand.geojson").read_text(encoding="utf-8"))
    features["features"][7]["properties"]["pop60"] = INF
    example_doc["demand"] = {k: v for k, v in example_doc["demand"].items() if k != "path"} | {"features": features}
    code, output = _invoke("validate", str(_write(example_dir, example_doc)))
    assert code == 2 and "demand.weights.elderly: 'pop60' is infinite for 'C0007'" in output, output


#: (command and its options, the option the error must name, words)
OPTIONS: list[tuple[list[str], str, str]] = [
    (["solve", "--time-limit", "-1"], "--time-limit", "greater than 0"),
    (["solve", "--time-limit", "0"], "--time-limit", "greater than 0"),
    (["solve", "--time-limit", "inf"], "--time-limit", "finite number"),
    (["solve", "--time-limit", "1e9"], "--time-limit", "less than or equal to 604800"),
    (["solve", "--gap", "-5"], "--gap", "greater than or equal to 0"),
    (["solve", "--gap", "1"], "--gap", "less than 1"),
    (["solve", "--gap", "nan"], "--gap", "finite number"),
    (["solve", "--threads", "0"], "--threads", "greater than or equal to 1"),
    (["solve", "--threads", "1000000"], "--threads", "less than or equal to 1024"),
    (["solve", "--backend", "gurobi"], "--backend", "unknown backend 'gurobi'"),
    (["solve", "--backend", "pulp:NO_SUCH_SOLVER"], "--backend", "not available here"),
    (["sweep", "--gap", "2"], "--gap", "less than 1"),
    (["sweep", "--time-limit", "-1"], "--time-limit", "greater than 0"),
    (["sweep", "--threads", "0"], "--threads", "greater than or equal to 1"),
    (["sweep", "--budgets", "1e13"], "--budgets", "between 0 and 1e+12"),
    (["compare", "--time-limit", "-1"], "--time-limit", "greater than 0"),
    (["compare", "--backends", "highs,nope"], "--backends", "unknown backend 'nope'"),
]


@pytest.mark.parametrize(("command", "option", "words"), OPTIONS, ids=[" ".join(o[0]) for o in OPTIONS])
def test_bad_option_exits_2_naming_the_option_before_solving(
        command: list[str], option: str, words: str, example_dir: Path, no_solving: None) -> None:
    out = ["--out", str(example_dir / "out")] if command[0] != "compare" else []
    code, output = _invoke(command[0], str(example_dir / "scenario.json"), *out, *command[1:])
    assert code == 2, output
    assert f"{option}: " in output and words in output, output


@pytest.mark.parametrize(("content", "words"), [
    (bytes(range(256)) * 4, "not a text file"),
    (b"[" * 100_000, "nested too deeply"),
    (b'{"format": 1, "name": ' + b"9" * 5000 + b"}", "a number has thousands of digits"),
], ids=["binary", "100000_brackets", "5000_digit_number"])
@pytest.mark.parametrize("command", ["validate", "solve"])
def test_unparseable_scenario_file_exits_2_naming_the_file(content: bytes, words: str, command: str,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_bytes(content)
    code, output = _invoke(command, str(path), *(["--out", str(tmp_path / "out")] if command == "solve" else []))
    assert code == 2, output
    assert f"{path.name}: " in output and words in output, output


@pytest.mark.parametrize(("backend", "words"), [("gurobi", "unknown backend 'gurobi'"),
                                                ("pulp:NO_SUCH_SOLVER", "PuLP solver 'NO_SUCH_SOLVER' is not "
                                                 "available here")])
def test_validate_checks_the_backend_exists_and_loads(backend: str, words: str, example_dir: Path,
                                                      example_doc: dict[str, Any]) -> None:
    example_doc["solver"]["backend"] = backend
    code, output = _invoke("validate", str(_write(example_dir, example_doc)))
    assert code == 2 and f"solver.backend: {words}" in output, output


def test_threads_above_the_cores_are_capped_with_a_note() -> None:
    options, notes = solve_options(SolverSpec(threads=1024))
    assert options.threads == usable_cores() < 1024
    assert notes == [f"solver.threads 1024 capped at {usable_cores()}: the cores this machine gives the solver"]
    assert solve_options(SolverSpec(threads=1)) [1] == []


def test_solver_never_gets_more_threads_than_cores(example_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real = optimizer.plan.run_phases

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["options"].threads)
        return real(*args, **kwargs)

    monkeypatch.setattr(optimizer.plan, "run_phases", spy)
    out = example_dir / "out"
    code, output = _invoke("solve", str(example_dir / "scenario.json"), "--out", str(out), "--threads", "1024",
                           "--format", "none")
    assert code == 0, output
    assert seen and max(seen) <= usable_cores()
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert any("solver.threads 1024 capped" in note for phase in plan["solver"]["phases"] for note in phase["notes"])
