"""The p-median engine: Lagrangian bound, interchange, fixing, tree and radius MIP against brute
force on small random instances, and the distance phase of real scenarios through it."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from optimizer import solve_tables
from optimizer.bounds.pmedian_lagrangian import (
    CLOSED,
    OPEN,
    PMedianData,
    ascend,
    evaluate,
    fix_by_reduced_costs,
    pmedian_data,
    start_state,
)
from optimizer.search.pmedian import solve_pmedian
from optimizer.tuning import TUNING


def _instance(seed: int, n_units: int = 40, n_sites: int = 14, p: int = 4, density: float = 0.6
              ) -> tuple[PMedianData, np.ndarray]:
    """A random sparse instance (every unit keeps its nearest site) and its dense cost (inf off the pairs)."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 100, size=(n_units, n_sites)).astype(float)
    keep = rng.random((n_units, n_sites)) < density
    keep[np.arange(n_units), cost.argmin(axis=1)] = True
    unit, site = np.nonzero(keep)
    data = pmedian_data(unit.astype(np.int64), site.astype(np.int64), cost[unit, site], n_units, n_sites,
                        np.zeros(n_sites, np.int8), p, p)
    return data, np.where(keep, cost, np.inf)


def _brute_force(dense: np.ndarray, p: int) -> float:
    plans = itertools.combinations(range(dense.shape[1]), p)
    return min(float(dense[:, list(sites)].min(axis=1).sum()) for sites in plans)


@pytest.mark.parametrize("seed", range(6))
def test_lagrangian_bound_never_exceeds_the_optimum(seed: int) -> None:
    data, dense = _instance(seed)
    best = _brute_force(dense, data.p_max)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        lam = rng.uniform(0, 150, data.n_units)
        value, _, chosen = evaluate(data, lam)
        assert value <= best + 1e-9
        assert int(chosen.sum()) == data.p_max


@pytest.mark.parametrize("closer", ["tree", "radius", "both"])
@pytest.mark.parametrize("seed", range(6))
def test_engine_proves_the_brute_force_optimum(seed: int, closer: str) -> None:
    data, dense = _instance(seed)
    best = _brute_force(dense, data.p_max)
    tuning = replace(TUNING, pmedian_closer=closer)
    out = solve_pmedian(data, time.perf_counter() + 30, mip_gap=0.0, threads=1, tuning=tuning)
    assert out.value == pytest.approx(best)
    assert out.proven(data, 0.0), (out.value, out.bound, out.notes)
    assert out.bound <= best + 1e-6
    assert float(dense[:, out.is_open].min(axis=1).sum()) == pytest.approx(out.value)


@pytest.mark.parametrize("seed", range(8))
def test_fixing_keeps_every_plan_better_than_the_incumbent(seed: int) -> None:
    """Sites fixed against an incumbent one above the optimum leave the optimum reachable."""
    data, dense = _instance(seed, n_units=60, n_sites=12, p=3, density=0.8)
    best = _brute_force(dense, 3)
    st = start_state(data, dense.min(axis=1) * 3)
    ascend(data, st, best + 1, time.perf_counter() + 10, iterations=2_000, patience=20, overshoot=0.01,
           min_step=1e-4)
    st.bound, st.rho, st.chosen = evaluate(data, st.best_lam)
    fix_by_reduced_costs(data, st, best + 1)
    forced, allowed = np.flatnonzero(data.state == OPEN), np.flatnonzero(data.state != CLOSED)
    free = [s for s in allowed if s not in forced]
    values = [float(dense[:, [*forced, *rest]].min(axis=1).sum())
              for rest in itertools.combinations(free, 3 - len(forced))]
    assert min(values) == pytest.approx(best)


def test_runs_repeat_exactly() -> None:
    plans = []
    for _ in range(2):
        data, _ = _instance(3, n_units=80, n_sites=30, p=6)
        out = solve_pmedian(data, time.perf_counter() + 30, mip_gap=0.0, threads=1)
        plans.append((out.is_open.tolist(), out.value))
    assert plans[0] == plans[1]


def _tables(dense: np.ndarray, p: int, extra_target: dict[str, object] | None = None
            ) -> tuple[dict[str, object], pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    i, s = np.nonzero(np.isfinite(dense))
    targets: list[dict[str, object]] = [{"kind": "count", "facility": "median", "min": p, "max": p}]
    if extra_target is not None:
        targets.append(extra_target)
    doc = {"format": 1, "name": "pmedian test", "demand": {"id": "id"}, "sites": {"id": "id"},
           "facility_types": {"median": {"radius_m": 1000.0}}, "targets": targets,
           "objective": "min_distance", "min_distance": {"weight": "units"},
           "solver": {"backend": "highs", "time_limit_s": 20, "mip_gap": 0.0}}
    units = pd.DataFrame({"id": np.arange(dense.shape[0])})
    sites = pd.DataFrame({"id": np.arange(dense.shape[1])})
    return doc, units, sites, pd.DataFrame({"demand_id": i, "site_id": s, "distance": dense[i, s]})


def test_distance_phase_of_a_scenario_is_planned_by_the_engine_and_checked() -> None:
    _, dense = _instance(5, n_units=50, n_sites=15, p=4)
    result = solve_tables(*_tables(dense, 4))
    phase = result.solution.phase("distance")
    assert phase is not None and phase.result.backend == "pmedian"
    assert result.status == "optimal"
    assert result.checked is not None
    assert float(sum(result.checked.distance.values())) == pytest.approx(_brute_force(dense, 4))
    assert phase.result.bound == pytest.approx(_brute_force(dense, 4))


def test_a_distance_phase_with_other_rows_goes_to_the_backend() -> None:
    """A coverage target is not part of a p-median: the chosen backend plans the phase."""
    _, dense = _instance(6, n_units=30, n_sites=10, p=3)
    coverage = {"kind": "coverage", "facility": "median", "min_share": 0.5}
    result = solve_tables(*_tables(dense, 3, coverage))
    phase = result.solution.phase("distance")
    assert phase is not None and phase.result.backend != "pmedian"


def test_a_short_limit_is_honoured_with_a_valid_bound() -> None:
    """An instance the engine cannot prove in 1 s: it returns near the limit, bound below plan."""
    data, _ = _instance(21, n_units=3_000, n_sites=600, p=40, density=0.3)
    t0 = time.perf_counter()
    out = solve_pmedian(data, t0 + 1.0, mip_gap=0.0, threads=1)
    elapsed = time.perf_counter() - t0
    assert elapsed < 3.0, elapsed   # a step or a pass in flight may finish after the limit
    assert not out.proven(data, 0.0)   # random costs leave a gap: the whole limit is used
    assert elapsed >= 1.0
    assert np.isfinite(out.bound) and 0 < out.bound <= out.value + 1e-6
    assert out.value < 3_000 * 100   # every unit served (no unserved-unit penalty)
    assert int(out.is_open.sum()) == 40


def test_a_p_median_no_plan_can_serve_goes_to_the_backend_which_says_infeasible() -> None:
    """Two units far apart, each reaching only its own site, and one facility: no plan serves both."""
    dense = np.array([[1.0, np.inf], [np.inf, 1.0], [2.0, 3.0]])
    t0 = time.perf_counter()
    result = solve_tables(*_tables(dense, 1))
    assert result.status == "infeasible"
    assert time.perf_counter() - t0 < 15   # the engine did not spend the limit first
