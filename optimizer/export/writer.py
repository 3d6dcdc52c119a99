"""Which export files to write, and writing them: the entry point of `optimizer.export`.

Formats and the files they write into the output folder:

- ``gpkg``: plan.gpkg, every layer, in the scenario's CRS or `crs` (e.g. EPSG:4490, CGCS2000);
- ``geojson``: plan.geojson, the facilities layer in EPSG:4326 (RFC 7946);
- ``csv``: plan.csv, the build list (建设清单, one row per facility) with the facility layer's
  columns and lon/lat, UTF-8 with a byte-order mark (Excel reads
  Chinese names correctly only with it);
- ``xlsx``: plan.xlsx, the workbook for the finance bureau (`optimizer.export.workbook`);
- ``html``: map.html, the offline web map;
- ``png``: map.png and targets.png;
- ``report``: report.html (the plan as a document for the meeting, self-contained) and
  report.pdf (it printed by headless Chromium). ``all`` includes it when Chromium is
  installed; asked for by name without Chromium, it is refused before any solving.

Each file is written whole or not at all, and the files of one call replace the earlier ones
together (`optimizer.report.atomic`): a failed export leaves the previous export intact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import cast

import geopandas as gpd
import pandas as pd

from optimizer.errors import ExportError
from optimizer.export.bundle import PlanBundle
from optimizer.export.layers import plan_layers
from optimizer.export.pdf import pdf_engine, print_pdf, require_pdf_engine
from optimizer.export.tables import build_list_table
from optimizer.export.workbook import write_workbook
from optimizer.report.atomic import replaced_together, write_bytes, write_text, written_at

FORMATS = ("gpkg", "geojson", "csv", "xlsx", "html", "png", "report")
FILES = {"gpkg": ("plan.gpkg",), "geojson": ("plan.geojson",), "csv": ("plan.csv",), "xlsx": ("plan.xlsx",),
         "html": ("map.html",), "png": ("map.png", "targets.png"), "report": ("report.html", "report.pdf")}
"""Format -> the files it writes into the output folder."""


def export_files(formats: tuple[str, ...]) -> tuple[str, ...]:
    """The names of the files `formats` write (for checking the output folder before a run)."""
    return tuple(name for fmt in formats for name in FILES[fmt])


def parse_formats(text: str) -> tuple[str, ...]:
    """``"all"``, ``"none"`` or a comma-separated subset of `FORMATS`; unknown names raise `ExportError`.

    ``all`` leaves ``report`` out when no PDF engine (Chromium) is installed; ``report`` named
    without one raises `ExportError` saying what to install.
    """
    text = text.strip().lower()
    if text in ("all", ""):
        return FORMATS if pdf_engine() is not None else tuple(f for f in FORMATS if f != "report")
    if text == "none":
        return ()
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in FORMATS]
    if unknown:
        raise ExportError(f"unknown export format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}, "
                          "'all' or 'none'", "--formats")
    if "report" in names:
        require_pdf_engine()
    return names


def check_crs(crs: str | None) -> str | None:
    """The CRS as given if pyproj knows it; `ExportError` naming ``--crs`` otherwise."""
    if crs is None:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        CRS.from_user_input(crs)
    except CRSError:
        raise ExportError(f"'{crs}' is not a coordinate reference system pyproj knows; give e.g. "
                          "'EPSG:4490' (CGCS2000)", "--crs") from None
    return crs


def _reprojected(layers: dict[str, pd.DataFrame], crs: str) -> dict[str, pd.DataFrame]:
    out = {name: frame.to_crs(crs) if isinstance(frame, gpd.GeoDataFrame) else frame
           for name, frame in layers.items()}
    info = out["plan_info"].copy()
    info.loc[info["key"] == "layer_crs", "value"] = crs
    out["plan_info"] = info
    return out


def write_csv(facilities: gpd.GeoDataFrame, path: Path, builds: pd.DataFrame | None = None) -> Path:
    """The facilities table with ``lon``/``lat`` (EPSG:4326) and ``x``/``y`` (layer CRS).

    With `builds` (`optimizer.export.tables.build_list_table`): one row per build-list row, in its
    order, its columns first, then the facility layer's other columns.
    """
    lonlat = facilities.geometry.to_crs("EPSG:4326")
    table = pd.DataFrame(facilities.drop(columns=facilities.geometry.name))
    table["lon"], table["lat"] = lonlat.x.round(7), lonlat.y.round(7)
    table["x"], table["y"] = facilities.geometry.x.round(3), facilities.geometry.y.round(3)
    if builds is not None:
        rest = [c for c in table.columns if c not in builds.columns or c in ("site", "type")]
        table = builds.merge(table[rest], on=["site", "type"], how="left", validate="one_to_one")
    return write_bytes(path, table.to_csv(index=False).encode("utf-8-sig"))


def write_exports(bundle: PlanBundle, out_dir: Path, *, formats: tuple[str, ...] = FORMATS,
                  crs: str | None = None) -> list[tuple[str, list[Path], float]]:
    """Write the export files of `formats` into `out_dir`.

    Parameters
    ----------
    bundle : PlanBundle
        The checked plan.
    out_dir : Path
        Output folder (created).
    formats : tuple of str
        A subset of `FORMATS`.
    crs : str, optional
        CRS of plan.gpkg (default: the scenario's metric CRS).

    Returns
    -------
    list of (step, paths, seconds)
        ``("layers", [], s)`` for building the layers shared by all formats, then one entry
        per format with the files it wrote.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    layers = plan_layers(bundle)
    done: list[tuple[str, list[Path], float]] = [("layers", [], time.perf_counter() - began)]
    jobs = _jobs(bundle, layers, out_dir, crs)
    with replaced_together():   # every file of this export replaces its earlier version, or none does
        for name in formats:
            began = time.perf_counter()
            paths = jobs[name]()
            done.append((name, paths, time.perf_counter() - began))
    return done


def _jobs(bundle: PlanBundle, layers: dict[str, pd.DataFrame], out_dir: Path,
          crs: str | None) -> dict[str, Callable[[], list[Path]]]:
    """Format -> a function writing its files."""
    from optimizer.export.charts import map_png_bytes, write_targets_png
    from optimizer.export.gpkg import write_gpkg
    from optimizer.export.webmap import write_webmap

    spatial = cast(dict[str, gpd.GeoDataFrame], layers)   # the layers these writers read are GeoDataFrames
    path = {fmt: [out_dir / name for name in names] for fmt, names in FILES.items()}
    map_png = cache(lambda: map_png_bytes(bundle, spatial))   # drawn once for map.png and the report
    return {
        "gpkg": lambda: [write_gpkg(bundle, _reprojected(layers, crs) if crs else layers, path["gpkg"][0])],
        "geojson": lambda: [_write_geojson(spatial["facilities"], path["geojson"][0])],
        "csv": lambda: [write_csv(spatial["facilities"], path["csv"][0], build_list_table(bundle))],
        "xlsx": lambda: [write_workbook(bundle, layers, path["xlsx"][0])],
        "html": lambda: [write_webmap(bundle, spatial, path["html"][0])],
        "png": lambda: [write_bytes(path["png"][0], map_png()), write_targets_png(bundle, path["png"][1])],
        "report": lambda: write_report(bundle, spatial, out_dir, map_png()),
    }


def write_report(bundle: PlanBundle, layers: dict[str, gpd.GeoDataFrame], out_dir: Path, map_png: bytes) -> list[Path]:
    """report.html and report.pdf in `out_dir`: map.png embedded in the page, the page printed by Chromium."""
    from optimizer.export.report import report_html

    page = report_html(bundle, layers, map_png, out_dir)
    pdf = print_pdf(page, out_dir / "report.pdf")
    return [write_text(out_dir / "report.html", page), pdf]


def _write_geojson(facilities: gpd.GeoDataFrame, path: Path) -> Path:
    lonlat = facilities.to_crs("EPSG:4326")
    with written_at(path) as tmp:
        lonlat.to_file(tmp, driver="GeoJSON", engine="pyogrio", layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})
    return path
