"""report.html and report.pdf: the plan as a document for the bureau meeting, printed by real headless
Chromium and read back with poppler's pdftotext / pdfinfo; a sweep's level report carries the frontier."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.errors import ExportError
from optimizer.export import bundle_from_plan_file, parse_formats, write_exports
from optimizer.export.charts import map_png_bytes
from optimizer.export.layers import plan_layers
from optimizer.export.pdf import pdf_engine
from optimizer.export.report import report_html
from optimizer.sweep.run import SweepSettings, sweep_file
from tests.export_helpers import ARTIFACTS, EXAMPLE, example_bundle, pingyin_bundle, require


def _pdf_text(path: Path) -> str:
    run = subprocess.run([require("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True,
                         timeout=60, check=True)
    return run.stdout


def _pages(path: Path) -> int:
    run = subprocess.run([require("pdfinfo"), str(path)], capture_output=True, text=True, timeout=60, check=True)
    found = re.search(r"^Pages:\s+(\d+)$", run.stdout, re.M)
    assert found is not None, run.stdout
    return int(found.group(1))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if pdf_engine() is None:
        pytest.skip("`chromium` is not installed (.ci/run installs it with apt-get)")
    out = tmp_path_factory.mktemp("report")
    write_exports(pingyin_bundle(), out, formats=("report",))
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(out / "report.pdf", ARTIFACTS / "report.pdf")
    return out


def test_pdf_names_the_county_every_target_and_the_sites_to_build(report: Path) -> None:
    text = re.sub(r"\s+", "", _pdf_text(report / "report.pdf"))   # table cells wrap: compare without spaces
    bundle = pingyin_bundle()
    assert "平阴县" in text
    for target in bundle.scenario.targets:
        assert target.label and re.sub(r"\s+", "", target.label) in text, target.label
    new = [f for f in bundle.plan["facilities"] if f["new"]]
    names = {f["name"] for f in new if f.get("name")}
    missing = [name for name in names if re.sub(r"\s+", "", name) not in text]
    assert names and not missing, missing   # every new facility's site by name
    headings = ("一、规划要求", "二、方案结论", "四、建设清单", "五、目标要求与实际达成", "八、数据来源",
                "九、方法说明")
    assert all(heading in text for heading in headings)
    for english in ("Whatwasasked", "Theanswer", "Buildlistbytownship", "Dataprovenance"):
        assert english in text
    assert "合成（虚构）数据" in text and "Syntheticdata" in text   # the demo county's data said plainly synthetic
    assert "129,134,400" in text and "0.018%" in text   # the checked total cost and the proven gap


def test_pdf_has_pages_and_a_page_count_that_fits_the_plan(report: Path) -> None:
    pages = _pages(report / "report.pdf")
    assert 4 <= pages <= 60, pages   # title, answer, map, build list of 211 facilities, targets, provenance


def test_html_is_self_contained_and_bilingual(report: Path) -> None:
    page = (report / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""<(script|link|iframe)\b""", page, re.I)
    sources = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)""", page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "default-src 'none'" in page
    assert page.index("规划要求") < page.index("What was asked")   # Chinese first, English beside it
    years = pingyin_bundle().plan["years"]
    for year in years:   # required against achieved per year: a column per planning year
        assert f"{year}年" in page


def test_report_named_without_chromium_is_refused_with_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))   # no browser on this PATH
    with pytest.raises(ExportError, match="apt-get install chromium"):
        parse_formats("report")
    assert "report" not in parse_formats("all") and "png" in parse_formats("all")


def test_cli_without_chromium_says_so_and_exits_2(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    run = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(EXAMPLE), "--out", str(tmp_path / "out"),
                          "--formats", "report"], capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Chromium" in run.stdout + run.stderr and "Traceback" not in run.stdout + run.stderr


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real two-level sweep of the example under a Chinese name (its frontier.png title is Chinese)."""
    folder = tmp_path_factory.mktemp("sweep")
    for name in ("demand.geojson", "sites.geojson"):
        shutil.copy(EXAMPLE.parent / name, folder / name)
    scenario = json.loads(EXAMPLE.read_text(encoding="utf-8")) | {"name": "示例区 2026 养老设施规划（合成数据）"}
    (folder / "scenario.json").write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
    sweep_file(folder / "scenario.json", SweepSettings(folder / "out", budgets=(21_566_579.0, 30e6)))
    return folder / "out"


def test_a_sweep_levels_report_carries_the_frontier(sweep_dir: Path) -> None:
    if pdf_engine() is None:
        pytest.skip("`chromium` is not installed (.ci/run installs it with apt-get)")
    frontier = json.loads((sweep_dir / "frontier.json").read_text(encoding="utf-8"))
    level = sweep_dir / frontier["levels"][-1]["plan"]
    bundle = bundle_from_plan_file(level, scenario_path=sweep_dir.parent / "scenario.json")   # levels record none
    write_exports(bundle, level.parent, formats=("report",))
    page = (level.parent / "report.html").read_text(encoding="utf-8")
    assert "七、投资与覆盖率关系" in page and page.count("data:image/png;base64,") == 2   # the map and frontier.png
    text = re.sub(r"\s+", "", _pdf_text(level.parent / "report.pdf"))
    assert "Cost–coveragefrontier" in text and "21,566,579" in text   # the least sufficient budget


def test_a_one_year_plan_without_provenance_says_so(tmp_path: Path) -> None:
    bundle = example_bundle()
    layers = plan_layers(bundle)
    page = report_html(bundle, layers, map_png_bytes(bundle, layers), tmp_path)
    assert "No PROVENANCE file beside the data" in page   # the example ships none: the reader is told to check
    assert "Synthetic data" in page   # its name says synthetic
    assert "By year" not in page and "七、投资与覆盖率关系" not in page   # no years, no sweep here
    for facility in bundle.checked.facilities:   # the build list holds every facility, by its site id at least
        assert html.escape(str(facility["site"])) in page
    assert "33,056,579" in page   # the example's checked optimum


def test_targets_from_a_policy_preset_carry_their_clause(tmp_path: Path) -> None:
    from optimizer import solve_file
    from optimizer.export import bundle_from_result
    from optimizer.report.document import plan_document

    county = Path(__file__).resolve().parents[1] / "scenarios" / "pingyin-2026.json"
    scenario = json.loads(county.read_text(encoding="utf-8"))
    scenario["targets"] = [{"preset": "pingyin-2021", "skip": ["existing-compounds-land", "county-centre"]}]
    for key in ("demand", "sites", "network", "boundaries"):   # the county's data, read where it is
        scenario[key]["path"] = str((county.parent / scenario[key]["path"]).resolve())
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(scenario, ensure_ascii=False), encoding="utf-8")
    result = solve_file(path, backend="highs")
    bundle = bundle_from_result(result, json.loads(json.dumps(plan_document(result), ensure_ascii=False)))
    layers = plan_layers(bundle)
    page = report_html(bundle, layers, map_png_bytes(bundle, layers), tmp_path)
    for target in bundle.scenario.targets:
        assert target.source and html.escape(target.source) in page   # the document, its clause and quote
    assert "平政办字〔2021〕15号" in page
