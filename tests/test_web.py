"""The planner's workbench in a real browser: headless Chromium (Playwright) against a real `eldercare serve`.

One server for the module (a fresh data directory, one solve worker, API keys on); Debian's
Chromium at /usr/bin/chromium, launched by path (no browser is downloaded). Every page's requests
go through a recorder that lets through only this server's origin, so the tests also prove that no
request leaves the machine. A screenshot of each screen is kept under ``tests/artifacts/web/``.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from api_helpers import REPO, Server, bearer, create_key, slow_scenario, start_server, tiny_scenario, wait_job

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("the system's Chromium (/usr/bin/chromium, Debian package chromium) is not installed",
                allow_module_level=True)

ARTIFACTS = REPO / "tests" / "artifacts" / "web"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
LOCAL_SCHEMES = ("data:", "blob:", "about:")
RUN_S = 120_000   # ms: a solve of the county, a sweep of the example


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("web") / "data", workers=1, exports=None,   # plan.xlsx, report.pdf
                           env={"ELDERCARE_MAX_TIME_LIMIT_S": "60"})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Session:
    """One browser context acting for one API key, and everything its pages asked for."""

    page: Any
    server: Server
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def shot(self, name: str, *, full_page: bool = False) -> Path:
        """Keep a screenshot of the page as a test artefact."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def assert_offline(self) -> None:
        """Every request went to the server's own origin; none was refused; no policy violation was reported."""
        foreign = [url for url in self.requests if not url.startswith((self.server.url + "/", *LOCAL_SCHEMES))]
        assert not foreign and not self.refused, f"requests to other origins: {foreign + self.refused}"
        violations = [line for line in self.console if "Content Security Policy" in line]
        assert not violations, violations
        assert self.requests, "the recorder saw no request at all"


