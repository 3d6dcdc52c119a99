"""Block re-solves of the Lagrangian dual (`optimizer.bounds.blocks`): the bound only rises, never
passes the optimum (one block at a time or two side by side), and climbs from the dual ascent to
the LP bound on a city's set covering."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.bounds.blocks import _disjoint_blocks, window_ascent
from optimizer.bounds.dual_ascent import dual_ascent, open_mask
from optimizer.bounds.subgradient import evaluate
from optimizer.model.adjacency import Windows
from optimizer.plan import prepare
from optimizer.scenario.format import parse_scenario
from optimizer.solvers.base import SolveOptions, Status
from optimizer.solvers.registry import run_backend
from tests.test_lns import _city_model
from tests.test_properties import random_instance


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31), st.sampled_from(["min_cost", "max_coverage"]))
def test_block_resolves_raise_the_bound_and_never_pass_the_optimum(seed: int, objective: str) -> None:
    parsed, base = parse_scenario(random_instance(seed, objective, False), base_dir=Path.cwd())
    pm = prepare(parsed, base).model
    milp = pm.milp.with_objective(pm.coverage_c, 0.0) if objective == "max_coverage" else pm.milp
    exact = run_backend("highs", milp, SolveOptions(time_limit_s=30, mip_gap=0.0))
    start = dual_ascent(milp, open_mask(milp), adjust_s=0.2)
    lam = window_ascent(milp, start, time_limit_s=0.3, block_rows=int(seed % 40) + 3, seed=seed,
                        threads=1 + seed % 2)
    before, after = evaluate(milp, start)[0], evaluate(milp, lam)[0]
    assert after >= before - 1e-6 * max(1.0, abs(before))
    if exact.status == Status.OPTIMAL and exact.objective is not None:
        assert after <= exact.objective + 1e-6 * max(1.0, abs(exact.objective))


def test_block_resolves_reach_the_lp_bound_of_a_city_set_covering() -> None:
    """The dual ascent alone stops well below the LP bound of a set covering; block re-solves
    close that (the whole model fits a few blocks here)."""
    milp = _city_model("lscp", 3000, 600)
    relaxed = replace(milp, integrality=np.zeros_like(milp.integrality))
    lp = run_backend("highs", relaxed, SolveOptions(time_limit_s=60, mip_gap=0.0))
    assert lp.status == Status.OPTIMAL and lp.objective is not None
    start = dual_ascent(milp, open_mask(milp), adjust_s=0.5)
    lam = window_ascent(milp, start, time_limit_s=5.0, block_rows=200)
    assert evaluate(milp, start)[0] < lp.objective - 1.0, "the dual ascent alone leaves room here"
    assert evaluate(milp, lam)[0] == pytest.approx(lp.objective, rel=1e-3)


def test_blocks_solved_side_by_side_share_no_variable() -> None:
    """Two blocks re-priced from the same multipliers are both exact only when no variable is in
    both: the second block gives up its rows that touch the first's variables."""
    milp = _city_model("lscp", 3000, 600)
    windows = Windows(milp)
    local = np.flatnonzero(windows.local_row)
    rng = np.random.default_rng(3)
    for _ in range(20):
        blocks = _disjoint_blocks(windows, local, [300, 300, 300], rng)
        columns = [set(np.unique(windows.by_row[rows].indices)) for rows in blocks]
        assert blocks and all(len(rows) for rows in blocks)
        for i in range(len(columns)):
            for j in range(i):
                assert not columns[i] & columns[j]
