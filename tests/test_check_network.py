"""The checker's walking distances agree with networkx on the real Haidian streets, and so does reach."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.plan import PlanResult, solve
from optimizer.reach.network import load_street_graph, network_bbox
from optimizer.scenario.format import load_scenario
from tests.network_helpers import HAIDIAN, networkx_walk


@pytest.fixture(scope="module")
def haidian_plan() -> PlanResult:
    """The shipped Haidian scenario, solved once (reach without the on-disk cache)."""
    scenario, base_dir = load_scenario(HAIDIAN)
    assert scenario.network is not None
    network = scenario.network.model_copy(update={"cache_dir": None})
    result = solve(scenario.model_copy(update={"network": network}), base_dir)
    assert result.checked is not None
    return result


def _graph(result: PlanResult):
    prep = result.prepared
    spec = prep.scenario.network
    assert spec is not None
    points = np.vstack([prep.region.demand.xy, prep.region.sites.xy])
    bbox = network_bbox(spec, list(prep.scenario.facility_types.values()), points, prep.region.crs)
    return load_street_graph(spec, prep.base_dir, prep.region.crs, bbox), points


def test_walking_distance_to_the_nearest_open_facility_matches_networkx(haidian_plan: PlanResult) -> None:
    graph, points = _graph(haidian_plan)
    checked, region = haidian_plan.checked, haidian_plan.prepared.region
    assert checked is not None
    n = region.demand.n
    for name in region.type_names:
        open_sites = [n + int(np.flatnonzero(region.sites.ids == f["site"])[0])
                      for f in checked.facilities if f["type"] == name]
        assert open_sites, f"the plan opens no {name}"
        walk = networkx_walk(graph, points, open_sites)
        expected = np.array([walk[i] for i in range(n)])
        assert np.isfinite(expected).sum() > 0.9 * n
        assert checked.nearest[name] == pytest.approx(expected, rel=1e-9, abs=1e-6), name


def test_every_reach_pair_is_the_networkx_walk_and_none_is_missing(haidian_plan: PlanResult) -> None:
    graph, points = _graph(haidian_plan)
    prep = haidian_plan.prepared
    n = prep.region.demand.n
    station = prep.reach.by_type[0].tocsc()
    candidates = np.flatnonzero(prep.region.sites.candidate[:, 0])
    for s in candidates[:: max(1, len(candidates) // 5)][:5]:
        walk = networkx_walk(graph, points, [n + s])
        expected = np.array([walk[i] for i in range(n)])
        column = station[:, [s]]
        within = np.flatnonzero(expected <= prep.reach.limits[0])
        assert column.indices.tolist() == within.tolist()
        assert column.data == pytest.approx(expected[within], rel=1e-9, abs=1e-6)


def test_haidian_plan_meets_the_15_minute_targets_on_foot(haidian_plan: PlanResult) -> None:
    assert haidian_plan.status == "optimal" and haidian_plan.all_targets_met
    assert haidian_plan.prepared.reach.limits == (1000.0, 670.0)
