"""Exact decomposition: towns no row links are solved apart, with the same optimum."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import connected_components

from optimizer.model import parts as model_parts
from optimizer.model.components import components
from optimizer.plan import solve
from optimizer.scenario.format import parse_scenario
from optimizer.solvers.base import Status
from optimizer.tuning import TUNING
from tests.conftest import point, scenario_doc


def _two_towns(seed: int) -> dict[str, Any]:
    """Two towns 40 km apart, per-town (per-zone) coverage shares: nothing links the towns."""
    rng = np.random.default_rng(seed)
    units, sites = [], []
    for town, (cx, cy) in enumerate([(450_000.0, 4_000_000.0), (490_000.0, 4_000_000.0)]):
        for i in range(25):
            xy = (cx + rng.normal(0, 1500), cy + rng.normal(0, 1500))
            units.append({"xy": xy, "id": f"u{town}_{i}", "kind": "urban", "zone": f"T{town}",
                          "pop": int(rng.integers(50, 500))})
        for s in range(12):
            xy = (cx + rng.normal(0, 1500), cy + rng.normal(0, 1500))
            sites.append({"xy": xy, "id": f"s{town}_{s}", "zone": f"T{town}", "allowed": "station",
                          "existing": "", "cost_station": int(rng.integers(3, 9)) * 100_000})
    types = {"station": {"radius_m": 2000, "capital_cost": 500_000, "annual_cost": 50_000}}
    targets = [{"kind": "coverage", "facility": "station", "per_zone": True, "measure": "elderly",
                "min_share": 0.6}]
    doc = scenario_doc(units, sites, types, targets, objective="min_cost", elastic=False)
    doc["sites"]["cost"] = {"station": "cost_station"}
    return doc


@pytest.mark.parametrize("seed", range(6))
def test_towns_solved_apart_reach_the_same_optimum(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario, base = parse_scenario(_two_towns(seed), base_dir=Path.cwd())
    whole = solve(scenario, base, backend="highs", mip_gap=0.0)
    monkeypatch.setattr(model_parts, "TUNING", replace(TUNING, part_min_vars=0))
    parts = solve(scenario, base, backend="highs", mip_gap=0.0)
    assert parts.status == whole.status == "optimal"
    assert parts.checked is not None and parts.checked.feasible
    assert parts.checked.cost["total"] == pytest.approx(whole.checked.cost["total"])
    notes = parts.solution.phases[-1].result.notes
    assert any("independent parts" in note for note in notes)


def test_a_region_wide_row_keeps_the_model_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _two_towns(0)
    doc["targets"][0]["per_zone"] = False     # one share over both towns links them
    scenario, base = parse_scenario(doc, base_dir=Path.cwd())
    monkeypatch.setattr(model_parts, "TUNING", replace(TUNING, part_min_vars=0))
    result = solve(scenario, base, backend="highs", mip_gap=0.0)
    assert not any("independent parts" in n for n in result.solution.phases[-1].result.notes)


def test_an_impossible_town_makes_the_whole_plan_infeasible(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _two_towns(1)
    doc["facility_types"]["station"]["radius_m"] = 300   # too short for 60% in either town
    scenario, base = parse_scenario(doc, base_dir=Path.cwd())
    monkeypatch.setattr(model_parts, "TUNING", replace(TUNING, part_min_vars=0))
    assert solve(scenario, base, backend="highs", mip_gap=0.0).status == "infeasible"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 25), st.integers(0, 25), st.floats(0.0, 0.2), st.integers(0, 10**6))
def test_components_match_the_bipartite_graph(n_rows: int, n_cols: int, density: float, seed: int) -> None:
    """Rows and columns get the same label exactly when the bipartite graph of the marked ones
    connects them (checked against SciPy's connected components of [[0, A], [A^T, 0]]), and
    unmarked ones get -1: a wrong label would merge or split parts of a model."""
    rng = np.random.default_rng(seed)
    A = sp.csr_array(sp.random(n_rows, n_cols, density=density, random_state=seed))
    rows, cols = rng.random(n_rows) < 0.8, rng.random(n_cols) < 0.8
    row_label, col_label = components(A, rows, cols)
    assert (row_label[~rows] == -1).all() and (col_label[~cols] == -1).all()
    B = sp.csr_array(A[rows][:, cols])
    n = int(rows.sum()) + int(cols.sum())
    graph = sp.bmat([[sp.csr_array((B.shape[0], B.shape[0])), B], [B.T, sp.csr_array((B.shape[1], B.shape[1]))]],
                    format="csr") if n else sp.csr_array((0, 0))
    _, expected = connected_components(graph, directed=False)
    mine = np.concatenate([row_label[rows], col_label[cols]])
    assert len(set(zip(mine.tolist(), expected.tolist()))) == len(set(mine.tolist())) == len(set(expected.tolist()))
    assert set(mine.tolist()) == set(range(len(set(mine.tolist()))))


def test_the_first_order_lp_of_towns_apart_is_put_together_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Solved town by town, the first-order LP's duals and values fill the whole model: its
    bound is valid and near the LP's, and every value sits in its variable's box."""
    from dataclasses import replace

    from optimizer.bounds.lp_relaxation import first_order_solution, lp_solution
    from optimizer.bounds.subgradient import evaluate
    from optimizer.plan import prepare

    scenario, base = parse_scenario(_two_towns(1), base_dir=Path.cwd())
    model = prepare(scenario, base).model
    milp = model.milp.with_objective(model.cost_c, 0.0)
    monkeypatch.setattr(model_parts, "TUNING", replace(TUNING, part_min_vars=0))
    assert len(model_parts.groups(milp)) == 2
    exact = lp_solution(replace(milp, integrality=np.zeros_like(milp.integrality)))
    assert exact is not None
    lp_value = float(milp.c @ exact.x + milp.offset)
    found = first_order_solution(milp, 5.0)
    assert found is not None and len(found.duals) == milp.n_rows and len(found.x) == milp.n_vars
    assert np.all(found.x >= milp.lb - 1e-9) and np.all(found.x <= milp.ub + 1e-9)
    bound = evaluate(milp, found.duals)[0]
    assert lp_value - 0.01 * abs(lp_value) <= bound <= lp_value + 1e-6 * abs(lp_value)


def test_a_unit_out_of_reach_of_min_distance_makes_the_plan_infeasible_apart_too(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit no site reaches leaves its assign-once row with no free variable ("0 = 1"): no part
    holds that row, so the parts alone looked optimal (on the Pingyin county with min_distance
    over centres the checker then failed the plan). Every phase must see the whole model."""
    doc = _two_towns(0)
    first = doc["demand"]["features"]["features"][0]
    far = {**first, "properties": {**first["properties"], "id": "far"},
           "geometry": point(600_000.0, 4_000_000.0)}   # 110 km from any site
    doc["demand"]["features"]["features"].append(far)
    doc["objective"] = "min_distance"
    scenario, base = parse_scenario(doc, base_dir=Path.cwd())
    monkeypatch.setattr(model_parts, "TUNING", replace(TUNING, part_min_vars=0))
    result = solve(scenario, base, backend="highs")
    assert result.status == "infeasible" and result.checked is None
    assert result.explanation is not None
    assert result.solution.phases[0].result.status == Status.INFEASIBLE
