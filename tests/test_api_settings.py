"""Server settings refuse unsafe combinations at startup; `eldercare serve` says so and exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from api_helpers import REPO
from pydantic import ValidationError

from api.settings import Settings


def test_production_refuses_a_relative_data_directory() -> None:
    with pytest.raises(ValidationError, match="absolute path"):
        Settings(environment="production", data_dir=Path("eldercare-data"))
    assert Settings(environment="production", data_dir=Path("/srv/eldercare")).data_dir.is_absolute()


def test_stale_limit_shorter_than_two_heartbeats_is_refused() -> None:
    with pytest.raises(ValidationError, match="stale_after_s"):
        Settings(heartbeat_s=5, stale_after_s=6)


def test_job_timeout_below_the_solver_cap_is_refused() -> None:
    with pytest.raises(ValidationError, match="job_timeout_s"):
        Settings(max_time_limit_s=600, job_timeout_s=60)


def test_environment_variables_configure_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELDERCARE_MAX_QUEUED_JOBS", "7")
    monkeypatch.setenv("ELDERCARE_EXPORT_FORMATS", '["geojson"]')
    settings = Settings()
    assert settings.max_queued_jobs == 7 and settings.export_formats == ("geojson",)


def test_serve_with_unsafe_settings_exits_2_naming_the_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ELDERCARE_")}
    env |= {"ELDERCARE_HEARTBEAT_S": "5", "ELDERCARE_STALE_AFTER_S": "6"}
    run = subprocess.run([sys.executable, "-m", "api", "serve", "--data", str(tmp_path / "data")],
                         capture_output=True, text=True, cwd=REPO, env=env, timeout=60, check=False)
    assert run.returncode == 2 and "stale_after_s" in run.stderr and "Traceback" not in run.stderr


def test_auth_off_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="ELDERCARE_AUTH=off"):
        Settings(environment="production", data_dir=Path("/srv/eldercare"), auth="off")
    assert Settings(auth="off").auth == "off"   # fine on one's own machine
