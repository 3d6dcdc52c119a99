"""Core search (`optimizer.search.core`): the merged core model is exact, and the search never
loses or worsens a plan while moving it towards the optimum."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from bench.synthetic import write_city
from optimizer.bounds.dual_ascent import dual_ascent, open_mask
from optimizer.bounds.lp_relaxation import lp_solution
from optimizer.bounds.subgradient import evaluate, integral_bound
from optimizer.model.milp import Milp
from optimizer.plan import prepare
from optimizer.scenario.format import load_scenario
from optimizer.search.backends import capabilities
from optimizer.search.core import core_model, core_search, site_rank
from optimizer.search.greedy import greedy_plan
from optimizer.search.lagrangian import LagrangianBackend
from optimizer.search.phases import HINT, _beyond_set_up, _start_if_none, with_backend_hint
from optimizer.search.polish import polish
from optimizer.solvers.base import SolveOptions, SolveResult, Status
from optimizer.solvers.registry import run_backend
from optimizer.tuning import TUNING
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
    """The engine's polish of a plan HiGHS left unproven: core MIPs run before windows, and the LP
    relaxation the polish solves to rank them replaces the solver's weaker bound."""
    plan = greedy_plan(city)
    assert plan is not None
    value = float(city.c @ plan)
    stopped = SolveResult(Status.TIME_LIMIT_FEASIBLE, plan, value, optimum * 0.9, 0.1, 1.0, None, True,
                          "highs", "kTimeLimit")
    reduced_costs = evaluate(city, dual_ascent(city, open_mask(city), adjust_s=1.0))[1]
    polished = polish(city, stopped, time.perf_counter() + 10.0, 1e-4, tuning=TUNING, reduced_costs=reduced_costs)
    assert polished.x is not None and city.is_feasible(polished.x)
    assert float(city.c @ polished.x) == pytest.approx(polished.objective)
    assert optimum - 1e-6 <= polished.objective < value
    assert stopped.bound < polished.bound <= optimum + 1e-6
    assert polished.gap == pytest.approx((polished.objective - polished.bound) / polished.objective)
    assert any("from the LP relaxation" in note for note in polished.notes)
    assert any(note.startswith("core search") for note in polished.notes)


def test_a_branch_and_bound_plan_left_far_from_its_bound_names_the_lagrangian_backend(city: Milp) -> None:
    """A planner whose `highs` solve of a large covering model stops 10% from its bound is told
    which backend closes such models; not at 0.5%, not when the plan came from `lagrangian`."""
    plan = greedy_plan(city)
    assert plan is not None
    value = float(city.c @ plan)

    def stopped(gap: float, backend: str) -> SolveResult:
        return SolveResult(Status.TIME_LIMIT_FEASIBLE, plan, value, value * (1 - gap), gap, 1.0, None, True,
                           backend, "kTimeLimit", ("core search: ...",))

    hinted = with_backend_hint(city, stopped(0.1, "highs"), capabilities("highs"))
    hints = [note for note in hinted.notes if note.startswith(HINT)]
    assert len(hints) == 1 and "10.0%" in hints[0] and "--backend lagrangian" in hints[0]
    assert hinted.notes[0] == "core search: ..." and hinted.objective == value and hinted.x is plan
    for quiet in (stopped(0.005, "highs"), stopped(0.1, "lagrangian")):
        assert with_backend_hint(city, quiet, capabilities(quiet.backend)).notes == quiet.notes


def test_a_solver_out_of_time_without_a_plan_leaves_the_phase_its_start(city: Milp) -> None:
    """HiGHS stopped before it has completed its start returns no plan (seen at 100,000 units with
    23 s; here with 0.1 ms): the phase keeps the feasible start, which the polish then improves,
    instead of reporting no plan at all."""
    plan = greedy_plan(city)
    assert plan is not None
    stopped = run_backend("highs", city, SolveOptions(time_limit_s=1e-4, mip_gap=1e-4, start=plan))
    assert stopped.status == Status.TIME_LIMIT_NO_SOLUTION and stopped.x is None
    kept = _start_if_none(city, stopped, plan)
    assert kept.status == Status.TIME_LIMIT_FEASIBLE and kept.time_limited
    assert kept.x is not None and city.is_feasible(kept.x)
    assert kept.objective == pytest.approx(float(city.c @ plan + city.offset))
    assert any("the plan it started from is kept" in note for note in kept.notes)
    polished = polish(city, kept, time.perf_counter() + 10, 1e-4, tuning=TUNING)
    assert polished.x is not None and city.is_feasible(polished.x) and polished.objective < kept.objective
    infeasible = np.zeros(city.n_vars)
    assert not city.is_feasible(infeasible)
    assert _start_if_none(city, stopped, infeasible) is stopped   # never a plan that breaks a row


