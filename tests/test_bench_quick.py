"""The quick benchmark set (`python -m bench correctness --quick`) reproduces every known optimum.

pmed1-5, cap71-74 (UFLP and multi-source CFLP), scp41, the Swain 55 LSCP/MCLP table and SJC324,
solved through `optimizer.solve_tables` exactly as the benchmark command does.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.cases import quick_cases
from bench.correctness import run_case
from bench.instances import Case
from bench.orlib import benchmarks_dir, read_cap, read_capopt, read_pmed

DATA = benchmarks_dir()
pytestmark = pytest.mark.skipif(not (DATA / "orlib_pmed").is_dir(),
                                reason=f"benchmark data not found at {DATA} (set ELDERCARE_BENCHMARKS)")
CASES = quick_cases() if (DATA / "orlib_pmed").is_dir() else []


@pytest.mark.parametrize("case", CASES, ids=[f"{c.family}-{c.name}" for c in CASES])
def test_quick_case_reproduces_the_known_optimum(case: Case) -> None:
    row = run_case(case, "highs")
    assert row.status == "optimal", row
    assert row.match, f"{case.name}: known {case.known}, ours {row.ours}"


def test_pmed_duplicate_edges_last_cost_wins() -> None:
    """pmed1 repeats vertex pairs with other costs; OR-Library keeps the last one read."""
    tokens = (DATA / "orlib_pmed" / "pmed1.txt").read_text(encoding="utf-8").split()
    edges = np.array(tokens[3:], dtype=np.int64).reshape(-1, 3)
    pair = np.sort(edges[:, :2], axis=1)
    _, first, counts = np.unique(pair, axis=0, return_index=True, return_counts=True)
    dup = first[counts > 1][0]
    i, j = pair[dup] - 1
    last = edges[np.flatnonzero((pair == pair[dup]).all(axis=1))[-1], 2]
    assert read_pmed(DATA / "orlib_pmed" / "pmed1.txt").dist[i, j] <= last


def test_capacity_word_and_capopt_table() -> None:
    """capa's capacity field is the word `capacity`; capopt lists capa at each Table 1 capacity."""
    capa = read_cap(DATA / "orlib_cap" / "capa.txt")
    assert np.isnan(capa.capacity).all() and capa.cost.shape == (100, 1000)
    table = read_capopt(DATA / "orlib_cap" / "capopt.txt")
    assert table[("capa", 8000.0)] == pytest.approx(19240822.449)
    assert table[("cap41", None)] == pytest.approx(1040444.375)
    assert sum(1 for name, cap in table if cap is None) == 37


def test_benchmarks_dir_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("ELDERCARE_BENCHMARKS", str(tmp_path))
    assert str(benchmarks_dir()) == str(tmp_path)
