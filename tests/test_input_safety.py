"""Input files are opened as what their names say, and only as that (`optimizer.inputs.drivers`).

Every bypass (a VRT, a GDAL pipeline or a job store under a data file's name; a URL or a
``/vsi…`` path) is refused with exit 2 naming the field and the file, before anything outside
the scenario's folder is read or any URL fetched: the secret it aims at appears nowhere, and the
listener hears no request. Real files in ``tmp_path``; the engine and the CLI both.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
from input_safety_helpers import (
    CONTENT_BYPASSES,
    OTHER_USERS_SCENARIO,
    SECRET,
    Outside,
    listener,
    outside_files,
    path_bypasses,
    vrt_reading,
    with_source,
)
from typer.testing import CliRunner

from api.files import DATA_SUFFIXES, name_problem
from optimizer.cli.main import app
from optimizer.errors import GeodataError
from optimizer.inputs.drivers import FORMATS, gdal_drivers, harden_gdal, input_format, vector_info
from optimizer.plan import prepare
from optimizer.scenario.format import load_scenario

runner = CliRunner()


@pytest.fixture
def outside(tmp_path: Path) -> Outside:
    """The secret files, outside the scenario's folder."""
    return outside_files(tmp_path / "outside")


@pytest.fixture
def folder(example_dir: Path) -> Path:
    """The example scenario's folder (a copy)."""
    return example_dir


def _write(folder: Path, doc: dict[str, Any]) -> Path:
    path = folder / "scenario.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _refused_everywhere(path: Path, field: str, name: str) -> None:
    """The engine raises GeodataError at `field`.path naming `name`; `eldercare validate` exits 2 saying so."""
    scenario, base_dir = load_scenario(path)
    with pytest.raises(GeodataError, match=rf"{field}\.path") as raised:
        prepare(scenario, base_dir)
    assert name in str(raised.value)
    result = runner.invoke(app, ["validate", str(path)])
    flat = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"{field}.path" in flat and name in flat
    for text in (str(raised.value), result.output):
        assert SECRET not in text and OTHER_USERS_SCENARIO not in text and "Traceback" not in text


@pytest.mark.parametrize("case", sorted(CONTENT_BYPASSES))
def test_file_whose_content_is_not_what_its_name_says_is_refused(
        case: str, folder: Path, outside: Outside, example_doc: dict[str, Any]) -> None:
    field, name, content = CONTENT_BYPASSES[case]
    (folder / name).write_bytes(content(outside))
    _refused_everywhere(_write(folder, with_source(example_doc, field, name)), field, name)


def test_url_and_virtual_file_system_paths_are_refused_and_nothing_is_fetched(
        folder: Path, outside: Outside, example_doc: dict[str, Any]) -> None:
    with listener() as (url, heard):
        cases = path_bypasses(url, outside)
        for field, path in cases.values():
            _refused_everywhere(_write(folder, with_source(example_doc, field, path)), field, "not a local file")
    assert heard == []
    assert len(cases) == 6


def test_gdal_itself_refuses_a_vrt_once_hardened(tmp_path: Path, outside: Outside) -> None:
    """Defence in depth: with the name and content checks bypassed, GDAL has no VRT driver left."""
    harden_gdal()
    assert set(pyogrio.list_drivers()) <= gdal_drivers()
    vrt = tmp_path / "demand.geojson"
    vrt.write_bytes(vrt_reading(outside.csv))
    with pytest.raises(pyogrio.errors.DataSourceError, match="not recognized"):
        pyogrio.read_dataframe(vrt)


def test_gdal_fetches_nothing_once_hardened(tmp_path: Path) -> None:
    """No /vsicurl/ read, and no GeoJSON ``crs`` link, reaches the network."""
    harden_gdal()
    linked = tmp_path / "linked.geojson"
    with listener() as (url, heard):
        linked.write_text(json.dumps({
            "type": "FeatureCollection", "crs": {"type": "link", "properties": {"href": f"{url}/crs.wkt"}},
            "features": [{"type": "Feature", "properties": {"id": "a"},
                          "geometry": {"type": "Point", "coordinates": [116.3, 39.9]}}]}), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # GDAL reports its failed fetch as a warning
            with pytest.raises(pyogrio.errors.DataSourceError):
                pyogrio.read_dataframe(f"/vsicurl/{url}/x.geojson")
            assert len(pyogrio.read_dataframe(linked)) == 1
    assert heard == []


def test_driver_gdal_chose_must_be_the_one_the_name_says(tmp_path: Path, example_dir: Path) -> None:
    harden_gdal()
    geojson = example_dir / "demand.geojson"
    with pytest.raises(GeodataError, match=r"demand\.path: demand\.geojson is named as GeoPackage but GDAL "
                       "reads it as GeoJSON"):
        vector_info(geojson, FORMATS[".gpkg"], "demand.path")


@pytest.mark.parametrize("name", ["demand.kml", "demand.vrt", "demand.gdalg.json", "demand.zip", "demand"])
def test_name_without_an_accepted_ending_is_refused_naming_the_endings(name: str) -> None:
    with pytest.raises(GeodataError, match=rf"demand\.path: {name} is not a format the optimizer reads here"
                       r".*give one of \.geojson, \.json, \.gpkg, \.shp, \.fgb$"):
        input_format(name, "demand.path")


@pytest.mark.parametrize("suffix", [".geojson", ".json", ".gpkg", ".shp", ".fgb"])
def test_every_accepted_layer_format_still_reads(suffix: str, example_dir: Path,
                                                 example_doc: dict[str, Any]) -> None:
    frame = gpd.read_file(example_dir / "demand.geojson")
    driver = FORMATS[suffix].driver
    frame.to_file(example_dir / f"units{suffix}", driver=driver, engine="pyogrio",
                  **({"layer": "units"} if suffix == ".gpkg" else {}))
    doc = with_source(example_doc, "demand", f"units{suffix}")
    if suffix == ".gpkg":
        doc["demand"] = doc["demand"] | {"layer": "units"}   # type: ignore[operator]
    scenario, base_dir = load_scenario(_write(example_dir, doc))
    assert prepare(scenario, base_dir).region.demand.n == len(frame) == 100


def test_upload_endings_are_the_format_map() -> None:
    assert tuple(FORMATS) == DATA_SUFFIXES
    assert name_problem("demand.gdalg.json") is not None and name_problem("demand.fgb") is None