def test_a_model_highs_cannot_set_up_in_its_time_is_planned_by_the_lagrangian_backend(
        city: Milp) -> None:
    """Where HiGHS's or CP-SAT's set-up alone (HiGHS: start completion and presolve, which its time
    limit does not interrupt) is expected to outlast its time, the `lagrangian` backend plans the
    phase, and the note says why; with time enough the solver runs, and PuLP's solvers (not
    measured) always do. The small city stands in for a large one by a set-up a billion times
    slower than measured."""
    plan = greedy_plan(city)
    assert plan is not None
    value = float(city.c @ plan + city.offset)
    options = SolveOptions(time_limit_s=5.0, start=plan)
    assert _beyond_set_up(city, "highs", capabilities("highs"), options, time.perf_counter() + 5.0, last=True) is None
    options = replace(options, tuning=replace(TUNING, set_up_seconds=1e9))
    planned = _beyond_set_up(city, "highs", capabilities("highs"), options, time.perf_counter() + 5.0, last=True)
    assert planned is not None and planned.backend == "lagrangian"
    assert planned.status in (Status.HEURISTIC, Status.OPTIMAL)
    assert planned.x is not None and city.is_feasible(planned.x) and planned.objective <= value + 1e-6
    assert planned.bound is not None and planned.bound <= planned.objective + 1e-6
    assert f"{city.A.nnz:,} nonzeros" in planned.notes[0] and "highs was not run" in planned.notes[0]
    handed = _beyond_set_up(city, "cpsat", capabilities("cpsat"), options, time.perf_counter() + 5.0, last=False)
    assert handed is not None and handed.backend == "lagrangian" and "cpsat was not run" in handed.notes[0]
    pulp = capabilities("pulp:CBC")
    assert _beyond_set_up(city, "pulp:CBC", pulp, options, time.perf_counter() + 5.0, last=True) is None


def test_a_core_ranked_by_the_lps_values_reaches_the_optimum(city: Milp, optimum: float) -> None:
    """Where the LP relaxation is solved, its values rank the sites (most sites of a covering LP
    have reduced cost 0: the values say which of them the LP opens). On the small city that core
    reaches the proven optimum; ranked by the dual ascent's reduced costs alone the search is
    only asked to improve (above)."""
    plan = greedy_plan(city)
    assert plan is not None
    lp = lp_solution(city, interior=True)
    assert lp is not None
    reduced_costs = evaluate(city, dual_ascent(city, open_mask(city), adjust_s=1.0))[1]
    better, _ = core_search(city, plan, site_rank(reduced_costs, lp.x), time_limit_s=30.0, target=optimum)
    assert city.is_feasible(better)
    assert float(city.c @ better) == pytest.approx(optimum, rel=1e-9)


def test_site_rank_puts_the_lps_open_sites_first_and_breaks_ties_by_reduced_cost() -> None:
    reduced_costs = np.array([0.0, 5.0, 0.0, 1.0, 0.0])
    values = np.array([0.2, 0.0, 1.0, 0.0, 0.0])
    assert list(np.argsort(site_rank(reduced_costs, values))) == [2, 0, 4, 3, 1]
    assert np.array_equal(site_rank(reduced_costs), reduced_costs)


@pytest.fixture(scope="module")
def set_covering() -> Milp:
    """The benchmark city's set covering at 5,000 x 1,000: LP bound 363.55, optimum 367."""
    return _city_model("lscp", 5000, 1000)


def test_a_core_of_every_free_site_proves_the_optimum_the_lp_bound_cannot(set_covering: Milp) -> None:
    optimum = _optimum(set_covering)
    lp = lp_solution(set_covering)
    assert lp is not None
    assert integral_bound(set_covering, float(set_covering.c @ lp.x)) < optimum   # the LP leaves a gap
    plan = greedy_plan(set_covering)
    assert plan is not None
    better, report = core_search(set_covering, plan, np.zeros(set_covering.n_vars), time_limit_s=60.0)
    assert float(set_covering.c @ better) == pytest.approx(optimum)
    assert report.bound == pytest.approx(optimum)
    # the backend reports it proven: the core's bound, not the LP's
    result = LagrangianBackend().solve(set_covering, SolveOptions(time_limit_s=30.0, mip_gap=1e-4, threads=2))
    assert result.status == Status.OPTIMAL
    assert result.objective == pytest.approx(optimum) and result.bound == pytest.approx(optimum)


def test_a_polish_proves_the_optimum_by_a_core_of_every_site(set_covering: Milp) -> None:
    """A solver stopped with a weak bound: the polish's core grows to every site, and HiGHS's
    bound on that core, the whole model's, proves the plan optimal where the LP (363.55) cannot."""
    optimum = _optimum(set_covering)
    plan = greedy_plan(set_covering)
    assert plan is not None
    value = float(set_covering.c @ plan)
    stopped = SolveResult(Status.TIME_LIMIT_FEASIBLE, plan, value, 300.0, (value - 300.0) / value, 1.0, None,
                          True, "highs", "kTimeLimit")
    polished = polish(set_covering, stopped, time.perf_counter() + 60.0, 1e-4, tuning=TUNING, reduced_costs=None)
    assert polished.status == Status.OPTIMAL and not polished.time_limited
    assert polished.objective == pytest.approx(optimum) and polished.bound == pytest.approx(optimum)
    assert any("from a core MIP of every site" in note for note in polished.notes)


def test_a_polish_ranks_the_core_by_the_lp_where_it_fits(city: Milp, optimum: float) -> None:
    """A solver stopped with a good bound of its own brings no reduced costs; where the LP
    relaxation fits in the polish's time its values rank the core, which reaches the optimum."""
    plan = greedy_plan(city)
    assert plan is not None
    value = float(city.c @ plan)
    stopped = SolveResult(Status.TIME_LIMIT_FEASIBLE, plan, value, optimum * 0.999, 0.01, 1.0, None, True,
                          "highs", "kTimeLimit")
    polished = polish(city, stopped, time.perf_counter() + 15.0, 1e-4, tuning=TUNING, reduced_costs=None)
    assert polished.x is not None and city.is_feasible(polished.x)
    assert any(note.startswith("core search") for note in polished.notes)
    assert polished.objective == pytest.approx(optimum, rel=1e-9)
