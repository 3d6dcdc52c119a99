"""map.html: one self-contained file; in real headless Chromium it draws a marker per facility, no errors;
a phased plan's map steps through its years."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from optimizer.export import write_exports
from tests.export_helpers import ARTIFACTS, CHROMIUM_FLAGS, chromium, example_bundle, extended_bundle


@pytest.fixture(scope="module")
def map_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("webmap")
    write_exports(example_bundle(), out, formats=("html",))
    return out / "map.html"


def _plan_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="plan-data">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_map_html_references_nothing_outside_itself(map_html: Path) -> None:
    page = map_html.read_text(encoding="utf-8")
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)\s*=""", page, re.I)
    assert not re.search(r"""url\(\s*['"]?(https?:|//|images/)""", page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"__[A-Z_]+__", page.split('id="plan-data"')[0])   # every placeholder filled
    data = _plan_data(page)
    bundle = example_bundle()
    assert len(data["facilities"]["features"]) == len(bundle.checked.facilities)
    assert len(data["demand"]["features"]) == bundle.region.demand.n
    assert len(data["zones"]["features"]) == len(bundle.plan["zones"])
    lon, lat = data["facilities"]["features"][0]["geometry"]["coordinates"]
    assert 116 < lon < 118 and 36 < lat < 37   # EPSG:4326 lon/lat


def test_chromium_draws_one_marker_per_facility_and_logs_nothing(map_html: Path, tmp_path: Path) -> None:
    run = chromium(map_html, tmp_path / "profile", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    body = re.search(r"<body[^>]*>", run.stdout)
    assert body is not None and 'data-ready="true"' in body.group(0), run.stdout[:500]
    assert "data-errors" not in body.group(0)
    markers = re.findall(r'<div class="leaflet-marker-icon fac-marker[^"]*"', run.stdout)
    bundle = example_bundle()
    assert len(markers) == len(bundle.checked.facilities) == 36
    for name in bundle.region.type_names:   # a toggle per facility type, with its count
        count = sum(f["type"] == name for f in bundle.checked.facilities)
        assert f"设施 {name}（{count}）" in run.stdout
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []   # no script error, no blocked (network) load: CSP violations log here


def test_chromium_screenshot_of_the_map_is_kept_as_an_artefact(map_html: Path, tmp_path: Path) -> None:
    shot = tmp_path / "map_html.png"
    run = chromium(map_html, tmp_path / "profile", f"--screenshot={shot}")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1280, 900)
        darkest, lightest = image.convert("L").getextrema()
        assert lightest - darkest > 100   # not a blank page
    ARTIFACTS.mkdir(exist_ok=True)
    kept = shutil.copy(shot, ARTIFACTS / "map_html.png")
    print(f"screenshot of map.html: {kept}")


@pytest.fixture(scope="module")
def phased_map_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("webmap_phased")
    write_exports(extended_bundle(), out, formats=("html",))
    return out / "map.html"


def _chromium_at(page: Path, profile: Path, fragment: str) -> subprocess.CompletedProcess[str]:
    """`chromium` on `page` with a URL fragment (``#year=2024`` picks the map's year)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("`chromium` is not installed (.ci/run installs it with apt-get)")
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
                           "--v=0", "--dump-dom", page.resolve().as_uri() + fragment],
                          capture_output=True, text=True, timeout=120)


def test_phased_map_embeds_opening_years_and_coverage_per_year(phased_map_html: Path) -> None:
    bundle = extended_bundle()
    data = _plan_data(phased_map_html.read_text(encoding="utf-8"))
    assert data["years"] == [2024, 2025, 2026]
    assert [y["year"] for y in data["yearSummaries"]] == [2024, 2025, 2026]
    years = {(f["site"], f["type"]): f["year"] for f in bundle.checked.facilities}
    embedded = {(f["properties"]["site"], f["properties"]["type"]): f["properties"]["year"]
                for f in data["facilities"]["features"]}
    assert embedded == years and any(y is None for y in embedded.values())
    assert {y for y in embedded.values() if y is not None} <= {2024, 2025, 2026}
    for year in data["years"]:   # facilities open by year: as plan.json's years section says
        shown = sum(y is None or y <= year for y in embedded.values())
        assert shown == bundle.plan["years"][str(year)]["facilities_open"]
    classes = [f["properties"]["coverage_by_year"] for f in data["demand"]["features"]]
    assert all(len(c) == 3 for c in classes)
    assert [c[-1] for c in classes] == [f["properties"]["coverage"] for f in data["demand"]["features"]]
    rank = {"not_served": -1, "uncovered": 0, "partly": 1, "covered": 2}
    assert all(rank[a] <= rank[b] for c in classes for a, b in itertools.pairwise(c))   # coverage only grows
    assert sum(c[0] == "covered" for c in classes) < sum(c[-1] == "covered" for c in classes)


def test_unphased_map_has_no_year_control(map_html: Path) -> None:
    data = _plan_data(map_html.read_text(encoding="utf-8"))
    assert data["years"] == [] and data["yearSummaries"] == []
    assert all(f["properties"]["coverage_by_year"] == [] for f in data["demand"]["features"])


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_chromium_year_control_shows_the_facilities_open_that_year(phased_map_html: Path, tmp_path: Path,
                                                                   year: int) -> None:
    run = _chromium_at(phased_map_html, tmp_path / "profile", f"#year={year}")
    assert run.returncode == 0, run.stderr[-2000:]
    body = re.search(r"<body[^>]*>", run.stdout)
    assert body is not None and 'data-ready="true"' in body.group(0), run.stdout[:500]
    assert "data-errors" not in body.group(0)
    assert f'data-year="{year}"' in body.group(0)
    assert 'id="year-slider"' in run.stdout and 'type="range"' in run.stdout
    assert all(f'data-year-index="{k}"' in run.stdout for k in range(3))
    markers = re.findall(r'<div class="leaflet-marker-icon fac-marker[^"]*"', run.stdout)
    bundle = extended_bundle()
    assert len(markers) == bundle.plan["years"][str(year)]["facilities_open"]
    assert f'data-facilities-shown="{len(markers)}"' in body.group(0)
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
