"""Property-based requests from the OpenAPI document (schemathesis) find no 5xx and no undocumented answer.

One real uvicorn process for this module (fresh temporary data directory and SQLite job store),
without solve workers: what is checked is the HTTP surface, not the solves. The run is bounded:
at most 15 generated cases per operation and phase, with a fixed seed (about 600 requests).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import Server, start_server

MAX_EXAMPLES = 15
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("api-schemathesis") / "data", workers=0,
                           env={"ELDERCARE_MAX_QUEUED_JOBS": "10000"})
    yield running
    running.stop()


def test_generated_requests_get_no_server_error_and_only_documented_answers(server: Server, tmp_path: Path) -> None:
    if importlib.util.find_spec("schemathesis") is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/v1/openapi.json", "--checks", CHECKS,
         "--max-examples", str(MAX_EXAMPLES),
         "--seed", "1", "--workers", "1", "--no-color", "--generation-database", "none",
         "--request-timeout", "30", "--report", "junit", "--report-junit-path", str(tmp_path / "junit.xml")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    summary = re.search(r"(\d+) generated, (.*)", run.stdout)
    assert run.returncode == 0 and summary is not None, run.stdout[-6000:] + run.stderr[-2000:]
    assert int(summary.group(1)) >= 300 and "fail" not in summary.group(2), summary.group(0)
    assert "internal error" not in server.log() and "Traceback" not in server.log()
    print(f"schemathesis: {summary.group(0)}")
