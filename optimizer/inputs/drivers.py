"""Input formats: a data file is opened as what its name says it is, and only as that.

GDAL chooses a driver from a file's content, not its name: a ``demand.geojson`` holding an OGR
VRT is read as VRT, and a VRT (or a GDAL pipeline, ``.gdalg.json``) can name any file on the
machine, run SQL on any SQLite database, or fetch a URL. So every input file passes four gates:

1. its name maps to exactly one format (`FORMATS`), and the field accepts that format;
2. its path is a local file: no ``/vsi…`` handler (``/vsicurl/``, ``/vsizip/``…), no URL;
3. its first bytes are what that format starts with (`sniff`);
4. GDAL is hardened once per process (`harden_gdal`): only the drivers of `FORMATS` stay
   registered, and every network fetch fails; after opening, the driver GDAL used must be the one
   the name promised (`vector_info`).

Flow: scenario paths → **drivers** → geodata, the walking network, distance tables.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pyogrio

from optimizer.errors import GeodataError

Reader = Literal["gdal", "pandas", "pyrosm"]
LAYER_READERS: tuple[Reader, ...] = ("gdal",)
NETWORK_READERS: tuple[Reader, ...] = ("gdal", "pyrosm")
TABLE_READERS: tuple[Reader, ...] = ("pandas",)


@dataclass(frozen=True)
class Format:
    """One accepted input format.

    Attributes
    ----------
    name : str
        What a planner calls it, for messages.
    driver : str
        The GDAL driver that reads it (``reader == "gdal"``), else the pandas or pyrosm reader.
    reader : {"gdal", "pandas", "pyrosm"}
        Which library opens it; GDAL never opens a pandas or pyrosm format.
    """

    name: str
    driver: str
    reader: Reader


_GEOJSON = Format("GeoJSON", "GeoJSON", "gdal")
_PARQUET = Format("Parquet", "Parquet", "pandas")
_PBF = Format("OpenStreetMap PBF", "OSM PBF", "pyrosm")
#: The one map from a file name's ending (lower case) to its format; the longest ending wins.
FORMATS: dict[str, Format] = {
    ".geojson": _GEOJSON,
    ".json": _GEOJSON,
    ".gpkg": Format("GeoPackage", "GPKG", "gdal"),
    ".shp": Format("Shapefile", "ESRI Shapefile", "gdal"),
    ".fgb": Format("FlatGeobuf", "FlatGeobuf", "gdal"),
    ".csv": Format("CSV", "CSV", "pandas"),
    ".parquet": _PARQUET,
    ".pq": _PARQUET,
    ".osm.pbf": _PBF,
    ".pbf": _PBF,
}
#: Endings refused by name even though a shorter ending matches: a GDAL pipeline is not data.
REFUSED = {".gdalg.json": "a GDAL pipeline (.gdalg.json) runs GDAL commands; it is not a data file"}

#: GDAL configuration set once per process before any read (see `harden_gdal`).
#: The /vsicurl/ family (/vsicurl/, /vsis3/, /vsigs/, /vsiaz/, …) accepts only a file name that
#: cannot exist; every other HTTP fetch GDAL makes (e.g. a GeoJSON ``crs`` link) goes through a
#: proxy on port 0, which fails at once without a packet sent.
NETWORK_OFF = {
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/nonexistent/eldercare-reads-local-files-only",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".eldercare-reads-local-files-only",
    "GDAL_HTTP_PROXY": "127.0.0.1:0",
    "GDAL_HTTPS_PROXY": "127.0.0.1:0",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_ALLOW_VSISTDIN": "NO",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "GDAL_ALLOW_REMOTE_RESOURCE_TO_ACCESS_LOCAL_FILE": "NO",
}
_HEAD_BYTES = 1 << 16
_GEOJSON_TYPE = re.compile(r'"type"\s*:\s*"(FeatureCollection|Feature)"')
_GDAL_PIPELINE = re.compile(r'"type"\s*:\s*"gdal_|<OGRVRTDataSource|<VRTDataset', re.IGNORECASE)
_GPKG_IDS = (b"GPKG", b"GP10", b"GP11")   # SQLite application_id (header offset 68) of GeoPackage 1.2+, 1.0, 1.1


def accepted(readers: Collection[Reader]) -> list[str]:
    """The file endings a field read by `readers` accepts, e.g. ``['.geojson', '.json', …]``."""
    return [ending for ending, fmt in FORMATS.items() if fmt.reader in readers]


def readers_for(field: str) -> tuple[Reader, ...]:
    """The readers the scenario field `field` (e.g. ``network.path``) is read with."""
    if field.startswith("network."):
        return NETWORK_READERS
    return TABLE_READERS if field.startswith("distances.") else LAYER_READERS


def gdal_drivers() -> frozenset[str]:
    """The GDAL drivers `FORMATS` needs: the only ones `harden_gdal` leaves registered."""
    return frozenset(fmt.driver for fmt in FORMATS.values() if fmt.reader == "gdal")


def input_format(path: str | Path, where: str, *, readers: Collection[Reader] = LAYER_READERS) -> Format:
    """The one format `path` is read as, from its name; no file is opened.

    Parameters
    ----------
    path : str or Path
        The path as the scenario gives it, or joined to the scenario's folder.
    where : str
        The field naming the file (``demand.path``), for the error.
    readers : collection of {"gdal", "pandas", "pyrosm"}
        The readers the field accepts (layers: GDAL; a network: GDAL or pyrosm; tables: pandas).

    Raises
    ------
    GeodataError
        For a remote or ``/vsi…`` path, or a name that is not a format the field reads.
    """
    text = str(path)
    if text.lower().startswith("/vsi") or "://" in text or re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", text):
        raise GeodataError(f"'{text[:120]}' is not a local file: the optimizer reads local files only (no "
                           "URLs, no GDAL /vsi… paths); download the data and give its path", where)
    name = Path(text).name.lower()
    refused = next((why for ending, why in REFUSED.items() if name.endswith(ending)), None)
    ending = max((e for e in FORMATS if name.endswith(e)), key=len, default=None)
    if refused is None and ending is not None and FORMATS[ending].reader in readers:
        return FORMATS[ending]
    why = f" ({refused})" if refused else ""
    raise GeodataError(f"{Path(text).name[:120]} is not a format the optimizer reads here{why}; give one of "
                       f"{', '.join(accepted(readers))}", where)


def checked_input(path: Path, where: str, *, readers: Collection[Reader] = LAYER_READERS) -> Format:
    """`input_format`, then `sniff` the file, then `harden_gdal` if GDAL will read it.

    Call it on an existing file, before any library opens it.

    Raises
    ------
    GeodataError
        Naming `where` and the file, when the name, the path or the content is refused.
    """
    fmt = input_format(path, where, readers=readers)
    sniff(path, fmt, where)
    if fmt.reader == "gdal":
        harden_gdal()
    return fmt


def sniff(path: Path, fmt: Format, where: str) -> None:
    """Check that the file's first bytes are what `fmt` starts with.

    GeoJSON: a JSON object with ``"type": "FeatureCollection"`` (or ``"Feature"``), not a GDAL
    pipeline; GeoPackage: an SQLite file with the GeoPackage application id; Shapefile: file
    code 9994; FlatGeobuf: its ``fgb`` magic; CSV: text, not markup or JSON; Parquet: ``PAR1``;
    OpenStreetMap PBF: an ``OSMHeader`` block first.

    Raises
    ------
    GeodataError
        Naming `where` and the file when the content is something else.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as exc:
        raise GeodataError(f"cannot read {path.name}: {exc.strerror or exc}", where) from None
    problem = _SNIFFERS[fmt.driver](head)
    if problem:
        raise GeodataError(f"{path.name} is named as {fmt.name} but {problem}; give a {fmt.name} file "
                           "(the name's ending must say what the file is)", where)


