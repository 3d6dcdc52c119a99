"""Covering dual ascent (`optimizer.bounds.dual_ascent`): co-location prices moved onto hosts with room
never lower the bound, and on a four-type city they raise it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench.synthetic import write_city
from optimizer.bounds.dual_ascent import (
    _ascend,
    _items,
    _pairs,
    _price_colocation,
    _roles,
    _shift_to_hosts,
    dual_ascent,
    open_mask,
)
from optimizer.bounds.lp_relaxation import lp_solution
from optimizer.bounds.subgradient import evaluate, project
from optimizer.model.milp import Milp
from optimizer.plan import prepare
from optimizer.scenario.format import load_scenario, parse_scenario
from tests.test_properties import random_instance


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Milp:
    """The cost phase of a small four-type synthetic city (meal points co-located with stations
    and happiness homes save 90,000 each)."""
    scenario, base = load_scenario(write_city(tmp_path_factory.mktemp("city"), 800, 400, seed=3))
    model = prepare(scenario, base).model
    return model.milp.with_objective(model.cost_c, 0.0)


def test_moving_colocation_prices_to_hosts_raises_the_ascents_bound(city: Milp) -> None:
    """At the ascent's own share prices: pricing every co-location at the guest's saving, as the
    ascent first does, leaves a lower bound than moving what the hosts can carry onto them and
    ascending again; the result stays below the LP bound, as every bound must."""
    rows = _roles(city, open_mask(city))
    items = _items(city, rows, open_mask(city))
    prices = np.zeros(city.n_rows)
    _price_colocation(city, rows.colocation, prices)
    prices[rows.share] = dual_ascent(city, open_mask(city), adjust_s=0.5)[rows.share]
    guest_priced = _ascend(city, items, prices)
    pairs = _pairs(city, rows.colocation)
    host_rows = pairs.a_rows[pairs.host >= 0]
    assert len(host_rows) > 0
    shifted = _shift_to_hosts(city, guest_priced, pairs)
    assert (-shifted[host_rows] > 0).any(), "some host carries a co-location price"
    moved = _ascend(city, items, shifted)
    lp = lp_solution(city, interior=True)
    assert lp is not None
    assert evaluate(city, guest_priced)[0] < evaluate(city, moved)[0] <= evaluate(city, lp.duals)[0] + 1e-6


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31), st.floats(0.0, 1e6))
@example(4723, 0.0)   # existing hosts (held open) once lent reduced cost they pay for in L
def test_moving_colocation_prices_never_lowers_the_bound(seed: int, scale: float) -> None:
    """For any multipliers (here random ones on random instances with co-location), the move
    keeps every host's reduced cost >= 0 where it was and protects every d at least as well:
    L never falls."""
    scenario, base = parse_scenario(random_instance(seed, "min_cost", False), base_dir=Path.cwd())
    milp = prepare(scenario, base).model.milp
    rows = _roles(milp, open_mask(milp))
    pairs = _pairs(milp, rows.colocation)
    rng = np.random.default_rng(seed)
    lam = project(rng.normal(0.0, scale + 1.0, milp.n_rows), np.isfinite(milp.row_lb), np.isfinite(milp.row_ub))
    shifted = _shift_to_hosts(milp, lam, pairs)
    before, after = evaluate(milp, lam)[0], evaluate(milp, shifted)[0]
    assert after >= before - 1e-9 * max(1.0, abs(before))
    rc_before, rc_after = evaluate(milp, lam)[1], evaluate(milp, shifted)[1]
    hosts = pairs.host[rc_before[pairs.host] >= 0]
    assert (rc_after[hosts] >= -1e-9 * np.maximum(1.0, np.abs(milp.c[hosts]))).all()
