"""Helpers of the API tests: a real uvicorn server in a subprocess, polling, generated scenarios.

The server needs an API key (ELDERCARE_AUTH=on, the default). `start_server` creates one in the
data directory before it starts the server (and reuses it when the same data directory is started
again), so that tests need not care:

- ``server.client()`` is an httpx client that sends the key with every request;
- ``server.headers`` is ``{"Authorization": "Bearer <key>"}`` for any other HTTP client, and
  ``server.key`` the key itself;
- ``server.client(headers={})`` sends no key (401); ``create_key(server.data_dir, "other")`` makes
  another key, and ``server.client(headers=bearer(other))`` acts as it.

With ``env={"ELDERCARE_AUTH": "off"}`` no key is created and ``server.key`` is None.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from api import keys, store

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "scenarios" / "example"
FINISHED = ("done", "failed", "cancelled")


def free_port() -> int:
    """A TCP port nobody listens on now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def create_key(data_dir: Path, name: str, *, max_queued: int | None = None, max_bytes: int | None = None) -> str:
    """A new API key in the job store of `data_dir` (created if new), as `eldercare keys create` makes it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    conn = store.connect(data_dir / "jobs.sqlite3")
    try:
        store.init_db(conn)
        _, token = keys.create_key(conn, name=name, now=time.time(), max_queued=max_queued, max_bytes=max_bytes)
    finally:
        conn.close()
    return token


def bearer(key: str) -> dict[str, str]:
    """The header sending `key`."""
    return {"Authorization": f"Bearer {key}"}


def suite_key(data_dir: Path) -> str:
    """The key the tests use on `data_dir`: made once, kept beside it, so a restarted server knows it too."""
    path = data_dir.parent / f"{data_dir.name}-test-key"
    if not path.exists():
        path.write_text(create_key(data_dir, "tests", max_queued=10_000), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


@dataclass
class Server:
    """A running ``eldercare serve`` process (its own process group), its log file and the tests' API key."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    key: str | None = None

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        """The headers sending the tests' key (none when the server runs without keys)."""
        return bearer(self.key) if self.key else {}

    def client(self, timeout_s: float = 30.0, *, headers: dict[str, str] | None = None) -> httpx.Client:
        """An httpx client on this server, sending the tests' key unless `headers` replace it."""
        return httpx.Client(base_url=self.url, timeout=timeout_s, headers=self.headers if headers is None else headers)

    def log(self) -> str:
        """Everything the server and its workers wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL the server, its workers and their solve processes at once (a crash)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM the server (graceful: workers hand running jobs back), SIGKILL whatever is left."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        self.kill()


#: The exports the API tests' servers write unless a test asks for the server's own default (which adds
#: plan.csv, plan.xlsx and report.pdf, a Chromium print of about 2 s per job).
QUICK_EXPORTS = '["gpkg", "geojson", "html"]'


def start_server(data_dir: Path, *, workers: int = 2, env: dict[str, str] | None = None,
                 timeout_s: float = 60.0, exports: str | None = QUICK_EXPORTS) -> Server:
    """Start ``python -m api serve`` on a free port; return once /v1/health answers with every worker alive.

    Unless `env` turns keys off (ELDERCARE_AUTH=off), the tests' key (`suite_key`) exists in the
    data directory before the server starts; ``server.client()`` sends it. `exports` is
    ELDERCARE_EXPORT_FORMATS (None: the server's default).
    """
    port = free_port()
    log_path = data_dir.parent / f"{data_dir.name}-server-{port}.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ELDERCARE_")}
    environment |= {"ELDERCARE_HEARTBEAT_S": "0.5", "ELDERCARE_STALE_AFTER_S": "3"}
    environment |= ({"ELDERCARE_EXPORT_FORMATS": exports} if exports is not None else {}) | (env or {})
    key = None if environment.get("ELDERCARE_AUTH") == "off" else suite_key(data_dir)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(port), "--data", str(data_dir),
             "--workers", str(workers), "--log-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment, cwd=REPO,
            start_new_session=True)
    server = Server(process, port, data_dir, log_path, key)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{server.log()}")
        try:
            health = httpx.get(f"{server.url}/v1/health", timeout=2).json()
            if health["workers"]["alive"] == workers and server.log().count(" ready") >= workers:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"the server did not start in {timeout_s} s:\n{server.log()}")


def wait_job(client: httpx.Client, job_id: str, *, timeout_s: float = 60.0, kind: str = "jobs",
             until: tuple[str, ...] = FINISHED) -> dict[str, Any]:
    """Poll the job until its status is one of `until`; its last state."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/v1/{kind}/{job_id}").raise_for_status().json()
        if job["status"] in until or time.monotonic() > deadline:
            assert job["status"] in until, f"job {job_id} still {job['status']} after {timeout_s} s: {job}"
            return job
        time.sleep(0.2)


