"""What the service refuses: paths out of the data directory, oversize bodies, a full queue, bad scenarios.

One real uvicorn process for this module (fresh temporary data directory and SQLite job store),
with no solve workers (submissions stay queued) and small limits: 64 KiB bodies, 128 KiB
uploads, 3 queued jobs.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import REPO, Server, start_server, tiny_scenario
from pydantic import BaseModel

from optimizer.errors import ScenarioError
from optimizer.scenario.format import parse_scenario

LIMITS = {"ELDERCARE_MAX_BODY_BYTES": str(64 * 1024), "ELDERCARE_MAX_UPLOAD_BYTES": str(128 * 1024),
          "ELDERCARE_MAX_QUEUED_JOBS": "3", "ELDERCARE_RETRY_AFTER_S": "7"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("api-safety") / "data", workers=0, env=LIMITS)
    yield running
    running.stop()


@pytest.fixture()
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as opened:
        yield opened


def _with_layer_path(path: str) -> dict:
    scenario = copy.deepcopy(tiny_scenario(0)[0])
    scenario["demand"] = {"path": path, "weights": {"elderly": "pop60"}}
    return scenario


@pytest.mark.parametrize("path", ["../../../etc/passwd", "/etc/passwd", "files/../jobs.sqlite3",
                                  "files/x/../../../outside.geojson", "jobs.sqlite3", "C:/data/demand.geojson"])
def test_scenario_naming_a_file_outside_the_uploads_is_refused(client: httpx.Client, path: str) -> None:
    response = client.post("/v1/scenarios", json=_with_layer_path(path))
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert [p["location"] for p in problems] == ["demand.path"]
    assert "absolute path" in problems[0]["message"] or "outside" in problems[0]["message"]


def _path_fields() -> list[str]:
    """Top-level scenario fields whose spec has a `path`: every one of them names a file."""
    from optimizer.scenario.format import Scenario

    found = []
    for name, field in Scenario.model_fields.items():
        for model in typing.get_args(field.annotation) or (field.annotation,):
            if isinstance(model, type) and issubclass(model, BaseModel) and "path" in model.model_fields:
                found.append(name)
    return found


@pytest.mark.parametrize("field", _path_fields())
def test_every_path_field_of_the_format_is_confined(client: httpx.Client, field: str) -> None:
    scenario = copy.deepcopy(tiny_scenario(0)[0])
    scenario[field] = {"path": "../../../etc/passwd"}
    problems = client.post("/v1/scenarios", json=scenario).json()["problems"]
    assert {"location": f"{field}.path", "message": "'../../../etc/passwd' leads outside the service's data "
            "area; give an uploaded file (files/<upload id>/<name>)"} in problems, problems


def test_network_cache_outside_the_data_directory_is_refused(client: httpx.Client) -> None:
    scenario = copy.deepcopy(tiny_scenario(0)[0])
    scenario["network"] = {"path": "files/none/roads.gpkg", "cache_dir": "../../tmp/cache"}
    problems = client.post("/v1/scenarios", json=scenario).json()["problems"]
    assert {p["location"] for p in problems} == {"network.path", "network.cache_dir"}
    assert "was not uploaded" in problems[0]["message"] and "outside" in problems[1]["message"]


def test_gdal_virtual_files_and_paths_in_upload_names_are_refused(client: httpx.Client) -> None:
    for name in ("../evil.geojson", "roads.vrt", ".hidden.geojson"):
        response = client.post("/v1/files", files=[("files", (name, b"{}", "application/json"))])
        assert response.status_code == 422, (name, response.text)
        assert response.json()["problems"][0]["location"] == "files[0]"
    assert client.post("/v1/scenarios", json=_with_layer_path("files/x/roads.vrt")).status_code == 422


def test_oversize_json_body_is_413_before_it_is_read(client: httpx.Client) -> None:
    scenario = tiny_scenario(0)[0] | {"description": "x" * 70_000}
    response = client.post("/v1/scenarios", json=scenario)
    assert response.status_code == 413
    assert "65,536 bytes" in response.json()["detail"]


def test_oversize_chunked_body_without_length_is_413(client: httpx.Client) -> None:
    body = json.dumps(tiny_scenario(0)[0] | {"description": "x" * 70_000}).encode()
    chunks = (body[k:k + 8192] for k in range(0, len(body), 8192))
    response = client.post("/v1/scenarios", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_oversize_upload_is_413_and_a_small_one_is_stored(client: httpx.Client, server: Server) -> None:
    big = client.post("/v1/files", files=[("files", ("demand.geojson", b" " * 140_000, "application/json"))])
    assert big.status_code == 413
    small = client.post("/v1/files", files=[("files", ("demand.geojson", b"{}", "application/json"))])
    assert small.status_code == 201
    stored = small.json()["files"][0]
    assert (server.data_dir / stored["path"]).read_bytes() == b"{}" and stored["bytes"] == 2


def _bad_scenarios() -> tuple[dict, dict]:
    """Two bad scenarios: field errors (unknown field, value out of range), and reference errors."""
    fields = copy.deepcopy(tiny_scenario(0)[0])
    fields["facility_types"]["station"]["radius"] = 900
    fields["targets"][0]["min_share"] = 3
    references = copy.deepcopy(tiny_scenario(0)[0])
    references["targets"].append({"kind": "count", "facility": "statoin", "min": 1})
    references["crs"] = "EPSG:4326"
    return fields, references


def test_bad_scenario_is_422_with_every_problem_as_the_cli_reports_it(client: httpx.Client, tmp_path: Path) -> None:
    for scenario in _bad_scenarios():
        response = client.post("/v1/scenarios", json=scenario)
        assert response.status_code == 422
        problems = [(p["location"], p["message"]) for p in response.json()["problems"]]
        with pytest.raises(ScenarioError) as raised:
            parse_scenario(scenario)
        assert problems == [(p.location, p.message) for p in raised.value.problems]
        assert len(problems) == 2
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "optimizer", "validate", str(path)], capture_output=True,
                         text=True, cwd=REPO, env=os.environ | {"COLUMNS": "300"}, check=False)
    assert cli.returncode == 2
    for location, message in problems:
        assert f"{location}: {message}" in cli.stderr
    assert "did you mean 'station'?" in cli.stderr


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"'])
def test_body_that_is_not_a_json_object_is_422(client: httpx.Client, body: bytes) -> None:
    response = client.post("/v1/scenarios", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["problems"]


def test_full_queue_is_429_with_retry_after(client: httpx.Client) -> None:
    accepted = []
    for k in range(4):
        response = client.post("/v1/scenarios", json=tiny_scenario(k)[0])
        if response.status_code == 202:
            accepted.append(response.json()["id"])
    assert len(accepted) == 3
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert "3 jobs are already queued" in response.json()["detail"]
    for job_id in accepted:   # leave the queue empty for the other tests
        assert client.post(f"/v1/jobs/{job_id}/cancel").json()["status"] == "cancelled"
    assert client.post("/v1/scenarios", json=tiny_scenario(9)[0]).status_code == 202


def test_unknown_job_is_404_and_an_unfinished_one_has_no_plan_yet(client: httpx.Client) -> None:
    assert client.get("/v1/jobs/0123456789abcdef").status_code == 404
    assert client.get("/v1/sweeps/0123456789abcdef/frontier").status_code == 404
    job_id = client.post("/v1/scenarios", json=tiny_scenario(0)[0]).json()["id"]
    response = client.get(f"/v1/jobs/{job_id}/plan.gpkg")
    assert response.status_code == 409 and "is queued" in response.json()["detail"]
    assert client.get(f"/v1/sweeps/{job_id}").status_code == 404   # a solve is not a sweep
    client.post(f"/v1/jobs/{job_id}/cancel")


def test_sweep_with_too_many_levels_is_refused(client: httpx.Client) -> None:
    response = client.post("/v1/sweeps", json={"scenario": tiny_scenario(0)[0], "levels": 500})
    assert response.status_code == 422 and response.json()["problems"][0]["location"] == "levels"
    both = client.post("/v1/sweeps", json={"scenario": tiny_scenario(0)[0], "levels": 3, "budgets": [1.0]})
    assert both.status_code == 422


def test_openapi_documents_every_endpoint_with_examples(client: httpx.Client) -> None:
    spec = client.get("/v1/openapi.json").json()
    for path in ("/v1/scenarios", "/v1/files", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/plan",
                 "/v1/jobs/{job_id}/plan.geojson", "/v1/jobs/{job_id}/plan.gpkg", "/v1/jobs/{job_id}/map.html",
                 "/v1/sweeps", "/v1/sweeps/{job_id}/frontier", "/v1/health", "/v1/presets"):
        assert path in spec["paths"], path
    body = spec["paths"]["/v1/scenarios"]["post"]["requestBody"]["content"]["application/json"]
    assert {"inline", "uploaded"} <= set(body["examples"])
    assert set(spec["paths"]["/v1/scenarios"]["post"]["responses"]) >= {"202", "413", "422", "429"}
    presets = client.get("/v1/presets").raise_for_status().json()["presets"]
    for preset in presets[:1]:
        full = client.get(f"/v1/presets/{preset['id']}").raise_for_status().json()
        assert [t["id"] for t in full["targets"]] == [t["id"] for t in preset["targets"]]
        assert all(t["quote"] for t in full["targets"])
    assert client.get("/v1/presets/no-such-preset").status_code == 404
    health = client.get("/v1/health").json()
    assert health["status"] == "ok" and health["workers"] == {"configured": 0, "alive": 0}
