"""`min_radius` (p-center): the least radius against brute force, with a count or a budget, its
proven range in the plan, the checker's own figure, and bad scenarios refused by name."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest

from optimizer import solve_tables
from optimizer.errors import OptimizerError
from optimizer.report.document import plan_document


def _city(seed: int, n: int = 30, m: int = 10) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 4000, (n, 2))
    sxy = rng.uniform(0, 4000, (m, 2))
    dist = np.hypot(xy[:, None, 0] - sxy[None, :, 0], xy[:, None, 1] - sxy[None, :, 1])
    cost = rng.integers(1, 5, m).astype(float)
    return dist, cost


def _tables(dist: np.ndarray, doc_extra: dict[str, Any], cost: np.ndarray | None = None,
            limit: float = 1e6) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    i, s = np.nonzero(dist <= limit)
    doc: dict[str, Any] = {"format": 1, "name": "radius test", "demand": {"id": "id"},
                           "sites": {"id": "id", **({"cost": {"f": "cost"}} if cost is not None else {})},
                           "facility_types": {"f": {"radius_m": limit}}, "objective": "min_radius",
                           "solver": {"backend": "highs", "time_limit_s": 30, "mip_gap": 0.0}} | doc_extra
    sites = pd.DataFrame({"id": np.arange(dist.shape[1])} | ({"cost": cost} if cost is not None else {}))
    return (doc, pd.DataFrame({"id": np.arange(dist.shape[0])}), sites,
            pd.DataFrame({"demand_id": i, "site_id": s, "distance": dist[i, s]}))


def _brute(dist: np.ndarray, allowed: Any) -> float:
    m = dist.shape[1]
    return min(float(dist[:, list(c)].min(axis=1).max())
               for k in range(1, m + 1) for c in itertools.combinations(range(m), k) if allowed(c))


@pytest.mark.parametrize("seed", range(3))
def test_least_radius_with_a_count_is_the_brute_force_one(seed: int) -> None:
    dist, _ = _city(seed)
    result = solve_tables(*_tables(dist, {"targets": [{"kind": "count", "facility": "f", "max": 3}]}))
    best = _brute(dist, lambda c: len(c) <= 3)
    assert result.status == "optimal"
    assert result.checked is not None and result.checked.radius["f"] == pytest.approx(best)
    doc = plan_document(result)
    assert doc["objective"] == pytest.approx(best)
    assert doc["radius"]["lower"] == pytest.approx(best) and doc["radius"]["upper"] == pytest.approx(best)
    assert len(doc["facilities"]) <= 3


def test_least_radius_with_a_budget_is_the_brute_force_one() -> None:
    dist, cost = _city(7)
    result = solve_tables(*_tables(dist, {"budget": {"capital": 6.0}}, cost=cost))
    best = _brute(dist, lambda c: cost[list(c)].sum() <= 6.0)
    assert result.status == "optimal"
    assert result.checked is not None and result.checked.radius["f"] == pytest.approx(best)
    assert result.checked.cost["capital"] <= 6.0 + 1e-9


def test_units_out_of_every_sites_reach_are_left_out_of_the_radius() -> None:
    """A unit no site reaches within the limit does not make the radius infinite."""
    dist, _ = _city(3)
    dist[0, :] = 5e6   # unit 0 lies beyond every site's limit
    result = solve_tables(*_tables(dist, {"targets": [{"kind": "count", "facility": "f", "max": 2}]}, limit=1e6))
    best = _brute(dist[1:], lambda c: len(c) <= 2)
    assert result.checked is not None and result.checked.radius["f"] == pytest.approx(best)


@pytest.mark.parametrize(("extra", "where"), [
    ({"min_radius": {"facilities": ["g"]}}, "min_radius.facilities.g"),
    ({"elastic": True}, "elastic"),
])
def test_bad_min_radius_scenarios_are_refused_by_name(extra: dict[str, Any], where: str) -> None:
    dist, _ = _city(1)
    with pytest.raises(OptimizerError) as err:
        solve_tables(*_tables(dist, {"targets": [{"kind": "count", "facility": "f", "max": 2}]} | extra))
    assert where in str(err.value)
