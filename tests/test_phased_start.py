"""The heuristic start of phased models (`optimizer.search.phased_start`): feasible for every row
of the phased model, openings within each year's cap and before the year a target needs them,
and only a start: the solver's optimum is the same with it."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from optimizer.plan import prepare
from optimizer.scenario.format import parse_scenario
from optimizer.search.phased_start import phased_start
from optimizer.search.phases import run_phases
from optimizer.solvers.base import SolveOptions
from optimizer.tuning import TUNING

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "example"
CAPS = {"2024": 16_000_000, "2025": 12_000_000, "2026": 12_000_000}


def _phased_example(caps: dict[str, int], station_year: int = 2025) -> dict[str, Any]:
    """The example over 2024-2026 with growth, yearly caps and the station target dated."""
    doc = copy.deepcopy(json.loads((EXAMPLE / "scenario.json").read_text(encoding="utf-8")))
    doc["years"] = [2024, 2025, 2026]
    doc["demand"]["base_year"] = 2023
    doc["demand"]["growth"] = {"elderly": 0.03}
    doc["budget"] = {"capital": None, "annual": None, "capital_by_year": caps}
    doc["targets"][0]["year"] = station_year
    return doc


def _model(doc: dict[str, Any]) -> Any:
    scenario, base_dir = parse_scenario(doc, base_dir=EXAMPLE)
    prep = prepare(scenario, base_dir)
    assert prep.region.type_names[0] == "station"
    return prep.model


def test_the_start_is_feasible_within_each_years_cap_and_opens_stations_by_their_year() -> None:
    pm = _model(_phased_example(CAPS))
    v = phased_start(pm.milp, pm.schedule, pm.x_type)
    assert v is not None and pm.milp.is_feasible(v)
    opening = pm.schedule.opening(v)
    new = (opening >= 0) & (pm.milp.lb[pm.schedule.y_of(0)] < 0.5)
    assert new.any()
    station = pm.schedule.pair_type == 0
    assert (opening[new & station] <= 1).all() and (new & station).any()
    for p, row in enumerate(pm.schedule.capital_year_rows):   # each year's capital within its cap
        assert float((pm.milp.A[[row]] @ v)[0]) <= CAPS[str(2024 + p)] + 1e-6


def test_no_start_where_the_targets_year_cannot_be_paid_for() -> None:
    """Stations by 2024 on 2 M in 2024: nothing fits (the solver is left without a start)."""
    pm = _model(_phased_example({"2024": 2_000_000, "2025": 30_000_000, "2026": 30_000_000}, station_year=2024))
    assert phased_start(pm.milp, pm.schedule, pm.x_type) is None


def test_an_elastic_model_gets_no_start() -> None:
    doc = _phased_example(CAPS) | {"elastic": True}
    pm = _model(doc)
    assert phased_start(pm.milp, pm.schedule, pm.x_type) is None


def test_the_start_changes_nothing_but_the_path_to_the_optimum() -> None:
    """The same model solved as a small one (no start) and as a large one (the phased start, a
    quarter of the time for HiGHS, the polish with the LP beside windows): one optimum."""
    pm = _model(_phased_example(CAPS))
    options = SolveOptions(time_limit_s=60, mip_gap=0.0)
    plain = run_phases(pm, backend="highs", objective="min_cost", elastic=False, options=options)
    large = run_phases(pm, backend="highs", objective="min_cost", elastic=False,
                       options=replace(options, tuning=replace(TUNING, greedy_start_size=0)))
    assert plain.status.value == large.status.value == "optimal"
    assert plain.x is not None and large.x is not None
    assert float(pm.cost_c @ large.x) == pytest.approx(float(pm.cost_c @ plain.x), abs=0.5)
