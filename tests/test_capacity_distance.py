"""min_distance (p-median, facility location) and capacitated facilities on hand-built instances."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from optimizer.check.plan import check_plan
from optimizer.errors import BackendError
from optimizer.plan import PlanResult, decode_assignments, solve
from optimizer.scenario.format import parse_scenario
from tests.conftest import scenario_doc


def _solve(doc: dict[str, Any], backend: str = "highs") -> PlanResult:
    scenario, base = parse_scenario(doc, base_dir=Path.cwd())
    return solve(scenario, base, backend=backend, mip_gap=0.0)


def _line(xs: list[float], pop: int = 1) -> list[dict[str, Any]]:
    return [{"xy": (x, 0.0), "id": f"u{k}", "kind": "urban", "zone": "A", "pop": pop} for k, x in enumerate(xs)]


def _sites(xs: list[float]) -> list[dict[str, Any]]:
    return [{"xy": (x, 0.0), "id": f"s{k}", "zone": "A", "allowed": "station", "existing": ""}
            for k, x in enumerate(xs)]


@pytest.mark.parametrize("backend", ["highs", "cpsat", "pulp:CBC"])
def test_p_median_opens_one_site_per_cluster(backend: str) -> None:
    """Units at 0, 100, 1000, 1100 m, p = 2: one median per pair, total distance 100 + 100."""
    doc = scenario_doc(_line([0, 100, 1000, 1100]), _sites([0, 100, 1000, 1100]),
                       {"station": {"radius_m": 5000, "capital_cost": 10}},
                       [{"kind": "count", "facility": "station", "min": 2, "max": 2}],
                       objective="min_distance", min_distance={"weight": "units"})
    result = _solve(doc, backend)
    assert result.status == "optimal"
    assert result.checked is not None
    assert result.checked.distance["station"] == pytest.approx(200.0)
    opened = sorted(f["site"] for f in result.checked.facilities)
    assert opened[0] in ("s0", "s1") and opened[1] in ("s2", "s3")


def test_priced_distance_is_facility_location() -> None:
    """Two units 10 km apart; a site at each costs 1,000. At 1 yuan per metre opening both
    (2,000) beats one (1,000 + 10,000); at 0.01 yuan per metre one (1,000 + 100) wins."""
    def doc(price: float) -> dict[str, Any]:
        return scenario_doc(_line([0, 10_000]), _sites([0, 10_000]),
                            {"station": {"radius_m": 20_000, "capital_cost": 1000}}, [],
                            objective="min_distance", min_distance={"weight": "units", "yuan_per_unit": price})
    dear, cheap = _solve(doc(1.0)), _solve(doc(0.01))
    assert dear.checked is not None and cheap.checked is not None
    assert len(dear.checked.facilities) == 2 and dear.checked.distance["station"] == pytest.approx(0.0)
    assert len(cheap.checked.facilities) == 1 and cheap.checked.distance["station"] == pytest.approx(10_000)
    assert cheap.checked.cost["total"] == pytest.approx(1000)


def _capacity_doc(min_share: float, *, single_source: bool = False) -> dict[str, Any]:
    """Three communities of 100 elderly at one spot; two sites; a station holds 150."""
    return scenario_doc(_line([0, 10, 20], pop=100), _sites([50, 60]),
                        {"station": {"radius_m": 1000, "capital_cost": 100, "capacity": 150,
                                     "capacity_weight": "elderly", "single_source": single_source}},
                        [{"kind": "coverage", "facility": "station", "measure": "elderly", "min_share": min_share}])


def test_capacity_limits_coverage_to_the_assigned_share() -> None:
    half, full = _solve(_capacity_doc(0.5)), _solve(_capacity_doc(1.0))
    assert half.checked is not None and full.checked is not None
    assert len(half.checked.facilities) == 1
    assert half.checked.targets[0]["achieved"] == pytest.approx(0.5)
    assert len(full.checked.facilities) == 2
    assert max(full.checked.load["station"]) <= 150 + 1e-6
    assert full.checked.targets[0]["achieved"] == pytest.approx(1.0)


def test_checker_rejects_an_overloaded_facility() -> None:
    result = _solve(_capacity_doc(0.5))
    prep = result.prepared
    assert result.solution.x is not None
    pairs = [(f["site"], f["type"]) for f in result.checked.facilities] if result.checked else []
    overload = pd.DataFrame({"demand": ["u0", "u1"], "site": [pairs[0][0]] * 2, "type": ["station"] * 2,
                             "share": [1.0, 1.0]})   # 200 elderly at a station for 150
    checked = check_plan(prep.scenario, prep.region, prep.base_dir, pairs, overload)
    assert any("capacity exceeded" in v for v in checked.violations)
    honest = check_plan(prep.scenario, prep.region, prep.base_dir, pairs,
                        decode_assignments(prep, prep.model, result.solution.x))
    assert not honest.violations


def test_cpsat_refuses_splittable_capacity_and_solves_single_source() -> None:
    with pytest.raises(BackendError, match="continuous"):
        _solve(_capacity_doc(0.5), "cpsat")
    doc = _capacity_doc(0.6, single_source=True)
    highs, cpsat = _solve(doc), _solve(doc, "cpsat")
    assert highs.checked is not None and cpsat.checked is not None
    # Single source: whole communities of 100 in stations of 150, so 0.6 needs two stations.
    assert len(highs.checked.facilities) == len(cpsat.checked.facilities) == 2
    assert highs.checked.cost["total"] == pytest.approx(cpsat.checked.cost["total"])
