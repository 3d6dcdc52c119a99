"""Both ways of labelling independent parts (SciPy below the size threshold, compiled union-find
above it) give the same labels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from optimizer.model import components as comp
from optimizer.tuning import TUNING


@pytest.mark.parametrize("seed", range(5))
def test_scipy_and_compiled_labels_agree(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    A = sp.csr_array(sp.random(60, 80, density=0.02, random_state=seed, format="csr"))
    rows, cols = rng.random(60) < 0.8, rng.random(80) < 0.8
    monkeypatch.setattr(comp, "TUNING", replace(TUNING, components_compiled_nnz=10**9))
    by_scipy = comp.components(A, rows, cols)
    monkeypatch.setattr(comp, "TUNING", replace(TUNING, components_compiled_nnz=0))
    compiled = comp.components(A, rows, cols)
    assert np.array_equal(by_scipy[0], compiled[0]) and np.array_equal(by_scipy[1], compiled[1])
    assert by_scipy[1].max() > 0   # several parts: the test compares real partitions
