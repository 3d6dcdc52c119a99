"""The shipped Haidian region: the GeoPackage is what its generator makes from the OSM extract."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import pytest

REGION = Path(__file__).resolve().parents[1] / "geodata" / "haidian"


def test_generator_recreates_the_shipped_geopackage_from_the_pbf(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("haidian_build", REGION / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    build.main(tmp_path / "haidian.gpkg")
    for layer in ("demand", "sites"):
        made = gpd.read_file(tmp_path / "haidian.gpkg", layer=layer)
        shipped = gpd.read_file(REGION / "haidian.gpkg", layer=layer)
        assert made["id"].tolist() == shipped["id"].tolist()
        assert made.geometry.geom_equals_exact(shipped.geometry, tolerance=1e-9).all()
    demand = gpd.read_file(REGION / "haidian.gpkg", layer="demand")
    assert len(demand) == 87 and demand["pop"].sum() == pytest.approx(31_105, abs=1)
    assert (demand["pop60"] / demand["pop"]).round(2).eq(0.2).all()


def test_provenance_keeps_the_openstreetmap_attribution() -> None:
    text = (REGION / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "© OpenStreetMap contributors, ODbL 1.0" in text
    assert "1b4f0dbac01402cd9bb9878e620f54368c873de2dd42926ba7bd4ccd2ffbf632" in text