def example_inline() -> dict[str, Any]:
    """The shipped example with its two GeoJSON layers inlined (``features`` instead of ``path``)."""
    scenario = json.loads((EXAMPLE / "scenario.json").read_text(encoding="utf-8"))
    for layer in ("demand", "sites"):
        spec = scenario[layer]
        spec["features"] = json.loads((EXAMPLE / spec.pop("path")).read_text(encoding="utf-8"))
    return scenario


def points(prefix: str, xy: np.ndarray, **columns: Any) -> dict[str, Any]:
    """A FeatureCollection of points at lon/lat `xy`, ids ``<prefix><k>``, extra properties per point."""
    features = []
    for k, (lon, lat) in enumerate(xy):
        properties = {"id": f"{prefix}{k}"} | {name: values[k] for name, values in columns.items()}
        features.append({"type": "Feature", "properties": properties,
                         "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]}})
    return {"type": "FeatureCollection", "features": features}


def tiny_scenario(k: int) -> tuple[dict[str, Any], float]:
    """Scenario number `k`: 5 communities on a line 1 km apart, 3 sites; and its least total cost.

    Communities at x = 0, 1, 2, 3, 4 km (EPSG:32650), sites at x = 0.5, 2.5 and 3.5 km, radius
    1.2 km: the site at 0.5 reaches x = 0, 1; 2.5 reaches 2, 3; 3.5 reaches 3, 4. Covering all
    five needs all three sites, so the least cost is 3 x (capital + 3 x annual), with the capital
    cost varied by `k` so that every plan is different: capital 100,000 + 1,000 k, annual 10,000.
    """
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    demand_x = np.arange(5) * 1000.0 + 440_000
    site_x = np.array([500.0, 2500.0, 3500.0]) + 440_000
    demand = np.column_stack(to_lonlat.transform(demand_x, np.full(5, 4_420_000.0)))
    sites = np.column_stack(to_lonlat.transform(site_x, np.full(3, 4_420_000.0)))
    capital = 100_000.0 + 1_000.0 * k
    scenario = {
        "name": f"tiny {k}", "crs": "EPSG:32650",
        "demand": {"features": points("D", demand, pop60=[100 + k, 80, 60, 40, 20]), "weights": {"elderly": "pop60"}},
        "sites": {"features": points("S", sites)},
        "facility_types": {"station": {"radius_m": 1200, "capital_cost": capital, "annual_cost": 10_000}},
        "targets": [{"kind": "coverage", "facility": "station", "min_share": 1.0}],
    }
    return scenario, 3 * (capital + 3 * 10_000.0)


def slow_scenario(time_limit_s: float, *, seed: int = 7) -> dict[str, Any]:
    """A generated maximal-covering instance HiGHS does not close within `time_limit_s`.

    1,200 communities and 400 candidate sites scattered over 12 x 12 km, radius 1,500 m, a
    capital budget for about 20 stations; max_coverage by elderly population (HiGHS leaves a
    large gap after 3 s on 2 cores).
    """
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    to_lonlat = Transformer.from_crs("EPSG:32650", "EPSG:4326", always_xy=True)
    origin = np.array([440_000.0, 4_420_000.0])
    demand_xy = origin + rng.uniform(0, 12_000, size=(1200, 2))
    site_xy = origin + rng.uniform(0, 12_000, size=(400, 2))
    demand = np.column_stack(to_lonlat.transform(demand_xy[:, 0], demand_xy[:, 1]))
    sites = np.column_stack(to_lonlat.transform(site_xy[:, 0], site_xy[:, 1]))
    cost = rng.uniform(400_000, 800_000, size=400).round(-3)
    return {
        "name": "slow generated instance", "crs": "EPSG:32650",
        "demand": {"features": points("D", demand, pop60=rng.integers(50, 800, size=1200).tolist()),
                   "weights": {"elderly": "pop60"}},
        "sites": {"features": points("S", sites, cost=cost.tolist()), "cost": {"station": "cost"}},
        "facility_types": {"station": {"radius_m": 1500, "capital_cost": 600_000}},
        "budget": {"capital": 12_000_000},
        "objective": "max_coverage",
        "solver": {"time_limit_s": time_limit_s, "mip_gap": 0.0},
    }
