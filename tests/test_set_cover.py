"""Pure set covering (`optimizer.search.row_weighting`): the row-weighting search and the first-order LP
bound. A planner asking for every community within reach at the least cost gets a plan no worse
than the one searched from, feasible, that keeps every existing facility, and a bound that never
exceeds the optimum."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.bounds.dual_ascent import ascent, open_mask
from optimizer.bounds.lp_relaxation import first_order_solution
from optimizer.bounds.subgradient import evaluate
from optimizer.model.milp import INTEGER, Block, Milp
from optimizer.search.greedy import greedy_plan
from optimizer.search.lagrangian import LagrangianBackend
from optimizer.search.row_weighting import row_weighting_search, set_cover
from optimizer.solvers.base import SolveOptions, Status
from optimizer.solvers.registry import run_backend
from tests.test_lns import _city_model


def _optimum(milp: Milp) -> float:
    result = run_backend("highs", milp, SolveOptions(time_limit_s=120, mip_gap=0.0))
    assert result.status == Status.OPTIMAL and result.objective is not None
    return float(result.objective)


def _lp_optimum(milp: Milp) -> float:
    """The LP relaxation's optimum by HiGHS's simplex (exact, unlike an interior point stopped
    at its tolerance)."""
    return _optimum(replace(milp, integrality=np.zeros_like(milp.integrality)))


def test_only_pure_set_covering_is_taken() -> None:
    """Least sites covering all: taken. Most elderly covered by p sites (coverage variables and
    a count row): left to the general search."""
    assert set_cover(_city_model("lscp", 1000, 200)) is not None
    assert set_cover(_city_model("mclp", 1000, 200)) is None


def test_row_weighting_reaches_the_optimum_the_greedy_misses() -> None:
    milp = _city_model("lscp", 3000, 600)
    best = _optimum(milp)
    start = greedy_plan(milp)
    assert start is not None and float(milp.c @ start) > best + 0.5, "the greedy leaves room here"
    cover = set_cover(milp)
    assert cover is not None
    plan, report = row_weighting_search(cover, start, time_limit_s=60, target=best)
    assert milp.is_feasible(plan)
    assert float(milp.c @ plan) == pytest.approx(best)
    assert report.objective == pytest.approx(best) and report.improved >= 1
    assert report.seconds < 60, "it stops at the target"
    assert report.note().startswith("row-weighting search:")


def _random_cover(seed: int) -> Milp:
    """Rows over random sites (each row at least one), costs 0-5 (some free), some sites held
    open (existing) or closed (excluded)."""
    rng = np.random.default_rng(seed)
    n_rows, n_sites = int(rng.integers(1, 40)), int(rng.integers(2, 25))
    picks = rng.random((n_rows, n_sites)) < rng.uniform(0.05, 0.4)
    picks[np.arange(n_rows), rng.integers(0, n_sites, n_rows)] = True
    lb = (rng.random(n_sites) < 0.1).astype(np.float64)
    ub = np.where(rng.random(n_sites) < 0.1, lb, 1.0)
    A = sp.csr_array(picks.astype(np.float64))
    return Milp(np.round(rng.uniform(0, 5, n_sites)), 0.0, lb, ub, np.full(n_sites, INTEGER, dtype=np.int8), A,
                np.ones(n_rows), np.full(n_rows, np.inf), (Block("y", 0, n_sites),),
                (Block("C3a full coverage target 0", 0, n_rows),))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31))
def test_row_weighting_keeps_held_sites_and_never_worsens_a_plan(seed: int) -> None:
    milp = _random_cover(seed)
    everything = milp.ub.copy()   # every site that may open: the dearest feasible plan
    if not milp.is_feasible(everything):
        return   # a row only excluded sites cover: no plan to search from
    cover = set_cover(milp)
    assert cover is not None
    plan, report = row_weighting_search(cover, everything, time_limit_s=0.3, seed=seed % 7)
    assert milp.is_feasible(plan)
    assert (plan >= milp.lb).all() and (plan <= milp.ub).all()
    assert float(milp.c @ plan) <= float(milp.c @ everything) + 1e-9
    assert report.objective == pytest.approx(float(milp.c @ plan))
    assert float(milp.c @ plan) >= _optimum(milp) - 1e-6


def test_first_order_bound_is_valid_and_near_the_lp() -> None:
    milp = _city_model("lscp", 5000, 1000)
    exact = _lp_optimum(milp)
    found = first_order_solution(milp, 5.0)
    assert found is not None
    value = evaluate(milp, found.duals)[0]
    assert exact * 0.99 <= value <= exact + 1e-6 * exact


def test_set_covering_too_large_for_the_interior_point_is_bounded_by_the_first_order_lp() -> None:
    """20,000 x 3,000 at 2 s: the interior point (about 1.3 s) does not fit in its 1.2 s, so the
    bound starts from the first-order LP: within 1% of the LP, where the dual ascent alone is
    26% short."""
    milp = _city_model("lscp", 20000, 3000)
    result = LagrangianBackend().solve(milp, SolveOptions(time_limit_s=2.0, mip_gap=1e-4, threads=2))
    assert any(note.startswith("bound: from HiGHS's first-order LP") for note in result.notes)
    # the row-weighting search after it is tested above; here it gets what the LP leaves of 2 s, which on
    # a loaded machine may be nothing
    assert result.x is not None and milp.is_feasible(result.x)
    exact = _lp_optimum(milp)
    assert 0.99 * exact <= result.bound <= np.ceil(exact)
    assert ascent(milp, open_mask(milp), adjust_s=1.0).value < 0.9 * result.bound
