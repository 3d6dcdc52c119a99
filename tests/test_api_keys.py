"""API keys end to end: who may call, who sees what, deleting, retention, quotas, the `eldercare keys` commands.

Real `eldercare serve` processes, each on a fresh temporary data directory and SQLite job store:
one without solve workers (submissions stay queued) for keys, isolation and quotas, and one with
a worker, a 1-day retention and a purge every 0.3 s for what needs finished jobs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import REPO, Server, bearer, create_key, slow_scenario, start_server, tiny_scenario, wait_job

JOB_PATHS = ("/v1/jobs/{id}", "/v1/jobs/{id}/plan", "/v1/jobs/{id}/map.html", "/v1/jobs/{id}/plan.gpkg")


def _layer(size: int = 0) -> bytes:
    """The demand layer of `tiny_scenario` as a GeoJSON file, padded with blanks to `size` bytes."""
    return json.dumps(tiny_scenario(0)[0]["demand"]["features"]).encode().ljust(size)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ELDERCARE_")} | (env or {})
    return subprocess.run([sys.executable, "-m", "api", *args], capture_output=True, text=True, cwd=REPO,
                          env=environment | {"COLUMNS": "200"}, timeout=60, check=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("api-keys") / "data", workers=0)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def solving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("api-keys-solving") / "data", workers=1,
                           env={"ELDERCARE_RETENTION_DAYS": "1", "ELDERCARE_PURGE_EVERY_S": "0.3"})
    yield running
    running.stop()


def _upload(client: httpx.Client, name: str = "demand.geojson", content: bytes | None = None) -> httpx.Response:
    return client.post("/v1/files", files=[("files", (name, _layer() if content is None else content,
                                                      "application/geo+json"))])


def test_requests_without_a_valid_key_get_401_with_a_challenge(server: Server) -> None:
    malformed, unknown = "not-a-key", f"eck_{'0' * 12}_{'A' * 43}"
    cases = [{}, bearer(malformed), bearer(unknown), {"X-API-Key": unknown}, {"Authorization": f"Basic {unknown}"},
             bearer(server.key or "") | {"X-API-Key": create_key(server.data_dir, "another")}]
    for headers in cases:
        with server.client(headers=headers) as client:
            for method, path in (("GET", "/v1/jobs"), ("POST", "/v1/scenarios"), ("GET", "/v1/presets"),
                                 ("GET", "/v1/files"), ("GET", "/v1/jobs/0123456789abcdef")):
                response = client.request(method, path, json={} if method == "POST" else None)
                assert response.status_code == 401, (headers, method, path, response.text)
                assert response.headers["www-authenticate"].startswith("Bearer")
                assert "API key" in response.json()["detail"]


def test_a_key_works_in_either_header(server: Server) -> None:
    assert server.key is not None
    for headers in (bearer(server.key), {"X-API-Key": server.key}, bearer(server.key) | {"X-API-Key": server.key}):
        with server.client(headers=headers) as client:
            assert client.get("/v1/jobs").status_code == 200


def test_health_needs_no_key_and_tells_nothing_of_jobs(server: Server) -> None:
    with server.client() as client:
        job_id = client.post("/v1/scenarios", json=tiny_scenario(0)[0]).json()["id"]
    response = httpx.get(f"{server.url}/v1/health")
    assert response.status_code == 200
    assert set(response.json()) == {"status", "version", "workers", "max_time_limit_s"}
    assert job_id not in response.text and "queued" not in response.text


def test_two_keys_never_see_each_others_jobs_and_uploads(server: Server) -> None:
    other = create_key(server.data_dir, "another department")
    with server.client() as mine, server.client(headers=bearer(other)) as theirs:
        job_id = mine.post("/v1/scenarios", json=tiny_scenario(1)[0]).json()["id"]
        sweep_id = mine.post("/v1/sweeps", json={"scenario": tiny_scenario(2)[0], "levels": 2}).json()["id"]
        upload_id = _upload(mine).json()["id"]
        for path in JOB_PATHS:
            assert theirs.get(path.format(id=job_id)).status_code == 404, path
        for path in ("/v1/sweeps/{id}", "/v1/sweeps/{id}/frontier", "/v1/jobs/{id}"):
            assert theirs.get(path.format(id=sweep_id)).status_code == 404, path
        assert theirs.post(f"/v1/jobs/{job_id}/cancel").status_code == 404
        assert theirs.post(f"/v1/sweeps/{sweep_id}/cancel").status_code == 404
        assert theirs.delete(f"/v1/jobs/{job_id}").status_code == 404
        assert theirs.delete(f"/v1/sweeps/{sweep_id}").status_code == 404
        assert theirs.get(f"/v1/files/{upload_id}").status_code == 404
        assert theirs.delete(f"/v1/files/{upload_id}").status_code == 404
        scenario = tiny_scenario(3)[0] | {"demand": {"path": f"files/{upload_id}/demand.geojson"}}
        refused = theirs.post("/v1/scenarios", json=scenario)
        assert refused.status_code == 422 and refused.json()["problems"][0]["location"] == "demand.path"
        assert "was not uploaded" in refused.json()["problems"][0]["message"]
        mine_listed = {job["id"] for job in mine.get("/v1/jobs").json()["jobs"]}
        theirs_listed = theirs.get("/v1/jobs").json()["jobs"]
        assert {job_id, sweep_id} <= mine_listed and theirs_listed == []
        assert theirs.get("/v1/files").json()["uploads"] == []
        assert upload_id in {upload["id"] for upload in mine.get("/v1/files").json()["uploads"]}
        assert mine.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"   # untouched by the other key
        assert mine.get(f"/v1/files/{upload_id}").status_code == 200


def test_listing_filters_by_kind_and_status(server: Server) -> None:
    with server.client() as client:
        solve = client.post("/v1/scenarios", json=tiny_scenario(4)[0]).json()["id"]
        sweep = client.post("/v1/sweeps", json={"scenario": tiny_scenario(5)[0], "budgets": [1e5]}).json()["id"]
        client.post(f"/v1/jobs/{solve}/cancel").raise_for_status()
        cancelled = {job["id"] for job in client.get("/v1/jobs", params={"status": "cancelled"}).json()["jobs"]}
        sweeps = client.get("/v1/jobs", params={"kind": "sweep"}).json()["jobs"]
        newest = client.get("/v1/jobs", params={"limit": 1}).json()["jobs"]
    assert solve in cancelled and sweep not in cancelled
    assert {job["kind"] for job in sweeps} == {"sweep"} and sweep in {job["id"] for job in sweeps}
    assert [job["id"] for job in newest] == [sweep]


def test_delete_removes_a_queued_job_and_an_upload_with_its_files(server: Server) -> None:
    with server.client() as client:
        upload = _upload(client).json()
        folder = server.data_dir / "files" / upload["id"]
        scenario = tiny_scenario(6)[0] | {"demand": {"path": upload["files"][0]["path"],
                                                     "weights": {"elderly": "pop60"}}}
        accepted = client.post("/v1/scenarios", json=scenario)
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["id"]
        conflict = client.delete(f"/v1/files/{upload['id']}")   # a queued job names it
        assert conflict.status_code == 409 and job_id in conflict.json()["detail"]
        assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
        assert client.get(f"/v1/jobs/{job_id}").status_code == 404
        assert folder.is_dir()
        assert client.delete(f"/v1/files/{upload['id']}").status_code == 204
        assert not folder.exists()
        assert client.get(f"/v1/files/{upload['id']}").status_code == 404
        assert client.delete(f"/v1/files/{upload['id']}").status_code == 404


def test_options_lists_every_method_and_an_unknown_one_is_405(server: Server) -> None:
    with server.client() as client:
        job_id = client.post("/v1/scenarios", json=tiny_scenario(7)[0]).json()["id"]
        options = client.options(f"/v1/jobs/{job_id}")
        put = client.put(f"/v1/jobs/{job_id}", json={})
    assert options.status_code == 204 and options.headers["allow"] == "DELETE, GET, OPTIONS"
    assert put.status_code == 405 and put.headers["allow"] == "DELETE, GET, OPTIONS"


def test_per_key_queue_quota_is_429_with_retry_after(server: Server) -> None:
    small = create_key(server.data_dir, "small queue", max_queued=2)
    with server.client(headers=bearer(small)) as client:
        answers = [client.post("/v1/scenarios", json=tiny_scenario(10 + k)[0]) for k in range(3)]
        assert [a.status_code for a in answers] == [202, 202, 429]
        assert answers[2].headers["retry-after"] == "30"
        assert "this key has 2 jobs queued already" in answers[2].json()["detail"]
        with server.client() as other:   # the server's queue is not full: another key still submits
            assert other.post("/v1/scenarios", json=tiny_scenario(13)[0]).status_code == 202
        client.post(f"/v1/jobs/{answers[0].json()['id']}/cancel").raise_for_status()
        assert client.post("/v1/scenarios", json=tiny_scenario(14)[0]).status_code == 202


def test_storage_quota_refuses_an_upload_beyond_it_with_507_and_keeps_nothing(server: Server) -> None:
    small = create_key(server.data_dir, "small storage", max_bytes=1024)
    with server.client(headers=bearer(small)) as client:
        first = _upload(client, content=_layer(1000))
        assert first.status_code == 201 and first.json()["bytes"] == 1000
        before = set((server.data_dir / "files").iterdir())
        second = _upload(client, "sites.geojson", _layer(100))
        assert second.status_code == 507
        assert "1,000 bytes of uploads and results stored" in second.json()["detail"]
        assert "1,024 allowed" in second.json()["detail"]
        assert set((server.data_dir / "files").iterdir()) == before
        assert client.delete(f"/v1/files/{first.json()['id']}").status_code == 204
        assert _upload(client, "sites.geojson").status_code == 201


def test_a_revoked_key_gets_401_from_then_on(server: Server) -> None:
    created = _cli("keys", "create", "short-lived", "--data", str(server.data_dir))
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    with server.client(headers=bearer(key)) as client:
        assert client.get("/v1/jobs").status_code == 200
        key_id = key.split("_")[1]
        revoked = _cli("keys", "revoke", key_id, "--data", str(server.data_dir))
        assert revoked.returncode == 0 and f"key {key_id} (short-lived) revoked" in revoked.stdout
        assert client.get("/v1/jobs").status_code == 401


def test_keys_create_prints_the_key_once_and_list_never_shows_it(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    created = _cli("keys", "create", "city GIS portal", "--data", data, "--max-queued", "5", "--max-bytes", "4096")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("eck_") and len(created.stdout.splitlines()) == 1 and "shown only now" in created.stderr
    listed = _cli("keys", "list", "--data", data, "--json")
    rows = json.loads(listed.stdout)
    assert [(r["id"], r["name"], r["revoked"], r["max_queued"], r["max_bytes"]) for r in rows] == [
        (key.split("_")[1], "city GIS portal", None, 5, 4096)]
    table = _cli("keys", "list", "--data", data)
    assert "city GIS portal" in table.stdout and "active" in table.stdout and key.split("_")[2] not in table.stdout
    stored = sqlite3.connect(Path(data) / "jobs.sqlite3").execute("SELECT hash FROM keys").fetchone()[0]
    assert stored.startswith("sha256:") and key.split("_")[2] not in stored
    assert _cli("keys", "revoke", key.split("_")[1], "--data", data).returncode == 0
    assert json.loads(_cli("keys", "list", "--data", data, "--json").stdout)[0]["revoked"] is not None
    unknown = _cli("keys", "revoke", "0123456789ab", "--data", data)
    assert unknown.returncode == 2 and "no key with id '0123456789ab'" in unknown.stderr


def test_auth_off_is_refused_in_production_and_serve_exits_2(tmp_path: Path) -> None:
    run = _cli("serve", "--data", str(tmp_path / "data"),
               env={"ELDERCARE_AUTH": "off", "ELDERCARE_ENVIRONMENT": "production"})
    assert run.returncode == 2 and "ELDERCARE_AUTH=off" in run.stderr and "Traceback" not in run.stderr


def test_auth_off_serves_everyone_as_one_local_user(tmp_path: Path) -> None:
    local = start_server(tmp_path / "data", workers=0, env={"ELDERCARE_AUTH": "off"})
    try:
        assert local.key is None
        with local.client() as client:
            job_id = client.post("/v1/scenarios", json=tiny_scenario(0)[0]).json()["id"]
            assert [job["id"] for job in client.get("/v1/jobs").json()["jobs"]] == [job_id]
            assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
        spec = httpx.get(f"{local.url}/v1/openapi.json").json()
        assert "ELDERCARE_AUTH=off" in spec["info"]["description"]
    finally:
        local.stop()


def test_delete_removes_a_finished_job_with_its_results_and_a_running_one_is_409(solving: Server) -> None:
    with solving.client() as client:
        job = wait_job(client, client.post("/v1/scenarios", json=tiny_scenario(20)[0]).json()["id"])
        assert job["status"] == "done", job
        folder = solving.data_dir / "jobs" / job["id"]
        assert (folder / "plan.json").is_file()
        assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
        assert not folder.exists()
        for path in JOB_PATHS:
            assert client.get(path.format(id=job["id"])).status_code == 404, path
        assert job["id"] not in {j["id"] for j in client.get("/v1/jobs").json()["jobs"]}


def test_a_running_job_cannot_be_deleted_until_cancelled(solving: Server) -> None:
    with solving.client() as client:
        job_id = client.post("/v1/scenarios", json=slow_scenario(60)).json()["id"]
        wait_job(client, job_id, until=("running",), timeout_s=30)
        refused = client.delete(f"/v1/jobs/{job_id}")
        assert refused.status_code == 409 and f"POST /v1/jobs/{job_id}/cancel" in refused.json()["detail"]
        client.post(f"/v1/jobs/{job_id}/cancel").raise_for_status()
        assert wait_job(client, job_id, timeout_s=15)["status"] == "cancelled"
        assert client.delete(f"/v1/jobs/{job_id}").status_code == 204
        assert client.get(f"/v1/jobs/{job_id}").status_code == 404


def test_retention_purges_finished_jobs_older_than_it_with_their_results(solving: Server) -> None:
    with solving.client() as client:
        old, recent = (wait_job(client, client.post("/v1/scenarios", json=tiny_scenario(k)[0]).json()["id"])
                       for k in (21, 22))
        assert old["status"] == recent["status"] == "done"
        with sqlite3.connect(solving.data_dir / "jobs.sqlite3") as conn:
            conn.execute("UPDATE jobs SET finished_at = ? WHERE id = ?", (time.time() - 2 * 86_400, old["id"]))
        deadline = time.monotonic() + 10
        while client.get(f"/v1/jobs/{old['id']}").status_code != 404:
            assert time.monotonic() < deadline, "the expired job was not purged"
            time.sleep(0.2)
        assert not (solving.data_dir / "jobs" / old["id"]).exists()
        assert client.get(f"/v1/jobs/{recent['id']}").json()["status"] == "done"
        assert (solving.data_dir / "jobs" / recent["id"] / "plan.json").is_file()


def test_results_count_against_the_storage_quota(solving: Server) -> None:
    small = create_key(solving.data_dir, "small storage", max_bytes=1024)
    with solving.client(headers=bearer(small)) as client:
        job = wait_job(client, client.post("/v1/scenarios", json=tiny_scenario(23)[0]).json()["id"])
        assert job["status"] == "done"
        refused = client.post("/v1/scenarios", json=tiny_scenario(24)[0])
        assert refused.status_code == 507 and "storage quota is full" in refused.json()["detail"]
        assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
        assert client.post("/v1/scenarios", json=tiny_scenario(24)[0]).status_code == 202