def open_session(browser: Any, server: Server, key: str | None) -> Session:
    """A fresh context on the workbench, the key entered as a planner enters it."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    session = Session(page, server)

    def route(request_route: Any) -> None:
        url = request_route.request.url
        session.requests.append(url)
        if url.startswith((server.url + "/", *LOCAL_SCHEMES)):
            request_route.continue_()
        else:   # never let it out: record and refuse
            session.refused.append(url)
            request_route.abort()

    context.route("**/*", route)
    page.on("console", lambda message: session.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: session.console.append(f"pageerror: {error}"))
    page.set_default_timeout(30_000)
    page.goto(server.url + "/")
    if key is None:   # without a key the API answers 401, and the page says what to do
        page.wait_for_selector("#notice.bad")
        return session
    page.fill("#api-key", key)
    page.click("#key-save")
    page.wait_for_selector("[data-region='example']")
    return session


def choose_region(session: Session, region: str) -> None:
    session.page.click(f"[data-region='{region}']")
    session.page.wait_for_selector("#read-units", timeout=60_000)


def run_and_wait(session: Session) -> None:
    """Run the scenario from the Run screen and wait for the answer; keep a screenshot while it runs."""
    page = session.page
    page.click("[data-screen='run']")
    page.click("#run-button")
    page.wait_for_selector("#status-word")
    session.shot("3-run")
    page.wait_for_selector("#all-met", timeout=RUN_S)
    page.frame_locator("#map-frame").locator("body[data-ready='1']").wait_for(timeout=30_000)


def download(session: Session, name: str, tmp_path: Path) -> Path:
    """Click the download of `name` on the Results screen; the saved file."""
    with session.page.expect_download() as info:
        session.page.click(f"#result-downloads [data-file='{name}']")
    path = tmp_path / name
    info.value.save_as(str(path))
    return path


def test_the_county_end_to_end(browser: Any, server: Server, tmp_path: Path) -> None:
    """平阴县 and the Pingyin preset: read, targets with their clauses, an infeasible run explained, a change,
    a run with every target met, the build list, the two plans side by side, and the downloads."""
    session = open_session(browser, server, server.key)
    page = session.page
    session.shot("1-start")
    choose_region(session, "pingyin-2024-2026")
    assert page.inner_text("#read-units") == "337" and page.inner_text("#read-sites") == "546"
    summary = page.inner_text("#read-summary")
    assert "榆山街道" in summary and "urban 29" in summary and "2024、2025、2026" in summary
    session.shot("1-start-read")

    page.click("#to-targets")
    page.select_option("#preset-select", "pingyin-2021")
    page.click("#preset-apply")
    playwright_api.expect(page.locator("#targets-table tbody tr")).to_have_count(4)
    clauses = page.locator("#targets-table td.source").all_inner_texts()
    assert len(clauses) == 4 and all("平政办字〔2021〕15号" in clause for clause in clauses)
    assert '"preset": "pingyin-2021"' in page.input_value("#scenario-json")
    with page.expect_download() as scenario_download:
        page.click("#json-download")
    saved = json.loads(Path(scenario_download.value.path()).read_text(encoding="utf-8"))
    assert saved["targets"] == [{"preset": "pingyin-2021"}]
    session.shot("2-targets", full_page=True)

    # The preset dates its targets to 2024, and the county's 2024 capital cap is too small: explained.
    run_and_wait(session)
    assert page.inner_text("#all-met") == "未全部达成"
    assert "2024" in page.inner_text("#explanation")
    session.shot("4-results-explained")

    # Change one thing: drop the yearly caps (the 28 million total stays), and run again.
    page.click("#change-again")
    for year in (2024, 2025, 2026):
        page.fill(f"#budget-form [name='year-{year}']", "")
    page.locator("#budget-form [name='year-2026']").dispatch_event("change")
    assert "capital_by_year" not in json.loads(page.input_value("#scenario-json"))["budget"]
    run_and_wait(session)
    assert page.inner_text("#all-met") == "全部达成"
    build = page.locator("#result-build tbody tr")
    assert build.count() > 50 and "新建" in page.inner_text("#result-build")
    targets = page.locator("#result-targets tbody tr")
    assert targets.count() == 4 and page.locator("#result-targets tbody tr.bad").count() == 0
    assert page.frame_locator("#map-frame").locator(".leaflet-interactive").count() > 100
    compare = page.inner_text("#compare-table")
    assert "未全部达成" in compare and "全部达成" in compare
    assert page.locator("#sites-added").count() == 1 and page.locator("#sites-removed").count() == 1
    session.shot("4-results")
    session.shot("4-results-full", full_page=True)

    files = page.locator("#result-downloads [data-file]").evaluate_all("nodes => nodes.map(n => n.dataset.file)")
    assert {"plan.json", "plan.gpkg", "plan.xlsx", "report.pdf", "map.html", "scenario.json"} <= set(files)
    gpkg = download(session, "plan.gpkg", tmp_path)
    with sqlite3.connect(gpkg) as conn:   # a GeoPackage: SQLite with its contents table and the facilities
        layers = {row[0] for row in conn.execute("SELECT table_name FROM gpkg_contents")}
    assert "facilities" in layers
    assert "<script" in download(session, "map.html", tmp_path).read_text(encoding="utf-8")
    assert json.loads(download(session, "scenario.json", tmp_path).read_text(encoding="utf-8"))["targets"] == [
        {"preset": "pingyin-2021"}]
    workbook = openpyxl.load_workbook(download(session, "plan.xlsx", tmp_path), read_only=True)
    build_sheet = next(sheet for sheet in workbook.worksheets if "建设清单" in sheet.title)
    cells = [str(c) for row in build_sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "榆山街道" in cells and build_sheet.max_row - 1 == build.count()   # the page's build list, row for row
    pdf = download(session, "report.pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "平阴" in text and "榆山街道" in text
    session.assert_offline()


def test_an_upload_with_a_bad_file_names_the_file_and_the_field(browser: Any, server: Server, tmp_path: Path) -> None:
    session = open_session(browser, server, server.key)
    page = session.page
    example = REPO / "scenarios" / "example"
    bad = tmp_path / "demand.geojson"
    bad.write_text("this is not GeoJSON", encoding="utf-8")
    page.fill("#upload-form [name='zone']", "street")   # the example's township field
    page.set_input_files("#upload-form [name='demand']", str(bad))
    page.set_input_files("#upload-form [name='sites']", str(example / "sites.geojson"))
    page.click("#upload-form [type='submit']")
    page.wait_for_selector("#problems li")
    problem = page.inner_text("#problems")
    assert "demand.path" in problem and "demand.geojson" in problem and "GeoJSON" in problem
    session.shot("1-start-upload-problem")

    # The same layers as a zipped Shapefile and a good GeoJSON, but a weight that is not a number.
    demand = json.loads((example / "demand.geojson").read_text(encoding="utf-8"))
    demand["features"][3]["properties"]["pop60"] = "many"
    bad.write_text(json.dumps(demand), encoding="utf-8")
    page.set_input_files("#upload-form [name='demand']", str(bad))
    page.set_input_files("#upload-form [name='sites']", str(_zipped_shapefile(example / "sites.geojson", tmp_path)))
    page.click("#upload-form [type='submit']")
    page.wait_for_selector("#problems li:has-text('demand.weights.elderly')")
    assert "pop60" in page.inner_text("#problems")

    # Fixed, the upload reads: the counts of the example.
    bad.write_text((example / "demand.geojson").read_text(encoding="utf-8"), encoding="utf-8")
    page.set_input_files("#upload-form [name='demand']", str(bad))
    page.click("#upload-form [type='submit']")
    page.wait_for_selector("#read-units")
    expected = len(demand["features"])
    assert page.inner_text("#read-units") == str(expected) and page.is_hidden("#problems")
    session.assert_offline()


def test_an_upload_of_a_geopackage_and_osm_roads_reads(browser: Any, server: Server) -> None:
    """One GeoPackage for demand and sites (two layers) and an OSM PBF for the roads, as a planner uploads them."""
    session = open_session(browser, server, server.key)
    page = session.page
    haidian = REPO / "geodata" / "haidian"
    page.set_input_files("#upload-form [name='demand']", str(haidian / "haidian.gpkg"))
    page.set_input_files("#upload-form [name='sites']", str(haidian / "haidian.gpkg"))
    page.set_input_files("#upload-form [name='network']", str(haidian / "tsinghua_wudaokou_2017.osm.pbf"))
    page.fill("#upload-form [name='zone']", "")
    page.fill("#upload-form [name='demand_layer']", "demand")
    page.fill("#upload-form [name='sites_layer']", "sites")
    page.click("#upload-form [type='submit']")
    page.wait_for_selector("#read-units")
    assert "沿道路步行距离" in page.inner_text("#read-summary")
    scenario = json.loads(page.input_value("#scenario-json"))
    assert scenario["network"]["path"].endswith("/tsinghua_wudaokou_2017.osm.pbf")
    assert scenario["demand"]["path"] == scenario["sites"]["path"]
    session.shot("1-start-upload-read")
    session.assert_offline()


def _zipped_shapefile(geojson: Path, tmp_path: Path) -> Path:
    """`geojson` as a Shapefile (GDAL's ogr2ogr), zipped with its sidecar files."""
    folder = tmp_path / "shp"
    folder.mkdir()
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(folder / "sites.shp"), str(geojson)], check=True,
                   capture_output=True)
    archive = tmp_path / "sites.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for part in sorted(folder.iterdir()):
            zipped.write(part, f"sites/{part.name}")
    return archive