def _sniff_geojson(head: bytes) -> str | None:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if _GDAL_PIPELINE.search(text):
        return "it is a GDAL virtual dataset or pipeline, which can name other files"
    if not text.startswith("{") or not _GEOJSON_TYPE.search(text):
        return 'it is not a GeoJSON object with "type": "FeatureCollection"'
    return None


def _sniff_gpkg(head: bytes) -> str | None:
    if not head.startswith(b"SQLite format 3\x00"):
        return "it is not an SQLite database"
    if head[68:72] not in _GPKG_IDS:
        return "it is an SQLite database without the GeoPackage application id"
    return None


def _sniff_shapefile(head: bytes) -> str | None:
    return None if len(head) >= 100 and head[:4] == b"\x00\x00\x27\x0a" else "it has no shapefile header"


def _sniff_flatgeobuf(head: bytes) -> str | None:
    return None if head[:3] == b"fgb" and head[4:7] == b"fgb" else "it has no FlatGeobuf header"


def _sniff_csv(head: bytes) -> str | None:
    if b"\x00" in head:
        return "it is binary, not text"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"<", b"{", b"["):
        return "it is markup or JSON, not comma-separated text"
    return None


def _sniff_parquet(head: bytes) -> str | None:
    return None if head[:4] == b"PAR1" else "it has no Parquet header"


