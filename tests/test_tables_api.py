"""The Python API takes in-memory tables without geometry (how benchmark readers feed in)."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer import solve_tables
from optimizer.errors import GeodataError


def _scenario(**extra: object) -> dict:
    doc = {"format": 1, "demand": {"id": "id", "weights": {"people": "w"}}, "sites": {"id": "id", "cost": {"f": "c"}},
           "facility_types": {"f": {"radius_m": 10}},
           "targets": [{"kind": "coverage", "facility": "f", "min_share": 1.0}],
           "solver": {"mip_gap": 0.0}}
    doc.update(extra)
    return doc


def test_weighted_set_cover_from_tables() -> None:
    """Rows a, b, c; columns X covers a+b (cost 3), Y covers b+c (cost 3), Z covers a+c (cost 2),
    W covers c (cost 1). Optimum: X + W = 4 (Z + ... needs b: Z + X = 5, Z + Y = 5)."""
    demand = pd.DataFrame({"id": ["a", "b", "c"], "w": [1, 1, 1]})
    sites = pd.DataFrame({"id": ["X", "Y", "Z", "W"], "c": [3.0, 3.0, 2.0, 1.0]})
    pairs = pd.DataFrame({"demand_id": ["a", "b", "b", "c", "a", "c", "c"],
                          "site_id": ["X", "X", "Y", "Y", "Z", "Z", "W"], "distance": 0.0})
    result = solve_tables(_scenario(), demand, sites, pairs)
    assert result.status == "optimal"
    assert result.checked is not None
    assert result.checked.cost["total"] == pytest.approx(4.0)
    assert sorted(f["site"] for f in result.checked.facilities) == ["W", "X"]


def test_tables_without_geometry_need_a_distance_table() -> None:
    demand = pd.DataFrame({"id": ["a"], "w": [1]})
    sites = pd.DataFrame({"id": ["X"], "c": [1.0]})
    with pytest.raises(GeodataError, match="distances"):
        solve_tables(_scenario(), demand, sites)


def test_units_out_of_table_reach_are_explained_with_table_distance() -> None:
    demand = pd.DataFrame({"id": ["a", "b", "c", "d"], "w": [1, 1, 1, 1]})
    sites = pd.DataFrame({"id": ["X", "Y"], "c": [3.0, 3.0]})
    pairs = pd.DataFrame({"demand_id": ["a", "b", "c", "d"], "site_id": ["X", "X", "Y", "Y"],
                          "distance": [0.0, 5.0, 11.0, 20.0]})
    from optimizer.report.document import plan_document

    plan = plan_document(solve_tables(_scenario(), demand, sites, pairs))
    assert plan["status"] == "infeasible"
    assert {(u["demand"], u["nearest_site_m"]) for u in plan["uncoverable"]} == {("c", 11.0), ("d", 20.0)}
    assert plan["explanation"]["targets"][0]["best_possible"] == pytest.approx(0.5)
