"""Pieces of `python -m bench scale` that need no peer library: greedy p, our runs, the tables."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bench.scale import _skip_reason
from bench.scale_city import greedy_cover_size, make
from bench.scale_ours import run_ours, scenario
from bench.scale_table import ratio_table, runs_table
from optimizer.plan import prepare_tables, solve_prepared
from optimizer.solvers.base import Status


def test_greedy_cover_skips_unreachable_units() -> None:
    # units 0-2 reachable (site 0 covers 0+1, site 1 covers 1+2, site 2 covers 2); unit 3 by none
    cover = sp.csr_array(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 0]], dtype=float))
    assert greedy_cover_size(cover) == 2


@pytest.mark.parametrize("model", ["lscp", "mclp", "pmedian"])
def test_small_city_solves_with_highs(model: str) -> None:
    city = make(300, 60)
    assert city.p_mclp == 6 and city.p_mclp <= city.p_median <= 60
    out = run_ours(city, model, "highs", 30.0)
    assert out.status == "optimal" and out.objective is not None and out.objective > 0


def test_cost_phase_with_nothing_to_pay_keeps_the_coverage_plan() -> None:
    """Maximal covering with free sites: the cost phase has nothing to optimise, so the most
    covering plan stands as it is, proven, without another solver call."""
    city = make(300, 60)
    result = solve_prepared(prepare_tables(scenario(city, "mclp", "highs", 30.0), city.demand, city.sites))
    coverage, cost = result.solution.phase("coverage").result, result.solution.phase("cost").result
    assert cost.status == Status.OPTIMAL and cost.objective == 0.0 and cost.seconds == 0.0
    assert cost.x is not None and np.array_equal(cost.x, coverage.x)
    assert result.status == "optimal"


def test_spopt_is_skipped_beyond_its_dense_size() -> None:
    assert _skip_reason("lscp", 20_000, 3_000) == ""
    assert _skip_reason("mclp", 100_000, 10_000).startswith("does not fit")
    assert _skip_reason("pmedian", 5_000, 1_000).startswith("does not fit")


def test_ratio_table_compares_only_proven_runs() -> None:
    base = {"units": 1000, "sites": 200, "model": "lscp", "p_mclp": 20, "p_median": 40}
    rows = [base | {"method": "spopt", "build_s": 4.0, "solve_s": 1.0, "objective": 153.0, "status": "optimal"},
            base | {"method": "highs", "build_s": 0.5, "solve_s": 0.5, "objective": 153.0, "status": "optimal"},
            base | {"method": "cpsat", "build_s": 0.5, "solve_s": 60.0, "objective": 155.0,
                    "status": "time_limit_feasible", "bound": 150.0, "gap": 0.03}]
    ratios = ratio_table(rows)
    assert "highs 1.00 s (5.0×)" in ratios and "cpsat" not in ratios and "highs: same" in ratios
    assert "3.23%" in runs_table(rows)   # (155 - 150) / 155
