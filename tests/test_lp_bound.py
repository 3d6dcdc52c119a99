"""The interior-point LP bound that backs HiGHS on large models."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from optimizer.backends.base import SolveResult, Status
from optimizer.backends.highs import _with_lp_bound
from optimizer.backends.lp_bound import collect, start_lp_bound
from optimizer.milp import INTEGER, Milp


def _triangle_cover() -> Milp:
    """Elements a, b, c; sets {a,b}, {b,c}, {a,c} of cost 1. MIP optimum 2; LP optimum 1.5
    (every set at one half covers each element exactly once)."""
    A = sp.csr_array(np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=float))
    n = 3
    return Milp(np.ones(n), 0.0, np.zeros(n), np.ones(n), np.full(n, INTEGER, np.int8), A,
                np.ones(3), np.full(3, np.inf))


def test_lp_relaxation_bound_is_the_lp_optimum() -> None:
    # In its own process, as in production (highspy may not load beside ortools here).
    assert collect(start_lp_bound(_triangle_cover(), 10.0), wait_s=60.0) == pytest.approx(1.5, rel=1e-8)


def test_lp_bound_replaces_a_weaker_bound_of_a_time_limited_run() -> None:
    stopped = SolveResult(Status.TIME_LIMIT_FEASIBLE, np.ones(3), 3.0, -10.0, 4.33, 1.0, 0, True, "highs")
    better = _with_lp_bound(stopped, 1.5)
    assert better.bound == pytest.approx(1.5) and better.gap == pytest.approx(0.5)
    assert any("LP relaxation" in note for note in better.notes)
    # Never weakens a bound, never touches a proven optimum.
    assert _with_lp_bound(stopped, -20.0).bound == -10.0
    optimal = SolveResult(Status.OPTIMAL, np.ones(3), 2.0, 2.0, 0.0, 1.0, 0, False, "highs")
    assert _with_lp_bound(optimal, 1.5) is optimal
