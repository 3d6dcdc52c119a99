"""The OpenAPI document tells the truth: schemathesis finds no 5xx and no undocumented answer, and its parts hold.

One real uvicorn process for this module (fresh temporary data directory and SQLite job store),
without solve workers: what is checked is the HTTP surface, not the solves. The schemathesis run
is bounded and seeded: every phase (examples, coverage, fuzzing, and stateful sequences that
follow the document's links from a created job or upload), at most 25 generated cases per
operation and phase, seed 1 (about 1,300 cases, half a minute). It runs every check but
`positive_data_acceptance` (a scenario is a free-form object in the document, and most objects
are not scenarios), as two keys (`object_level_authorization`: one key never reads what the
other created). `api_schemathesis_hooks` makes positive submissions valid ones.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import EXAMPLE, REPO, Server, create_key, start_server

from api.examples import UPLOADED_SCENARIO

MAX_EXAMPLES = 25
MIN_CASES = 1_000
EXCLUDED_CHECKS = "positive_data_acceptance"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("api-schemathesis") / "data", workers=0,
                           env={"ELDERCARE_MAX_QUEUED_JOBS": "10000"})
    yield running
    running.stop()


def _identities(server: Server, folder: Path) -> Path:
    """A schemathesis configuration with two keys as peers (a Web Fuzzing Commons auth file)."""
    peer = create_key(server.data_dir, "schemathesis peer", max_queued=10_000)
    users = [{"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {key}"}]}
             for name, key in (("tests", server.key), ("peer", peer))]
    (folder / "wfc.json").write_text(json.dumps({"schemaVersion": "1.0", "auth": users}), encoding="utf-8")
    config = folder / "schemathesis.toml"
    config.write_text('[auth.wfc]\npath = "wfc.json"\nuser = "tests"\npeers = ["tests", "peer"]\n', encoding="utf-8")
    return config


def test_generated_requests_get_no_server_error_and_only_documented_answers(server: Server, tmp_path: Path) -> None:
    if importlib.util.find_spec("schemathesis") is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    config = _identities(server, tmp_path)
    path = os.pathsep.join([str(REPO / "tests"), str(REPO), os.environ.get("PYTHONPATH", "")])
    env = os.environ | {"SCHEMATHESIS_HOOKS": "api_schemathesis_hooks", "PYTHONPATH": path}
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
         f"{server.url}/v1/openapi.json", "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS,
         "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", str(MAX_EXAMPLES),
         "--seed", "1", "--workers", "1", "--no-color", "--generation-database", "none",
         "--request-timeout", "30", "--report", "junit", "--report-junit-path", str(tmp_path / "junit.xml")],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False)
    summary = re.search(r"(\d+) generated, (.*)", run.stdout)
    links = re.search(r"API Links:\s+(\d+) covered", run.stdout)
    assert run.returncode == 0 and summary is not None, run.stdout[-6000:] + run.stderr[-2000:]
    assert int(summary.group(1)) >= MIN_CASES and "fail" not in summary.group(2), summary.group(0)
    assert links is not None and int(links.group(1)) >= 5, run.stdout[-3000:]   # stateful sequences ran
    assert "internal error" not in server.log() and "Traceback" not in server.log()
    print(f"schemathesis: {summary.group(0)}; {links.group(0)}")


def test_openapi_documents_the_keys_the_links_and_one_way_to_choose_sweep_levels(server: Server) -> None:
    spec = httpx.get(f"{server.url}/v1/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerKey"]["scheme"] == "bearer" and schemes["apiKeyHeader"]["name"] == "X-API-Key"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            public = path == "/v1/health"
            assert ("security" not in operation) == public, (method, path)
            assert ("401" in operation["responses"]) != public, (method, path)
    links = spec["paths"]["/v1/scenarios"]["post"]["responses"]["202"]["links"]
    assert {link["operationId"] for link in links.values()} >= {"read_job", "cancel_job", "delete_job"}
    assert "links" in spec["paths"]["/v1/files"]["post"]["responses"]["201"]
    assert [variant["title"] for variant in spec["components"]["schemas"]["SweepRequest"]["oneOf"]] == [
        "Given budgets", "Automatic levels"]
    assert set(spec["paths"]["/v1/jobs/{job_id}"]) == {"get", "delete"}


def test_the_uploaded_example_needs_its_upload_and_is_accepted_once_it_names_one(server: Server) -> None:
    with server.client() as client:
        as_is = client.post("/v1/scenarios", json=UPLOADED_SCENARIO)
        assert as_is.status_code == 422
        assert {p["location"] for p in as_is.json()["problems"]} == {"demand.path", "sites.path"}
        upload = client.post("/v1/files", files=[
            ("files", (name, (EXAMPLE / name).read_bytes(), "application/geo+json"))
            for name in ("demand.geojson", "sites.geojson")]).raise_for_status().json()
        scenario = copy.deepcopy(UPLOADED_SCENARIO)
        for layer in ("demand", "sites"):
            scenario[layer]["path"] = scenario[layer]["path"].replace("<upload id>", upload["id"])
        accepted = client.post("/v1/scenarios", json=scenario)
        assert accepted.status_code == 202, accepted.text
        spec = client.get("/v1/openapi.json").json()
    example = spec["paths"]["/v1/scenarios"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert "not runnable as it is" in example["uploaded"]["summary"]


def test_allow_lists_every_method_of_a_path(server: Server) -> None:
    paths = {"/v1/jobs/0123456789abcdef": "DELETE, GET, OPTIONS", "/v1/jobs": "GET, OPTIONS",
             "/v1/files/0123456789abcdef": "DELETE, GET, OPTIONS", "/v1/jobs/0123456789abcdef/cancel": "OPTIONS, POST"}
    with server.client(headers={}) as client:   # no key needed to ask what a path allows
        answers = {path: client.options(path) for path in paths}
        put = client.put("/v1/sweeps/0123456789abcdef")
    assert {path: (a.status_code, a.headers["allow"]) for path, a in answers.items()} == {
        path: (204, allow) for path, allow in paths.items()}
    assert put.status_code == 405 and put.headers["allow"] == "DELETE, GET, OPTIONS"
