"""Charts draw Chinese with a CJK font registered from its file: no missing glyph in map.png, targets.png
or frontier.png, even when matplotlib's font cache predates the font; no font at all fails loudly."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from optimizer.errors import ExportError
from optimizer.export import fonts
from optimizer.export.charts import write_map_png, write_targets_png
from optimizer.export.layers import plan_layers
from optimizer.sweep.chart import write_chart
from tests.export_helpers import ARTIFACTS, pingyin_bundle

REPO = Path(__file__).resolve().parents[1]


def _frontier(name: str) -> dict[str, object]:
    """A frontier.json document as the sweep writes it (two levels), under a Chinese scenario name."""
    level = {"budget": 20e6, "capital": 19e6, "coverage": 900.0, "coverage_share": 0.6, "monotone": True,
             "time_limited": False, "marginal_cny_per_covered": None}
    return {"scenario": name, "weight": "elderly", "least_sufficient": {"budget": 20e6, "proven": True},
            "levels": [level, level | {"budget": 30e6, "capital": 29e6, "coverage": 1000.0, "coverage_share": 0.7,
                                       "marginal_cny_per_covered": 100_000.0}]}


def test_no_glyph_is_missing_in_map_targets_and_frontier(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bundle = pingyin_bundle()   # Chinese township names, target labels and scenario name
    layers = plan_layers(bundle)
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        write_map_png(bundle, layers, tmp_path / "map.png")
        write_targets_png(bundle, tmp_path / "targets.png")
        write_chart(_frontier(bundle.scenario.name), tmp_path / "frontier.png")
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "Glyph" in m or "missing from font" in m], messages
    for name in ("map.png", "targets.png", "frontier.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "frontier_cjk.png").write_bytes((tmp_path / "frontier.png").read_bytes())


def test_a_stale_font_cache_without_the_cjk_font_still_draws_chinese(tmp_path: Path) -> None:
    """The issue's case: matplotlib's cache was written before the font was installed."""
    cache_dir = tmp_path / "mpl"
    env = dict(os.environ, MPLCONFIGDIR=str(cache_dir), PYTHONPATH=str(REPO))
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, check=True, timeout=120)
    cache = next(cache_dir.glob("fontlist-*.json"))
    document = json.loads(cache.read_text(encoding="utf-8"))
    family = fonts.cjk_family()
    document["ttflist"] = [f for f in document["ttflist"] if f["name"] != family]   # the font "installed later"
    cache.write_text(json.dumps(document), encoding="utf-8")
    script = ("import warnings, sys\n"
              "from pathlib import Path\n"
              "from optimizer.sweep.chart import write_chart\n"
              "from tests.test_export_fonts import _frontier\n"
              "warnings.simplefilter('error')\n"
              f"write_chart(_frontier('平阴县 养老服务设施规划'), Path({str(tmp_path / 'f.png')!r}))\n")
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Glyph" not in run.stderr and (tmp_path / "f.png").exists()


def test_without_a_cjk_font_the_export_fails_naming_the_package(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    monkeypatch.setattr(fonts, "KNOWN_FILES", ())
    monkeypatch.setenv("PATH", str(tmp_path))   # no fc-list
    fonts.cjk_family.cache_clear()
    try:
        with pytest.raises(ExportError, match="fonts-wqy-microhei"):
            write_chart(_frontier("平阴县"), tmp_path / "frontier.png")
        assert not (tmp_path / "frontier.png").exists()
    finally:
        fonts.cjk_family.cache_clear()


def test_long_titles_are_wrapped_to_the_figure() -> None:
    title = "平阴县 2024–2026 elder-care programme, phased (demo county, synthetic data): targets, achieved vs required"
    lines = fonts.fit_text(title, 6, 10).split("\n")
    assert len(lines) == 2 and "".join(lines).replace(" ", "") == title.replace(" ", "")
    chinese = "平阴县养老服务设施布局规划" * 8
    wrapped = fonts.fit_text(chinese, 4, 10).split("\n")
    assert len(wrapped) > 1 and "".join(wrapped) == chinese
    assert all(len(line) <= 0.92 * 4 * 72 / 10 for line in wrapped)
