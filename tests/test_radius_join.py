"""Straight-line reach (the grid join of optimizer.reach.radius_join) against a brute-force reference.

The reference tests every (unit, site) pair of a small set with ``np.hypot`` and ``<= radius``,
as the k-d tree version did; the grid join must give the very same CSR arrays: same pairs in the
same order, bit-identical distances, explicit zeros kept.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from optimizer.reach.base import pairs_to_csr
from optimizer.reach.build import _radius_pairs
from optimizer.reach.radius_join import radius_join

UTM = np.array([500_000.0, 4_050_000.0])


def brute_force(pxy: np.ndarray, rows: np.ndarray, sxy: np.ndarray, cols: np.ndarray,
                radius: float) -> sp.csr_array:
    """Every pair tested, a block of rows at a time."""
    found = []
    step = max(1, 2_000_000 // max(len(cols), 1))
    for lo in range(0, len(rows), step):
        i = np.repeat(rows[lo:lo + step], len(cols))
        s = np.tile(cols, len(rows[lo:lo + step]))
        dist = np.hypot(*(pxy[i] - sxy[s]).T)
        keep = dist <= radius
        found.append((i[keep], s[keep], dist[keep]))
    i, s, dist = (np.concatenate(parts) for parts in zip(*found)) if found else (np.zeros(0, np.int64),) * 3
    return pairs_to_csr(i, s, dist.astype(np.float64), (len(pxy), len(sxy)))


def region(pxy: np.ndarray, sxy: np.ndarray) -> SimpleNamespace:
    return SimpleNamespace(demand=SimpleNamespace(xy=pxy, n=len(pxy)),
                           sites=SimpleNamespace(xy=sxy, n=len(sxy)))


def assert_same(got: sp.csr_array, want: sp.csr_array) -> None:
    assert got.shape == want.shape
    assert got.indptr.dtype == want.indptr.dtype and got.indices.dtype == want.indices.dtype
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    assert got.data.dtype == np.float64
    np.testing.assert_array_equal(got.data.view(np.int64), want.data.view(np.int64))


def check(pxy: np.ndarray, sxy: np.ndarray, radius: float, rows: np.ndarray | None = None,
          cols: np.ndarray | None = None) -> sp.csr_array:
    rows = np.arange(len(pxy)) if rows is None else rows
    cols = np.arange(len(sxy)) if cols is None else cols
    want = brute_force(pxy, rows, sxy, cols, radius)
    assert_same(_radius_pairs(region(pxy, sxy), rows, cols, radius), want)
    return want


def on_circles(rng: np.random.Generator, centres: np.ndarray, radius: float, n: int) -> np.ndarray:
    """Points at `radius` (in floating point: on, just inside or just outside) of random centres."""
    angle = rng.uniform(0, 2 * np.pi, n)
    angle[: n // 4] = rng.integers(0, 8, n // 4) * (np.pi / 4)   # on the axes and diagonals
    c = centres[rng.integers(0, len(centres), n)]
    return c + radius * np.column_stack([np.cos(angle), np.sin(angle)])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("radius", [1000.0, 2000.0, 3000.0, 137.5])
def test_random_points_with_points_on_the_circle_and_duplicates(seed: int, radius: float) -> None:
    rng = np.random.default_rng(seed)
    sxy = UTM + rng.uniform(0, 12_000, (150, 2))
    sxy[100:110] = sxy[0:10]                                        # duplicate sites
    pxy = np.vstack([UTM + rng.uniform(-500, 12_500, (250, 2)),
                     on_circles(rng, sxy, radius, 200),
                     sxy[rng.integers(0, len(sxy), 30)]])           # units standing on sites
    pxy = np.vstack([pxy, pxy[:40]])                                 # duplicate units
    rows = np.sort(rng.choice(len(pxy), len(pxy) * 2 // 3, replace=False))
    cols = np.sort(rng.choice(len(sxy), len(sxy) * 3 // 4, replace=False))
    want = check(pxy, sxy, radius, rows, cols)
    assert want.nnz > 0
    assert (want.data == 0).any()                                    # explicit zeros kept
    check(pxy, sxy, radius)


def test_blocks_of_points_on_several_threads_give_the_same_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    import optimizer.reach.radius_join as radius_join_module

    monkeypatch.setattr(radius_join_module, "_MIN_BLOCK", 1)
    monkeypatch.setattr(radius_join_module.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    rng = np.random.default_rng(5)
    sxy = UTM + rng.uniform(0, 5_000, (120, 2))
    pxy = np.vstack([UTM + rng.uniform(0, 5_000, (500, 2)), on_circles(rng, sxy, 700.0, 300), sxy[:20]])
    assert check(pxy, sxy, 700.0).nnz > 0


@pytest.mark.parametrize("radius", [1.0, 2.0, 5.0, np.sqrt(2.0), 0.5])
def test_integer_lattice_puts_many_pairs_exactly_on_the_radius_and_on_cell_edges(radius: float) -> None:
    g = np.arange(-6, 7, dtype=np.float64)
    lattice = np.column_stack([np.repeat(g, len(g)), np.tile(g, len(g))])
    pxy = UTM + lattice
    sxy = UTM + lattice[::3]
    want = check(pxy, sxy, radius)
    assert (want.data == radius).any() == (radius != 0.5)
    assert (want.data == 0).sum() == len(sxy)


@pytest.mark.parametrize("radius", [1000.0, 3000.0])
def test_many_pairs_at_the_radius_along_the_axes_at_random_offsets(radius: float) -> None:
    # Wherever the grid's cell edges fall, some of these pairs straddle them.
    rng = np.random.default_rng(11)
    sxy = UTM + rng.uniform(0, 32_000, (2000, 2))
    steps = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]) * radius
    pxy = (sxy[:, None, :] + steps[None, :, :]).reshape(-1, 2)
    want = check(pxy, sxy, radius)
    assert want.nnz >= len(pxy) // 4


def test_pythagorean_offsets_are_in_reach_at_exactly_the_radius() -> None:
    sxy = np.array([[0.0, 0.0], [1e5, 1e5]]) + UTM
    offsets = np.array([[3, 4], [-4, 3], [5, 0], [0, -5], [3, 4.000001], [0, 0]], dtype=np.float64)
    pxy = np.vstack([sxy[0] + offsets, sxy[1] + offsets])
    want = check(pxy, sxy, 5.0)
    assert want.nnz == 10 and (want.data == 5.0).sum() == 8


def test_tiny_radius_on_a_wide_region_and_a_radius_wider_than_the_region() -> None:
    rng = np.random.default_rng(7)
    sxy = UTM + rng.uniform(0, 1e6, (300, 2))
    pxy = np.vstack([UTM + rng.uniform(0, 1e6, (300, 2)), sxy[:50], sxy[:50] + np.array([1e-3, 0.0])])
    assert check(pxy, sxy, 1e-3).nnz >= 50
    assert check(pxy, sxy, 1e-9).nnz >= 50
    assert check(pxy[:60], sxy[:40], 5e6).nnz == 60 * 40


def test_all_points_in_one_place_and_single_points() -> None:
    pxy = np.tile(UTM, (5, 1))
    assert check(pxy, pxy[:3], 1.0).nnz == 15
    check(pxy[:1], pxy[:1] + np.array([1.0, 0.0]), 1.0)
    check(pxy[:1], pxy[:1] + np.array([1.0, 1e-9]), 1.0)


def test_empty_rows_or_columns_give_an_empty_matrix_of_the_full_shape() -> None:
    pxy, sxy = UTM + np.zeros((4, 2)), UTM + np.ones((3, 2))
    empty = np.zeros(0, np.int64)
    for rows, cols in ((empty, np.arange(3)), (np.arange(4), empty)):
        got = _radius_pairs(region(pxy, sxy), rows, cols, 10.0)
        assert got.shape == (4, 3) and got.nnz == 0
    indptr, indices, data = radius_join(pxy, empty, sxy, np.arange(3), 10.0, 4)
    assert indptr.tolist() == [0] * 5 and len(indices) == len(data) == 0


def test_units_not_listed_have_empty_rows_and_unlisted_sites_are_never_columns() -> None:
    rng = np.random.default_rng(3)
    pxy = UTM + rng.uniform(0, 100, (40, 2))
    sxy = UTM + rng.uniform(0, 100, (30, 2))
    rows, cols = np.arange(0, 40, 3), np.arange(1, 30, 2)
    got = check(pxy, sxy, 40.0, rows, cols)
    counts = np.diff(got.indptr)
    assert counts[np.setdiff1d(np.arange(40), rows)].sum() == 0
    assert np.isin(got.indices, cols).all()
