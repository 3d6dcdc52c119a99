"""The scenario service end to end: a real uvicorn process with 2 solve workers, driven over HTTP with httpx.

One server (and one fresh temporary data directory and SQLite job store) for this module:
starting it, with its workers importing the engine, costs more than all its tiny solves.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyogrio
import pytest
from api_helpers import EXAMPLE, Server, example_inline, slow_scenario, start_server, tiny_scenario, wait_job

EXAMPLE_TOTAL_CNY = 33_056_579   # SCENARIO_FORMAT.md: the example's least total cost


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("api-jobs") / "data", workers=2,
                           env={"ELDERCARE_MAX_TIME_LIMIT_S": "120"})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def example_job(server: Server) -> dict:
    """The shipped example, its layers inlined, solved by the service."""
    with server.client() as client:
        response = client.post("/v1/scenarios", json=example_inline())
        assert response.status_code == 202, response.text
        assert response.headers["location"] == f"/v1/jobs/{response.json()['id']}"
        return wait_job(client, response.json()["id"], timeout_s=90)


def test_example_inlined_solves_to_its_known_least_cost(example_job: dict) -> None:
    assert example_job["status"] == "done", example_job
    result = example_job["result"]
    assert result["solver_status"] == "optimal" and result["all_targets_met"]
    assert result["objective"] == pytest.approx(EXAMPLE_TOTAL_CNY, abs=1)
    assert result["gap"] is not None and result["gap"] <= 1e-4
    assert {"plan.json", "plan.geojson", "plan.gpkg", "map.html"} <= set(result["artefacts"])


def test_every_artefact_of_the_example_is_served_and_consistent(server: Server, example_job: dict,
                                                                tmp_path: Path) -> None:
    with server.client() as client:
        links = example_job["links"]
        plan = client.get(links["plan"]).raise_for_status().json()
        geojson = client.get(links["plan.geojson"]).raise_for_status()
        gpkg = client.get(links["plan.gpkg"]).raise_for_status()
        html = client.get(links["map.html"]).raise_for_status()
    assert plan["status"] == "optimal" and plan["cost"]["total"] == pytest.approx(EXAMPLE_TOTAL_CNY, abs=1)
    assert all(target["met"] for target in plan["targets"]) and plan["violations"] == []
    opened = {(f["site"], f["type"]) for f in plan["facilities"]}

    assert geojson.headers["content-type"].startswith("application/geo+json")
    features = geojson.json()["features"]
    assert {(f["properties"]["site"], f["properties"]["type"]) for f in features} == opened
    lons = [f["geometry"]["coordinates"][0] for f in features]
    assert all(100 < lon < 130 for lon in lons)   # RFC 7946: lon/lat, not UTM metres

    path = tmp_path / "plan.gpkg"
    path.write_bytes(gpkg.content)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"facilities", "demand", "zones", "targets", "plan_info"} <= layers
    table = pyogrio.read_dataframe(path, layer="facilities")
    assert set(zip(table["site"], table["type"])) == opened

    assert html.headers["content-type"].startswith("text/html")
    assert html.text.lstrip().lower().startswith("<!doctype html") and "Content-Security-Policy" in html.text


def test_example_with_uploaded_layers_gives_the_same_plan(server: Server) -> None:
    scenario = json.loads((EXAMPLE / "scenario.json").read_text(encoding="utf-8"))
    with server.client() as client:
        upload = client.post("/v1/files", files=[
            ("files", ("demand.geojson", (EXAMPLE / "demand.geojson").read_bytes(), "application/geo+json")),
            ("files", ("sites.geojson", (EXAMPLE / "sites.geojson").read_bytes(), "application/geo+json"))])
        assert upload.status_code == 201, upload.text
        paths = {f["name"]: f["path"] for f in upload.json()["files"]}
        scenario["demand"]["path"], scenario["sites"]["path"] = paths["demand.geojson"], paths["sites.geojson"]
        accepted = client.post("/v1/scenarios", json=scenario)
        assert accepted.status_code == 202, accepted.text
        job = wait_job(client, accepted.json()["id"], timeout_s=90)
    assert job["status"] == "done", job
    assert job["result"]["objective"] == pytest.approx(EXAMPLE_TOTAL_CNY, abs=1)


def test_twenty_concurrent_submissions_all_complete_with_checked_plans(server: Server) -> None:
    cases = [tiny_scenario(k) for k in range(20)]
    with server.client() as client, ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda case: client.post("/v1/scenarios", json=case[0]), cases))
        assert [a.status_code for a in answers] == [202] * 20, [a.text for a in answers if a.status_code != 202]
        ids = [a.json()["id"] for a in answers]
        assert len(set(ids)) == 20
        jobs = [wait_job(client, job_id, timeout_s=90) for job_id in ids]
        plans = [client.get(job["links"]["plan"]).raise_for_status().json() for job in jobs]
    for (scenario, least_cny), job, plan in zip(cases, jobs, plans):
        assert job["status"] == "done" and job["name"] == scenario["name"], job
        assert plan["scenario"] == scenario["name"] and plan["status"] == "optimal"
        assert plan["cost"]["total"] == pytest.approx(least_cny)
        assert sorted(f["site"] for f in plan["facilities"]) == ["S0", "S1", "S2"]
        assert all(target["met"] for target in plan["targets"]) and plan["violations"] == []


def test_sweep_gives_the_frontier_and_the_least_sufficient_budget(server: Server) -> None:
    scenario, _ = tiny_scenario(0)   # every target needs all three sites: 300,000 yuan of capital
    with server.client() as client:
        accepted = client.post("/v1/sweeps", json={"scenario": scenario, "budgets": [100_000, 200_000],
                                                   "elastic": True})
        assert accepted.status_code == 202, accepted.text
        job = wait_job(client, accepted.json()["id"], kind="sweeps", timeout_s=90)
        assert job["status"] == "done", job
        frontier = client.get(job["links"]["frontier"]).raise_for_status().json()
        csv = client.get(job["links"]["frontier.csv"]).raise_for_status()
        png = client.get(job["links"]["frontier.png"]).raise_for_status()
        assert client.get(f"/v1/jobs/{job['id']}").json()["kind"] == "sweep"
        assert client.get(f"/v1/jobs/{job['id']}/plan").status_code == 404   # a sweep has no single plan
    assert frontier["least_sufficient"]["capital"] == pytest.approx(300_000)
    budgets = [row["budget"] for row in frontier["levels"]]
    assert budgets == [100_000, 200_000, 300_000]
    covered = [row["coverage"] for row in frontier["levels"]]
    assert covered == sorted(covered) and frontier["levels"][-1]["targets_met"]
    assert len(csv.text.strip().splitlines()) == 4 and png.content.startswith(b"\x89PNG")


def test_a_phased_sweep_varies_one_years_budget_and_names_the_missing_choice(server: Server) -> None:
    scenario, _ = tiny_scenario(1)
    scenario |= {"years": [2025, 2026]}
    scenario["budget"] = {"capital_by_year": {"2025": 400_000, "2026": 400_000}}
    with server.client() as client:
        refused = client.post("/v1/sweeps", json={"scenario": scenario, "budgets": [200_000, 400_000]})
        assert refused.status_code == 422, refused.text
        assert "year/scale_years" in refused.text   # the request's own field names, not the CLI's flags
        accepted = client.post("/v1/sweeps", json={"scenario": scenario, "budgets": [200_000, 400_000],
                                                   "year": 2025})
        assert accepted.status_code == 202, accepted.text
        job = wait_job(client, accepted.json()["id"], kind="sweeps", timeout_s=90)
        assert job["status"] == "done", job
        frontier = client.get(job["links"]["frontier"]).raise_for_status().json()
    assert any("2025's capital cap" in note for note in frontier["notes"])
    budgets = [row["budget"] for row in frontier["levels"]]
    assert {200_000, 400_000} <= set(budgets)
    # targets hold in the last year: 2025 can spend nothing, and that is the least sufficient budget
    assert frontier["least_sufficient"]["budget"] == 0 and budgets[0] == 0


def test_cancel_stops_a_running_job_and_drops_a_queued_one(server: Server) -> None:
    with server.client() as client:
        running = [client.post("/v1/scenarios", json=slow_scenario(60)).json()["id"] for _ in range(2)]
        queued = client.post("/v1/scenarios", json=tiny_scenario(99)[0]).json()["id"]
        for job_id in running:
            wait_job(client, job_id, until=("running",), timeout_s=30)
        dropped = client.post(f"/v1/jobs/{queued}/cancel").raise_for_status().json()
        assert dropped["status"] == "cancelled"
        for job_id in running:
            asked = client.post(f"/v1/jobs/{job_id}/cancel").raise_for_status().json()
            assert asked["cancel_requested"] or asked["status"] == "cancelled"
        stopped = [wait_job(client, job_id, timeout_s=15) for job_id in running]
        assert [job["status"] for job in stopped] == ["cancelled", "cancelled"]
        assert client.get(f"/v1/jobs/{running[0]}/plan").status_code == 409


def test_progress_is_shown_while_running_and_time_limit_is_capped(server: Server) -> None:
    with server.client() as client:
        job_id = client.post("/v1/scenarios", json=slow_scenario(1000)).json()["id"]
        job = wait_job(client, job_id, until=("running",), timeout_s=30)
        assert job["time_limit_s"] == 120
        assert any("capped at 120 s by the server" in note for note in job["notes"])
        deadline = time.monotonic() + 30
        while job["status"] == "running" and (job["progress"] or {}).get("stage") != "solve":
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
            job = client.get(f"/v1/jobs/{job_id}").json()
        assert job["progress"]["stage"] == "solve" and job["progress"]["time_limit_s"] == 120
        client.post(f"/v1/jobs/{job_id}/cancel")
        assert wait_job(client, job_id, timeout_s=15)["status"] == "cancelled"


def test_bad_geometry_is_refused_at_submission_naming_the_feature(server: Server) -> None:
    """The layers are read when the scenario is submitted: a line where a point belongs is a 422 naming
    the feature, and no job is queued to fail later."""
    scenario, _ = tiny_scenario(1)
    scenario["demand"]["features"]["features"][2]["geometry"] = {"type": "LineString",
                                                                 "coordinates": [[116.3, 39.9], [116.31, 39.91]]}
    with server.client() as client:
        response = client.post("/v1/scenarios", json=scenario)
    assert response.status_code == 422, response.text
    assert any("D2" in p["location"] + p["message"] for p in response.json()["problems"]), response.text


def test_unexpected_error_is_a_500_with_an_id_that_the_server_log_has(server: Server, example_job: dict) -> None:
    html = server.data_dir / "jobs" / example_job["id"] / "map.html"
    saved = html.read_bytes()
    html.unlink()
    html.mkdir()   # a result the server cannot read: an internal error, not the client's
    try:
        with server.client() as client:
            response = client.get(example_job["links"]["map.html"])
    finally:
        shutil.rmtree(html)
        html.write_bytes(saved)
    assert response.status_code == 500
    body = response.json()
    assert body["error_id"] and body["error_id"] in body["detail"]
    assert "Traceback" not in response.text and "File \"" not in response.text
    assert f"internal error {body['error_id']}" in server.log()