def test_a_sweep_shows_its_frontier_and_a_level_opens(browser: Any, server: Server) -> None:
    session = open_session(browser, server, server.key)
    page = session.page
    choose_region(session, "example")
    page.click("[data-screen='sweep']")
    page.fill("#sweep-form [name='levels']", "3")
    page.click("#sweep-form [type='submit']")
    page.wait_for_selector("#frontier-chart circle[data-level='2']", timeout=RUN_S)
    rows = page.locator("#sweep-table tbody tr")
    assert rows.count() == 3
    session.shot("5-sweep")
    page.click("#frontier-chart circle[data-level='1']")
    page.wait_for_selector("#screen-results:not([hidden]) #all-met")
    assert page.locator("#result-build tbody tr").count() > 0
    assert page.locator("#result-targets tbody tr").count() > 0
    session.shot("5-sweep-level")
    page.click("#run-level")   # the level as a full solve: its map and downloads
    page.wait_for_selector("#result-downloads [data-file='map.html']", timeout=RUN_S)
    assert "全部达成" in page.inner_text("#all-met") and page.locator("#run-level").count() == 0
    assert page.locator("#compare-table").count() == 1   # the level's plan and its full solve side by side
    session.assert_offline()


def test_a_phased_county_sweeps_every_years_budget_scaled_together(browser: Any, server: Server) -> None:
    """The 2024-2026 programme: the sweep offers every year's cap scaled together or one year's, and
    sends the choice (the API's `scale_years` / `year`)."""
    session = open_session(browser, server, server.key)
    page = session.page
    choose_region(session, "pingyin-2024-2026")
    page.click("[data-screen='targets']")
    page.fill("#budget-form [name='time_limit_s']", "10")
    page.click("[data-screen='sweep']")
    years = page.locator("#sweep-form [name='years'] option")
    assert not page.locator("#sweep-years").is_hidden() and years.count() == 4   # scaled, 2024, 2025, 2026
    page.fill("#sweep-form [name='budgets']", "30000000, 70000000")
    with page.expect_request(lambda r: r.url.endswith("/v1/sweeps") and r.method == "POST") as sent:
        page.click("#sweep-form [type='submit']")
    assert json.loads(sent.value.post_data or "{}")["scale_years"] is True
    page.wait_for_selector("#sweep-table tbody tr", timeout=RUN_S)
    assert page.locator("#sweep-table tbody tr").count() >= 2
    session.shot("5-sweep-phased")
    session.assert_offline()


