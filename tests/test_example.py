"""The shipped example must solve unchanged to its known least cost, with every backend."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer import solve_file

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "example" / "scenario.json"
KNOWN_LEAST_COST = 33_056_579


@pytest.mark.parametrize("backend", ["highs", "cpsat", "pulp:CBC"])
def test_example_least_total_cost_is_known_optimum_with_each_backend(backend: str) -> None:
    result = solve_file(EXAMPLE, backend=backend, mip_gap=0.0)
    assert result.status == "optimal"
    assert result.checked is not None and result.all_targets_met
    assert result.checked.cost["total"] == pytest.approx(KNOWN_LEAST_COST, abs=0.5)


def test_cli_solves_example_writes_checked_plan_and_exits_zero(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(EXAMPLE), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert plan["status"] == "optimal"
    assert plan["cost"]["total"] == pytest.approx(KNOWN_LEAST_COST, abs=0.5)
    assert plan["objective"] == pytest.approx(KNOWN_LEAST_COST, abs=0.5)
    assert plan["gap"] == pytest.approx(0.0, abs=1e-4)
    assert all(t["met"] for t in plan["targets"])
    # Every facility sits at a site that allows its type or already hosts it.
    sites = json.loads((EXAMPLE.parent / "sites.geojson").read_text(encoding="utf-8"))
    allowed = {f["properties"]["id"]: f["properties"] for f in sites["features"]}
    for facility in plan["facilities"]:
        props = allowed[facility["site"]]
        assert facility["type"] in props["allowed"].split(",") or facility["type"] in props["existing"]
    assert "Targets" in run.stdout and "optimal" in run.stdout


def test_cli_runs_highs_and_cpsat_in_one_invocation(tmp_path: Path) -> None:
    """highspy and ortools clash in one process; the registry isolates the second one."""
    code = (
        "from optimizer import solve_file\n"
        f"a = solve_file({str(EXAMPLE)!r}, backend='highs', mip_gap=0.0)\n"
        f"b = solve_file({str(EXAMPLE)!r}, backend='cpsat', mip_gap=0.0)\n"
        "print(a.checked.cost['total'], b.checked.cost['total'])\n"
        "print(b.solution.phases[-1].result.notes)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    first, second = run.stdout.splitlines()[0].split()
    assert float(first) == float(second) == KNOWN_LEAST_COST
    assert "separate process" in run.stdout
