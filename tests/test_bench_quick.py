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
from bench.orlib import benchmarks_dir, last_wins_edges, read_cap, read_capopt

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
    """OR-Library's rule: a pair listed twice keeps the cost read last, in either direction
    (pmed1 then gives 5819, its optimum, in the quick cases above; the minimum would give 5718)."""
    edges = np.array([[1, 2, 30], [2, 3, 46], [2, 1, 10], [3, 2, 50], [1, 2, 40]])
    a, b, c = last_wins_edges(edges, 3)
    assert sorted(zip(a.tolist(), b.tolist(), c.tolist())) == [(0, 1, 40.0), (1, 2, 50.0)]


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
