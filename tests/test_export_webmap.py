"""map.html: one self-contained file; in real headless Chromium it draws a marker per facility, no errors;
a phased plan's map steps through its years."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from optimizer.export import write_exports
from optimizer.export.labels import type_label
from optimizer.export.layers import plan_layers
from tests.export_helpers import ARTIFACTS, CHROMIUM_FLAGS, chromium, example_bundle, extended_bundle, pingyin_bundle


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
        assert f"设施 {type_label(bundle, name)}（{count}）" in run.stdout
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


def _chromium_at(page: Path, profile: Path, fragment: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`chromium` on `page` with a URL fragment (``#year=2024`` picks the map's year)."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("`chromium` is not installed (.ci/run installs it with apt-get)")
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
                           "--v=0", *(extra or ("--dump-dom",)), page.resolve().as_uri() + fragment],
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


@pytest.fixture(scope="module")
def county_map_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default county's map: roads, Chinese township and site names, three years."""
    out = tmp_path_factory.mktemp("webmap_county")
    write_exports(pingyin_bundle(), out, formats=("html",))
    return out / "map.html"


def _body(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 0, run.stderr[-2000:]
    body = re.search(r"<body[^>]*>", run.stdout)
    assert body is not None and 'data-ready="true"' in body.group(0), run.stdout[:500]
    assert "data-errors" not in body.group(0)
    assert [line for line in run.stderr.splitlines() if ":CONSOLE" in line] == []
    return body.group(0)


def test_chromium_draws_the_roads_and_labels_the_zones(county_map_html: Path, tmp_path: Path) -> None:
    data = _plan_data(county_map_html.read_text(encoding="utf-8"))
    run = _chromium_at(county_map_html, tmp_path / "profile", "")
    _body(run)
    roads = re.findall(r'<path class="road"', run.stdout)
    assert len(roads) == len(data["roads"]["features"]) > 1000   # every road of the network, as SVG
    labels = re.findall(r'zone-label[^>]*><span>([^<]+)</span>', run.stdout)
    zones = {str(z) for z in plan_layers(pingyin_bundle())["zones"]["zone"]}
    assert sorted(labels) == sorted(zones) and "榆山街道" in labels


def test_search_finds_a_site_and_a_community_by_name_or_id(county_map_html: Path, tmp_path: Path) -> None:
    bundle = pingyin_bundle()
    site = next(f for f in bundle.plan["facilities"] if f["new"] and f.get("name"))
    demand = plan_layers(bundle)["demand"]
    unit_id, unit_name = str(demand["id"].iloc[0]), str(demand["name"].iloc[0])   # a community: its name and code
    for k, (query, expected) in enumerate([(site["name"], site["name"]), (site["site"], site["name"]),
                                           (unit_name, unit_name), (unit_id, unit_name)]):
        run = _chromium_at(county_map_html, tmp_path / f"profile{k}", "#search=" + quote(query))
        body = _body(run)
        hits = re.findall(r'class="search-hit"[^>]*>([^<]+)<span class="id">([^<]+)</span>', run.stdout)
        count = re.search(r'data-search-hits="(\d+)"', body)
        assert hits and count is not None and int(count.group(1)) == len(hits)
        assert any(expected in text or expected in ident for text, ident in hits), hits


@pytest.mark.parametrize("year", [2024, 2026])
def test_zone_shading_and_headline_cost_follow_the_chosen_year(county_map_html: Path, tmp_path: Path,
                                                               year: int) -> None:
    bundle = pingyin_bundle()
    run = _chromium_at(county_map_html, tmp_path / "profile", f"#year={year}")
    body = _body(run)
    classes = re.search(r'data-zone-classes="([^"]*)"', body)
    assert classes is not None
    if year == bundle.scenario.years[-1]:   # the last year: the whole plan's shading, as the zones layer has it
        assert classes.group(1).split(",") == list(plan_layers(bundle)["zones"]["target_class"])
    else:   # 2024: no per-zone target holds yet (the centres are due from 2025)
        assert set(classes.group(1).split(",")) == {"none"}
    spent = sum(float(bundle.plan["years"][str(y)]["capital"]) for y in bundle.scenario.years if y <= year)
    headline = re.search(r'id="headline-cost">([^<]*)', run.stdout)
    assert headline is not None and f"{year} 年：累计投资 {spent:,.0f} 元" in headline.group(1)


def test_the_county_map_requests_nothing_from_another_origin(county_map_html: Path, tmp_path: Path) -> None:
    """Chromium's own network log: every request the page starts is to its own file (the browser's
    background calls, initiator 'not an origin', are not the page's)."""
    log = tmp_path / "netlog.json"
    shot = tmp_path / "map_county.png"
    run = _chromium_at(county_map_html, tmp_path / "profile", "", f"--log-net-log={log}", f"--screenshot={shot}")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    events = json.loads(log.read_text(encoding="utf-8"))
    names = {v: k for k, v in events["constants"]["logEventTypes"].items()}
    started = [e["params"] for e in events["events"]
               if names.get(e["type"]) == "URL_REQUEST_START_JOB" and "url" in (e.get("params") or {})]
    from_page = [p["url"] for p in started if p.get("initiator") != "not an origin"]
    assert all(url.startswith(("file:", "data:")) for url in from_page), from_page
    from PIL import Image

    with Image.open(shot) as image:
        darkest, lightest = image.convert("L").getextrema()
        assert lightest - darkest > 100
    ARTIFACTS.mkdir(exist_ok=True)
    print(f"screenshot of the county map: {shutil.copy(shot, ARTIFACTS / 'map_html_county.png')}")
