"""The service reads an uploaded file only as what its name says, and fetches no URL.

One real uvicorn process (`api_helpers.start_server`, one solve worker, a fresh data directory).
Each bypass file of `input_safety_helpers` is uploaded through POST /v1/files and named by a
scenario: the service answers 422 naming the field and the file (at the upload or at the
submission), and the secret outside the data directory appears in no response. A GeoJSON whose
``crs`` links to a URL is solved without the worker fetching it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_helpers import Server, start_server, tiny_scenario, wait_job
from input_safety_helpers import (
    CONTENT_BYPASSES,
    OTHER_USERS_SCENARIO,
    SECRET,
    Outside,
    listener,
    outside_files,
    path_bypasses,
    with_source,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("api-input-safety") / "data", workers=1)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Outside:
    """The secret files, outside the service's data directory."""
    return outside_files(tmp_path_factory.mktemp("outside"))


@pytest.fixture()
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as opened:
        yield opened


def _leaks(response: httpx.Response) -> bool:
    return SECRET in response.text or OTHER_USERS_SCENARIO in response.text


def _problems(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    return list(response.json()["problems"])


@pytest.mark.parametrize("case", sorted(CONTENT_BYPASSES))
def test_uploaded_file_whose_content_is_not_what_its_name_says_is_422(
        case: str, client: httpx.Client, outside: Outside) -> None:
    field, name, content = CONTENT_BYPASSES[case]
    upload = client.post("/v1/files", files=[("files", (name, content(outside), "application/octet-stream"))])
    assert not _leaks(upload)
    if upload.status_code == 422:   # refused by its name already
        assert [(p["location"], name in p["message"]) for p in _problems(upload)] == [("files[0]", True)]
        return
    path = upload.raise_for_status().json()["files"][0]["path"]
    scenario = with_source(copy.deepcopy(tiny_scenario(0)[0]), field, path)
    response = client.post("/v1/scenarios", json=scenario)
    assert not _leaks(response)
    problems = _problems(response)
    assert [p["location"] for p in problems] == [f"{field}.path"], problems
    assert name in problems[0]["message"]


def test_url_and_virtual_file_system_paths_are_422_and_nothing_is_fetched(
        client: httpx.Client, outside: Outside) -> None:
    with listener() as (url, heard):
        for field, path in path_bypasses(url, outside).values():
            scenario = with_source(copy.deepcopy(tiny_scenario(0)[0]), field, path)
            response = client.post("/v1/scenarios", json=scenario)
            assert not _leaks(response)
            assert [p["location"] for p in _problems(response)] == [f"{field}.path"]
    assert heard == []


def test_geojson_linking_its_crs_to_a_url_is_solved_without_fetching_it(client: httpx.Client) -> None:
    scenario, least_cost = tiny_scenario(1)
    with listener() as (url, heard):
        demand = scenario["demand"].pop("features") | {
            "crs": {"type": "link", "properties": {"href": f"{url}/crs.wkt", "type": "ogcwkt"}}}
        upload = client.post("/v1/files", files=[("files", ("demand.geojson", json.dumps(demand).encode(),
                                                             "application/geo+json"))])
        scenario["demand"]["path"] = upload.raise_for_status().json()["files"][0]["path"]
        accepted = client.post("/v1/scenarios", json=scenario)
        assert accepted.status_code == 202, accepted.text
        job = wait_job(client, accepted.json()["id"], timeout_s=120)
    assert job["status"] == "done", job
    assert job["result"]["objective"] == pytest.approx(least_cost)
    assert heard == []


def test_upload_endings_are_those_the_engine_reads(client: httpx.Client) -> None:
    for name in ("demand.fgb", "distances.pq"):
        assert client.post("/v1/files", files=[("files", (name, b"x", "application/octet-stream"))]).status_code == 201
    refused = client.post("/v1/files", files=[("files", ("demand.kml", b"<kml/>", "application/xml"))])
    message = _problems(refused)[0]["message"]
    assert ".geojson, .json, .gpkg, .shp, .fgb" in message


def test_a_point_outside_the_crs_area_or_a_bad_weight_is_422_at_submission(client: httpx.Client) -> None:
    """Bad data in a layer is found when the scenario is submitted, with the CLI's message naming the
    feature, not when a worker later fails the job: a point at lon 500, lat 95, and a weight that is
    not a number."""
    scenario, _ = tiny_scenario(0)
    off_map = copy.deepcopy(scenario)
    off_map["demand"]["features"]["features"][3]["geometry"]["coordinates"] = [500, 95]
    problems = _problems(client.post("/v1/scenarios", json=off_map))
    assert any("D3" in p["message"] or "D3" in p["location"] for p in problems), problems
    bad_weight = copy.deepcopy(scenario)
    bad_weight["demand"]["features"]["features"][1]["properties"]["pop60"] = "many"
    problems = _problems(client.post("/v1/scenarios", json=bad_weight))
    assert any("D1" in p["message"] for p in problems), problems
    assert client.post("/v1/scenarios", json=scenario).status_code == 202
