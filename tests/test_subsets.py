"""Subset pairs of sparse rows against a brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from optimizer.model.subsets import subset_pairs


@pytest.mark.parametrize("seed", range(20))
def test_subset_pairs_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_rows, n_cols = int(rng.integers(1, 40)), int(rng.integers(1, 12))
    dense = rng.random((n_rows, n_cols)) < rng.uniform(0.05, 0.6)
    dense[rng.integers(0, n_rows)] = dense[rng.integers(0, n_rows)]   # a duplicate row
    B = sp.csr_array(dense.astype(np.float64))
    a, b = subset_pairs(B)
    found = set(zip(a.tolist(), b.tolist()))
    sets = [frozenset(np.flatnonzero(row)) for row in dense]
    expected = {(i, j) for i in range(n_rows) for j in range(n_rows)
                if i != j and sets[i] and sets[i] <= sets[j]}
    assert found == expected
