"""Shared by the export tests: the solved example, and the real tools (ogrinfo, Chromium)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

from optimizer import solve_file
from optimizer.export import PlanBundle, bundle_from_result
from optimizer.report.document import plan_document

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "example" / "scenario.json"
EXTENDED = Path(__file__).resolve().parents[2] / "shared" / "example-extended" / "scenario.json"
PINGYIN = Path(__file__).resolve().parents[1] / "scenarios" / "pingyin-2024-2026.json"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# A closed network: no background fetches, no component updates, no QUIC, a fresh profile each time.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1280,900", "--virtual-time-budget=5000"]


@lru_cache(maxsize=1)
def example_bundle() -> PlanBundle:
    """The shipped example solved once per test session (read-only for the tests)."""
    result = solve_file(EXAMPLE, mip_gap=0.0)
    plan = json.loads(json.dumps(plan_document(result), ensure_ascii=False))
    return bundle_from_result(result, plan)


@lru_cache(maxsize=1)
def extended_bundle() -> PlanBundle:
    """The shared phased example (three years, beds) solved once per session; skip when absent."""
    if not EXTENDED.exists():
        pytest.skip("../shared/example-extended is not beside the repo")
    result = solve_file(EXTENDED, backend="highs", mip_gap=0.0)
    plan = json.loads(json.dumps(plan_document(result), ensure_ascii=False))
    return bundle_from_result(result, plan)


@lru_cache(maxsize=1)
def pingyin_bundle() -> PlanBundle:
    """The default county (平阴县 2024–2026, phased, roads, Chinese names) solved once per session."""
    result = solve_file(PINGYIN, backend="highs")
    plan = json.loads(json.dumps(plan_document(result), ensure_ascii=False))
    return bundle_from_result(result, plan)


def require(binary: str) -> str:
    """Path of a system tool, or skip saying how CI gets it."""
    path = shutil.which(binary)
    if path is None:
        pytest.skip(f"`{binary}` is not installed (.ci/run installs it with apt-get)")
    return path


def ogrinfo_layers(path: Path) -> tuple[dict[str, dict[str, object]], str]:
    """Each layer GDAL's own ogrinfo reports: geometry, feature count, EPSG code; and its stderr."""
    run = subprocess.run([require("ogrinfo"), "-ro", "-so", "-al", str(path)],
                         capture_output=True, text=True, timeout=60, check=True)
    layers = {}
    for block in run.stdout.split("Layer name: ")[1:]:
        name = block.splitlines()[0].strip()
        count = re.search(r"^Feature Count: (\d+)$", block, re.M)
        geometry = re.search(r"^Geometry: (.+)$", block, re.M)
        wkt = block.split("Layer SRS WKT:")[1].split("Data axis")[0] if "Layer SRS WKT:" in block else ""
        codes = re.findall(r'ID\["EPSG",(\d+)\]', wkt)
        layers[name] = {"count": int(count.group(1)) if count else None,
                        "geometry": geometry.group(1).strip() if geometry else None,
                        "epsg": int(codes[-1]) if codes else None}
    return layers, run.stderr


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Open `page` in headless Chromium with the closed-network flags and console logging on."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("`chromium` is not installed (.ci/run installs it with apt-get)")
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
                           "--v=0", *extra, page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)
