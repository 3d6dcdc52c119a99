"""map.html: one self-contained file; in real headless Chromium it draws a marker per facility, no errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from optimizer.export import write_exports
from tests.export_helpers import ARTIFACTS, chromium, example_bundle


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
