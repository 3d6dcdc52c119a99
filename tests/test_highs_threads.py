"""HiGHS in one process asked for different thread counts (an API worker solving one scenario
with 2 threads, the next with 1; window search's 1-thread windows after a 2-thread solve)."""

from __future__ import annotations

from optimizer.solvers.base import SolveOptions, Status
from optimizer.solvers.registry import run_backend
from tests.test_lns import _city_model


def test_highs_solves_again_after_the_thread_count_changes() -> None:
    milp = _city_model("lscp", 1000, 200)
    objectives = []
    for threads in (2, 1, 2):
        result = run_backend("highs", milp, SolveOptions(time_limit_s=30, threads=threads, mip_gap=0.0))
        assert result.status == Status.OPTIMAL, f"threads={threads}: {result.native_status}"
        objectives.append(result.objective)
    assert objectives[0] == objectives[1] == objectives[2]