def test_a_scenario_pasted_as_json_runs_and_is_cancelled(browser: Any, server: Server) -> None:
    """The scenario JSON is the contract: pasted and applied, it is read; a long solve is watched, then cancelled."""
    session = open_session(browser, server, server.key)
    page = session.page
    page.click("[data-screen='targets']")
    page.fill("#scenario-json", json.dumps(slow_scenario(55)))
    page.click("#json-apply")
    playwright_api.expect(page.locator("#read-units")).to_have_text("1,200")
    assert page.locator("#targets-table tbody tr").count() == 0
    page.click("[data-screen='run']")
    page.click("#run-button")
    page.wait_for_selector("#status-word:has-text('运行中')", timeout=60_000)
    page.wait_for_selector("#job-progress dd[data-key='stage']")
    session.shot("3-run-progress")
    page.click("#cancel-button")
    page.wait_for_selector("#status-word:has-text('已取消')", timeout=30_000)
    session.shot("3-run-cancelled")
    session.assert_offline()


def test_two_keys_cannot_see_each_others_jobs(browser: Any, server: Server) -> None:
    other = create_key(server.data_dir, "planner-b")
    with server.client() as client:
        job_id = client.post("/v1/scenarios", json=tiny_scenario(1)[0]).raise_for_status().json()["id"]
        wait_job(client, job_id)
    mine = open_session(browser, server, server.key)
    mine.page.click("[data-screen='jobs']")
    mine.page.wait_for_selector(f"#jobs-table tr[data-job='{job_id}']")
    mine.shot("6-jobs")

    theirs = open_session(browser, server, other)
    theirs.page.click("[data-screen='jobs']")
    theirs.page.wait_for_selector("#jobs-table td")
    assert theirs.page.locator(f"#jobs-table tr[data-job='{job_id}']").count() == 0
    theirs.shot("6-jobs-other-key")
    status = theirs.page.evaluate("""async id => (await fetch('/v1/jobs/' + id + '/plan',
        {headers: {Authorization: 'Bearer ' + document.getElementById('api-key').value}})).status""", job_id)
    assert status == 404
    with httpx.Client(base_url=server.url, headers=bearer(other)) as client:
        assert client.get(f"/v1/jobs/{job_id}").status_code == 404

    nobody = open_session(browser, server, None)   # no key: told to enter one, nothing listed
    nobody.page.wait_for_selector("#notice.bad")
    assert "API" in nobody.page.inner_text("#notice")
    for session in (mine, theirs, nobody):
        session.assert_offline()


