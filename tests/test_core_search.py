"""Core search (`optimizer.core_search`): the merged core model is exact, and the search never
loses or worsens a plan while moving it towards the optimum."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bench.synthetic import write_city
from optimizer.backends.base import SolveOptions, SolveResult, Status
from optimizer.backends.registry import run_backend
from optimizer.core_search import core_model, core_search
from optimizer.dual_ascent import dual_ascent, open_mask
from optimizer.heuristic import greedy_plan
from optimizer.lagrangian import evaluate
from optimizer.milp import Milp
from optimizer.plan import prepare
from optimizer.scenario import load_scenario
from optimizer.solve import _polished
from tests.test_lns import _city_model


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Milp:
    """The cost phase of a small four-type synthetic city: partial coverage shares, co-location
    discounts, per-zone counts (greedy 165.6M, optimum 160.8M)."""
    path = write_city(tmp_path_factory.mktemp("city"), 800, 400, seed=3)
    scenario, base = load_scenario(path)
    model = prepare(scenario, base).model
    return model.milp.with_objective(model.cost_c, 0.0)


@pytest.fixture(scope="module")
def optimum(city: Milp) -> float:
    return _optimum(city)


def _optimum(milp: Milp) -> float:
    result = run_backend("highs", milp, SolveOptions(time_limit_s=300, mip_gap=0.0))
    assert result.status == Status.OPTIMAL
    return float(result.objective)


def test_a_core_of_every_site_has_the_models_optimum(city: Milp, optimum: float) -> None:
    plan = greedy_plan(city)
    assert plan is not None
    core = core_model(city, plan, open_mask(city))
    assert core.milp.n_vars <= city.n_vars
    assert core.milp.is_feasible(core.start)
    assert float(core.milp.c @ core.start) == pytest.approx(float(city.c @ plan))
    result = run_backend("highs", core.milp, SolveOptions(time_limit_s=120, mip_gap=0.0))
    assert result.objective == pytest.approx(optimum)
    full = core.plan_of(result.x)
    assert city.is_feasible(full)
    assert float(city.c @ full) == pytest.approx(result.objective)


def test_a_core_merges_coverage_and_closes_every_site_outside_it(city: Milp) -> None:
    plan = greedy_plan(city)
    assert plan is not None
    is_site = open_mask(city)
    keep = is_site & ((plan > 0.5) | (city.lb >= city.ub))
    core = core_model(city, plan, keep)
    # units that see the same open sites share one coverage variable
    assert core.milp.n_vars < city.n_vars - city.var_block("x").size // 2
    result = run_backend("highs", core.milp, SolveOptions(time_limit_s=60, mip_gap=0.0))
    full = core.plan_of(result.x)
    assert city.is_feasible(full)
    assert not (full[is_site & ~keep] > 0.5).any()
    assert float(city.c @ full) <= float(city.c @ plan) + 1e-6


def test_core_search_improves_the_greedy_plan_towards_the_optimum(city: Milp, optimum: float) -> None:
    plan = greedy_plan(city)
    assert plan is not None
    reduced_costs = evaluate(city, dual_ascent(city, open_mask(city), adjust_s=1.0))[1]
    better, report = core_search(city, plan, reduced_costs, time_limit_s=20.0)
    assert city.is_feasible(better)
    start, found, best = float(city.c @ plan), float(city.c @ better), optimum
    assert report.objective == pytest.approx(found)
    assert best - 1e-6 <= found < start      # a gain, never past the optimum
    assert "core search" in report.note()


def test_core_search_stops_at_a_target_it_already_meets(city: Milp) -> None:
    plan = greedy_plan(city)
    assert plan is not None
    value = float(city.c @ plan)
    same, report = core_search(city, plan, np.zeros(city.n_vars), time_limit_s=5.0, target=value)
    assert report.tries == 0
    assert np.array_equal(same, plan)


def test_a_model_without_coverage_links_is_cored_by_its_sites_alone() -> None:
    """Set covering (every unit covered: rows over sites only) has nothing to merge; the core
    still holds its optimum when every site is in it."""
    milp = _city_model("lscp", 400, 100)
    plan = greedy_plan(milp)
    assert plan is not None
    core = core_model(milp, plan, open_mask(milp))
    assert core.milp.n_vars == milp.n_vars
    result = run_backend("highs", core.milp, SolveOptions(time_limit_s=60, mip_gap=0.0))
    assert result.objective == pytest.approx(_optimum(milp))


def test_a_time_limited_highs_plan_is_polished_by_core_search_first(city: Milp, optimum: float) -> None:
    """The engine's polish of a plan HiGHS left unproven: with the dual ascent's reduced costs
    (which come with the covering bound) core MIPs run before windows."""
    plan = greedy_plan(city)
    assert plan is not None
    value = float(city.c @ plan)
    stopped = SolveResult(Status.TIME_LIMIT_FEASIBLE, plan, value, optimum * 0.9, 0.1, 1.0, None, True,
                          "highs", "kTimeLimit")
    reduced_costs = evaluate(city, dual_ascent(city, open_mask(city), adjust_s=1.0))[1]
    polished = _polished(city, stopped, time.perf_counter() + 10.0, 1e-4, reduced_costs)
    assert polished.x is not None and city.is_feasible(polished.x)
    assert float(city.c @ polished.x) == pytest.approx(polished.objective)
    assert optimum - 1e-6 <= polished.objective < value
    assert polished.bound == stopped.bound
    assert any(note.startswith("core search") for note in polished.notes)
