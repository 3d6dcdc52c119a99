"""Nothing accepted is lost: jobs survive a graceful stop, and a SIGKILL mid-solve, of the server.

Real uvicorn processes, one after another on the same fresh temporary data directory and SQLite
job store (one sequence: each server start costs seconds).
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from api_helpers import Server, slow_scenario, start_server, tiny_scenario, wait_job


def _wait_solving(client: httpx.Client, job_id: str) -> dict:
    job = wait_job(client, job_id, until=("running",), timeout_s=30)
    deadline = time.monotonic() + 30
    while (job["progress"] or {}).get("stage") != "solve":
        assert job["status"] == "running" and time.monotonic() < deadline, job
        time.sleep(0.1)
        job = client.get(f"/v1/jobs/{job_id}").json()
    return job


def _restart(data_dir: Path, previous: Server, *, kill: bool) -> Server:
    if kill:
        previous.kill()   # SIGKILL to the server, its worker and the solve process at once
    else:
        previous.stop()   # SIGTERM: the worker stops its solve and puts the job back in the queue
    return start_server(data_dir, workers=1)


def test_jobs_survive_a_graceful_stop_and_a_sigkill_mid_solve(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(data_dir, workers=1)
    try:
        with server.client() as client:
            slow = client.post("/v1/scenarios", json=slow_scenario(4.0)).json()["id"]
            queued = client.post("/v1/scenarios", json=tiny_scenario(3)[0]).json()["id"]
            _wait_solving(client, slow)
        server = _restart(data_dir, server, kill=False)
        with server.client() as client:
            handed_back = client.get(f"/v1/jobs/{slow}").json()
            assert handed_back["attempts"] <= 1 and handed_back["status"] in ("queued", "running")
            job = _wait_solving(client, slow)
            time.sleep(1.0)   # well inside the 4 s solve
        assert job["status"] == "running" and job["attempts"] == 1   # the graceful stop did not count
        server = _restart(data_dir, server, kill=True)
        with server.client() as client:
            finished = wait_job(client, slow, timeout_s=60)
            other = wait_job(client, queued, timeout_s=30)
            plan = client.get(finished["links"]["plan"]).raise_for_status().json()
    finally:
        server.stop()
    assert finished["status"] == "done" and finished["attempts"] == 2, finished
    assert any("attempt 1 was interrupted" in note for note in finished["notes"])
    assert finished["result"]["solver_status"] in ("optimal", "time_limit_feasible")
    assert plan["facilities"] and plan["violations"] == [] and plan["cost"]["capital"] <= 12_000_000
    assert other["status"] == "done" and other["attempts"] == 1
