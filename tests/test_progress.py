"""Progress of a solve by stage: the engine's events, the CLI's lines on stderr, the API job's ``progress``.

The CLI runs as a real process with its output piped (not a terminal): plain lines on stderr,
the summary alone on stdout. The API test drives a real uvicorn server over HTTP.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from api_helpers import Server, slow_scenario, start_server, wait_job

from optimizer.model.milp import INTEGER, Milp
from optimizer.plan import solve, solve_file
from optimizer.progress import STAGES
from optimizer.scenario.format import load_scenario
from optimizer.solvers.base import SolveOptions
from optimizer.solvers.highs import HighsBackend
from tests.conftest import SHARED

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = SHARED / "scenario.json"


def test_solve_reports_each_stage_in_order_with_the_best_plan_in_the_planners_terms() -> None:
    events: list[dict[str, Any]] = []
    result = solve_file(EXAMPLE, progress=events.append)
    done = [e["stage"] for e in events if e["state"] == "done"]
    assert done == ["read", "reach", "model", "solve", "check"]
    starts = [e["stage"] for e in events if e["state"] == "start"]
    assert starts == done
    ended = [e for e in events if e["state"] == "update" and e.get("ended")]
    assert [e["phase"] for e in ended] == ["cost"]
    # the cost phase's last report is the plan's cost as the checker recomputes it (min_cost: yuan)
    assert ended[-1]["objective"] == pytest.approx(result.checked.cost["total"] if result.checked else None)
    model = next(e for e in events if e["stage"] == "model" and e["state"] == "done")
    assert model["variables"] == result.prepared.model.milp.n_vars


def test_coverage_phase_reports_coverage_not_minus_coverage() -> None:
    events: list[dict[str, Any]] = []
    scenario, base_dir = load_scenario(EXAMPLE)
    scenario = scenario.model_copy(update={"objective": "max_coverage"})
    result = solve(scenario, base_dir, progress=events.append)
    coverage = [e for e in events if e.get("phase") == "coverage" and e.get("ended")]
    assert coverage and coverage[-1]["objective"] > 0
    assert coverage[-1]["bound"] >= coverage[-1]["objective"] - 1e-6
    assert result.checked is not None


def _knapsack(n: int = 80) -> Milp:
    """A 0/1 multi-knapsack HiGHS needs a few nodes for: several improving plans on the way."""
    rng = np.random.default_rng(3)
    a = sp.csr_array(rng.integers(5, 50, size=(6, n)).astype(np.float64))
    return Milp(c=-rng.integers(10, 100, size=n).astype(np.float64), offset=0.0, lb=np.zeros(n), ub=np.ones(n),
                integrality=np.full(n, INTEGER, dtype=np.int8), A=a, row_lb=np.full(6, -np.inf),
                row_ub=np.full(6, 250.0))


def test_highs_reports_improving_plans_and_bounds_from_its_search() -> None:
    if "ortools" in sys.modules:   # an earlier test loaded OR-Tools, beside which highspy cannot load: run apart
        name = "test_highs_reports_improving_plans_and_bounds_from_its_search"
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::{name}"],
                             capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
        assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
        return
    seen: list[tuple[float | None, float | None]] = []
    result = HighsBackend().solve(_knapsack(), SolveOptions(time_limit_s=20, mip_gap=0.0, threads=1,
                                                            on_incumbent=lambda o, b: seen.append((o, b))))
    plans = [o for o, _ in seen if o is not None]
    assert plans and plans[-1] == pytest.approx(result.objective)
    assert all(later <= earlier + 1e-9 for earlier, later in itertools.pairwise(plans))   # minimising: improving
    bounds = [b for _, b in seen if b is not None]
    assert bounds and max(bounds) <= result.objective + 1e-6


def test_cli_solve_not_in_a_terminal_prints_stage_lines_on_stderr_only(tmp_path: Path) -> None:
    env = os.environ | {"PYTHONPATH": str(REPO), "COLUMNS": "100"}
    run = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(EXAMPLE), "--out", str(tmp_path),
                          "--formats", "csv"], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    for name in STAGES:
        assert any(f"] {name}: done in" in line for line in lines), (name, run.stderr)
    order = [next(k for k, line in enumerate(lines) if f"] {name}: done in" in line) for name in STAGES]
    assert order == sorted(order)
    assert any("solve: cost phase ended, best" in line for line in lines)
    assert "\x1b[" not in run.stderr, "plain lines, no terminal codes"
    assert "done in" not in run.stdout and "plan written to" in run.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("api-progress") / "data", workers=1)
    yield running
    running.stop()


def test_api_job_progress_goes_through_the_stages_with_the_best_plan(server: Server) -> None:
    with server.client() as client:
        job_id = client.post("/v1/scenarios", json=slow_scenario(6)).raise_for_status().json()["id"]
        wait_job(client, job_id, until=("running", "done"), timeout_s=60)
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + 90
        while (job := client.get(f"/v1/jobs/{job_id}").raise_for_status().json())["status"] == "running":
            assert time.monotonic() < deadline, job
            if job["progress"] is not None:
                seen.append(job["progress"])
            time.sleep(0.1)
    assert job["status"] == "done", job
    stages = [p["stage"] for p in seen]
    assert "solve" in stages
    in_solve = [p for p in seen if p["stage"] == "solve"]
    assert in_solve[0]["stages_done"] == ["read", "reach", "model"]
    assert in_solve[0]["time_limit_s"] == 6 and in_solve[0]["variables"] > 0
    # the solver's best plan and bound as they improve (weighted coverage here)
    best = [p for p in in_solve if p.get("objective") is not None]
    assert best and best[-1]["phase"] in ("coverage", "cost") and best[-1]["bound"] is not None
    # the stages run in order: a later poll never shows fewer stages done
    done_counts = [len(p["stages_done"]) for p in seen]
    assert done_counts == sorted(done_counts)