def _sniff_pbf(head: bytes) -> str | None:
    return None if b"OSMHeader" in head[:64] else "it does not start with an OpenStreetMap PBF header"


_SNIFFERS = {"GeoJSON": _sniff_geojson, "GPKG": _sniff_gpkg, "ESRI Shapefile": _sniff_shapefile,
             "FlatGeobuf": _sniff_flatgeobuf, "CSV": _sniff_csv, "Parquet": _sniff_parquet, "OSM PBF": _sniff_pbf}


def harden_gdal() -> None:
    """Set `NETWORK_OFF` and unregister every GDAL vector driver `FORMATS` does not need.

    Idempotent and cheap: called before every GDAL read, so it also holds in the service's worker
    processes. GDAL applies ``GDAL_SKIP`` when it registers drivers, so the drivers are registered
    again after setting it (pyogrio registers them once, at import).
    """
    pyogrio.set_gdal_config_options(NETWORK_OFF)
    extra = sorted(set(pyogrio.list_drivers()) - gdal_drivers())
    if not extra:
        return
    # Comma-separated: some driver names contain spaces ("MapInfo File").
    pyogrio.set_gdal_config_options({"GDAL_SKIP": ",".join([*extra, ""])})
    _register_drivers()


def _register_drivers() -> None:
    """GDAL's register-all, which applies ``GDAL_SKIP`` (pyogrio's private hook; absent: the
    name, sniff and driver checks still hold, and tests/test_input_safety.py fails)."""
    from pyogrio import _ogr

    register = getattr(_ogr, "_register_drivers", None)
    if register is not None:
        register()


def layer_names(path: Path, fmt: Format, where: str) -> list[str]:
    """The layers of a vector file that passed `checked_input`."""
    try:
        return [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL raises many kinds; all mean "cannot read this file"
        raise GeodataError(f"cannot read {path.name} as {fmt.name}: {exc}", where) from None


def vector_info(path: Path, fmt: Format, where: str, *, layer: str | None = None) -> dict[str, Any]:
    """pyogrio's layer info of a file that passed `checked_input`; the driver must be `fmt`'s.

    Raises
    ------
    GeodataError
        When GDAL cannot open the file, or opened it with another driver than its name says.
    """
    try:
        info: dict[str, Any] = pyogrio.read_info(path, layer=layer)
    except Exception as exc:  # GDAL raises many kinds; all mean "cannot read this file"
        raise GeodataError(f"cannot read {path.name} as {fmt.name}: {exc}", where) from None
    if info.get("driver") != fmt.driver:
        raise GeodataError(f"{path.name} is named as {fmt.name} but GDAL reads it as {info.get('driver')}; "
                           f"give a {fmt.name} file", where)
    return info


def read_vector(path: Path, fmt: Format, where: str, *, layer: str | None = None,
                columns: list[str] | None = None,
                bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
    """Read one layer of a file that passed `checked_input`, after `vector_info`'s driver check.

    Raises
    ------
    GeodataError
        When the file cannot be read as `fmt`.
    """
    vector_info(path, fmt, where, layer=layer)
    try:
        with warnings.catch_warnings():
            # Mixed-type columns stay text; the attribute checks name the bad feature.
            warnings.filterwarnings("ignore", message="Could not parse column")
            return gpd.read_file(path, layer=layer, columns=columns, bbox=bbox, engine="pyogrio")
    except Exception as exc:  # GDAL raises many kinds; all mean "cannot read this file"
        raise GeodataError(f"cannot read {path.name}: {exc}", where) from None