def test_the_pages_load_nothing_from_another_origin(browser: Any, server: Server) -> None:
    """The workbench, its English face and both API docs: only this server is asked, under a strict policy."""
    session = open_session(browser, server, server.key)
    page = session.page
    page.click("#lang-toggle")
    assert page.inner_text("h1") == "Elder-care facility planning workbench"
    session.shot("1-start-english")
    page.click("#lang-toggle")
    assert page.inner_text("h1") == "养老服务设施规划工作台"
    page.goto(server.url + "/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    page.locator(".opblock-summary", has_text="Submit a scenario to solve").first.wait_for()
    session.shot("7-api-docs")
    page.goto(server.url + "/v1/redoc")
    page.locator("h2", has_text="Submit a scenario to solve").first.wait_for()
    session.shot("7-api-redoc")
    session.assert_offline()
    for path in ("/", "/v1/docs", "/v1/redoc", "/static/web/app.js"):
        policy = httpx.get(server.url + path).headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self';" in policy and "http" not in policy
    assert "script-src 'unsafe-inline'" in httpx.get(
        server.url + "/v1/jobs/x/map.html", headers=server.headers).headers["content-security-policy"]


def test_the_recorder_catches_a_request_to_another_origin(browser: Any, server: Server) -> None:
    """The check above can fail: a script asking another origin is refused by the policy and reported."""
    session = open_session(browser, server, server.key)
    session.page.evaluate("() => fetch('http://127.0.0.2:9/leak').catch(() => null)")
    session.page.wait_for_timeout(300)
    with pytest.raises(AssertionError, match=r"Content Security Policy|other origins"):
        session.assert_offline()


def test_regions_copy_into_an_upload_of_the_key(server: Server) -> None:
    """POST /v1/regions/{id}/copy: the layers become the caller's upload, the scenario names them, it validates."""
    with server.client() as client:
        regions = {r["id"]: r for r in client.get("/v1/regions").raise_for_status().json()["regions"]}
        assert {"pingyin-2024-2026", "haidian-15min", "example"} <= set(regions)
        copy = client.post("/v1/regions/haidian-15min/copy").raise_for_status().json()
        upload_id = copy["upload"]["id"]
        assert client.post("/v1/regions/haidian-15min/copy").json()["upload"]["id"] == upload_id   # copied once
        assert copy["scenario"]["network"]["path"] == f"files/{upload_id}/tsinghua_wudaokou_2017.osm.pbf"
        read = client.post("/v1/scenarios/validate", json=copy["scenario"]).raise_for_status().json()
        assert read["units"] > 0 and read["reach"] == "network" and read["facility_types"] == ["station", "meal_point"]
        assert client.get("/v1/regions/nowhere/copy").status_code == 405
        assert client.post("/v1/regions/nowhere/copy").status_code == 404
    with httpx.Client(base_url=server.url, headers=bearer(create_key(server.data_dir, "c"))) as other:
        refused = other.post("/v1/scenarios/validate", json=copy["scenario"])
        assert refused.status_code == 422 and "was not uploaded" in refused.text
        assert other.get(f"/v1/files/{upload_id}").status_code == 404


def test_job_files_and_scenario_routes(server: Server) -> None:
    """Any file a finished job lists is served by name; nothing else is; the submitted scenario comes back."""
    scenario = tiny_scenario(2)[0]
    with server.client() as client:
        job = wait_job(client, client.post("/v1/scenarios", json=scenario).raise_for_status().json()["id"])
        assert client.get(f"/v1/jobs/{job['id']}/scenario").json() == scenario
        for name in job["result"]["artefacts"]:
            answer = client.get(f"/v1/jobs/{job['id']}/files/{name}")
            written = server.data_dir / "jobs" / job["id"] / name
            assert answer.status_code == 200 and answer.content == written.read_bytes()
        for name in ("..%2Fjobs.sqlite3", ".hidden", "nothing.txt", "plan.json%00"):
            assert client.get(f"/v1/jobs/{job['id']}/files/{name}").status_code == 404
        assert client.get(f"/v1/jobs/{job['id']}/files/jobs.sqlite3").status_code == 404
