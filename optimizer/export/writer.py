"""Which export files to write, and writing them: the entry point of `optimizer.export`.

Formats and the files they write into the output folder:

- ``gpkg``: plan.gpkg, every layer, in the scenario's CRS or `crs` (e.g. EPSG:4490, CGCS2000);
- ``geojson``: plan.geojson, the facilities layer in EPSG:4326 (RFC 7946);
- ``csv``: plan.csv, the facilities with lon/lat, UTF-8 with a byte-order mark (Excel reads
  Chinese names correctly only with it);
- ``html``: map.html, the offline web map;
- ``png``: map.png and targets.png.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

import geopandas as gpd
import pandas as pd

from optimizer.errors import ExportError
from optimizer.export.bundle import PlanBundle
from optimizer.export.layers import plan_layers

FORMATS = ("gpkg", "geojson", "csv", "html", "png")


def parse_formats(text: str) -> tuple[str, ...]:
    """``"all"``, ``"none"`` or a comma-separated subset of `FORMATS`; unknown names raise `ExportError`."""
    text = text.strip().lower()
    if text in ("all", ""):
        return FORMATS
    if text == "none":
        return ()
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in FORMATS]
    if unknown:
        raise ExportError(f"unknown export format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}, "
                          "'all' or 'none'", "--formats")
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


def write_csv(facilities: gpd.GeoDataFrame, path: Path) -> Path:
    """The facilities table with ``lon``/``lat`` (EPSG:4326) and ``x``/``y`` (layer CRS)."""
    lonlat = facilities.geometry.to_crs("EPSG:4326")
    table = pd.DataFrame(facilities.drop(columns=facilities.geometry.name))
    table["lon"], table["lat"] = lonlat.x.round(7), lonlat.y.round(7)
    table["x"], table["y"] = facilities.geometry.x.round(3), facilities.geometry.y.round(3)
    table.to_csv(path, index=False, encoding="utf-8-sig")
    return path


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
    for name in formats:
        began = time.perf_counter()
        paths = jobs[name]()
        done.append((name, paths, time.perf_counter() - began))
    return done


def _jobs(bundle: PlanBundle, layers: dict[str, pd.DataFrame], out_dir: Path,
          crs: str | None) -> dict[str, Callable[[], list[Path]]]:
    """Format -> a function writing its files."""
    from optimizer.export.charts import write_map_png, write_targets_png
    from optimizer.export.gpkg import write_gpkg
    from optimizer.export.webmap import write_webmap

    spatial = cast(dict[str, gpd.GeoDataFrame], layers)   # the layers these writers read are GeoDataFrames
    return {
        "gpkg": lambda: [write_gpkg(bundle, _reprojected(layers, crs) if crs else layers, out_dir / "plan.gpkg")],
        "geojson": lambda: [_write_geojson(spatial["facilities"], out_dir / "plan.geojson")],
        "csv": lambda: [write_csv(spatial["facilities"], out_dir / "plan.csv")],
        "html": lambda: [write_webmap(bundle, spatial, out_dir / "map.html")],
        "png": lambda: [write_map_png(bundle, spatial, out_dir / "map.png"),
                        write_targets_png(bundle, out_dir / "targets.png")],
    }


def _write_geojson(facilities: gpd.GeoDataFrame, path: Path) -> Path:
    path.unlink(missing_ok=True)
    facilities.to_crs("EPSG:4326").to_file(path, driver="GeoJSON", engine="pyogrio",
                                           layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})
    return path
