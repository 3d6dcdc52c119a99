"""Builders for input-safety tests: files that try to make GDAL read something else, and a listener.

Each bypass is a file whose name promises a data format while its content is an OGR VRT, a GDAL
pipeline or an SQLite job store, or a path that names a URL or a GDAL virtual file system. The
secret they aim at lives outside the scenario's folder (or the service's data directory);
a test passes when the secret appears nowhere and the listener heard nothing.
"""

from __future__ import annotations

import http.server
import sqlite3
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

SECRET = "TOPSECRET-outside-8d1f"
OTHER_USERS_SCENARIO = "OTHER-USERS-SCENARIO-5e2a"


@dataclass(frozen=True)
class Outside:
    """Files outside the scenario's folder: a CSV with a secret, a job store with another user's scenario."""

    csv: Path
    job_store: Path
    zip: Path


def outside_files(folder: Path) -> Outside:
    """Write the files the bypasses aim at into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "secret.csv"
    csv.write_text(f"id,x,y,secret\nC9,116.3,39.9,{SECRET}\n", encoding="utf-8")
    store = folder / "jobs.sqlite3"
    with closing(sqlite3.connect(store)) as db, db:
        db.execute("CREATE TABLE jobs (id TEXT, request TEXT)")
        db.execute("INSERT INTO jobs VALUES ('j1', ?)", (OTHER_USERS_SCENARIO,))
    archive = folder / "data.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("demand.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   f'"properties": {{"id": "{SECRET}"}}, "geometry": {{"type": "Point", '
                   '"coordinates": [116.3, 39.9]}}]}')
    return Outside(csv, store, archive)


def vrt_reading(csv: Path) -> bytes:
    """An OGR VRT that reads `csv` as points."""
    return (f'<OGRVRTDataSource><OGRVRTLayer name="demand"><SrcDataSource>{csv}</SrcDataSource>'
            f'<SrcLayer>{csv.stem}</SrcLayer><GeometryType>wkbPoint</GeometryType>'
            '<GeometryField encoding="PointFromColumns" x="x" y="y"/></OGRVRTLayer></OGRVRTDataSource>').encode()


def vrt_sql(store: Path) -> bytes:
    """An OGR VRT that runs SQL on the SQLite file `store`."""
    return (f'<OGRVRTDataSource><OGRVRTLayer name="demand"><SrcDataSource>{store}</SrcDataSource>'
            '<SrcSQL>SELECT id, request FROM jobs</SrcSQL></OGRVRTLayer></OGRVRTDataSource>').encode()


def gdal_pipeline(csv: Path) -> bytes:
    """A GDAL pipeline (``.gdalg.json``) that reads `csv`."""
    return ('{"type": "gdal_streamed_alg", "command_line": "gdal vector pipeline ! read ' + str(csv)
            + ' ! write --of stream streamed_dataset", "relative_paths_relative_to_this_file": false}').encode()


#: case -> (scenario field, file name, content from the outside files).
CONTENT_BYPASSES: dict[str, tuple[str, str, Callable[[Outside], bytes]]] = {
    "vrt_named_geojson": ("demand", "demand.geojson", lambda o: vrt_reading(o.csv)),
    "vrt_sql_on_job_store_named_geojson": ("demand", "demand.geojson", lambda o: vrt_sql(o.job_store)),
    "gdal_pipeline_named_json": ("demand", "demand.json", lambda o: gdal_pipeline(o.csv)),
    "gdal_pipeline_named_gdalg_json": ("demand", "demand.gdalg.json", lambda o: gdal_pipeline(o.csv)),
    "job_store_named_gpkg": ("demand", "demand.gpkg", lambda o: o.job_store.read_bytes()),
    "vrt_named_gpkg": ("demand", "demand.gpkg", lambda o: vrt_reading(o.csv)),
    "vrt_named_shp": ("sites", "sites.shp", lambda o: vrt_reading(o.csv)),
    "vrt_named_fgb": ("sites", "sites.fgb", lambda o: vrt_reading(o.csv)),
    "vrt_as_network_gpkg": ("network", "roads.gpkg", lambda o: vrt_reading(o.csv)),
    "vrt_as_network_pbf": ("network", "roads.osm.pbf", lambda o: vrt_reading(o.csv)),
    "vrt_as_distance_csv": ("distances", "distances.csv", lambda o: vrt_reading(o.csv)),
    "job_store_as_distance_parquet": ("distances", "distances.parquet", lambda o: o.job_store.read_bytes()),
}


def path_bypasses(url: str, outside: Outside) -> dict[str, tuple[str, str]]:
    """case -> (scenario field, path): paths naming a URL (served at `url`) or a GDAL virtual file system."""
    return {
        "vsicurl_demand": ("demand", f"/vsicurl/{url}/demand.geojson"),
        "url_demand": ("demand", f"{url}/demand.geojson"),
        "vsizip_demand": ("demand", f"/vsizip/{outside.zip}/demand.geojson"),
        "vsis3_sites": ("sites", "/vsis3/bucket/sites.geojson"),
        "vsicurl_network": ("network", f"/vsicurl/{url}/roads.gpkg"),
        "vsicurl_distances": ("distances", f"/vsicurl/{url}/distances.csv"),
    }


def with_source(doc: dict[str, object], field: str, path: str) -> dict[str, object]:
    """`doc` with its `field` (demand, sites, network or distances) read from `path`."""
    changed = dict(doc)
    if field in ("demand", "sites"):
        layer = dict(changed[field])   # type: ignore[call-overload]
        layer.pop("features", None)
        changed[field] = layer | {"path": path} | ({"layer": "jobs"} if path.endswith(".gpkg") else {})
    elif field == "network":
        changed["network"] = {"path": path}
    else:
        changed["distances"] = {"path": path}
    return changed


@contextmanager
def listener() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that records every request line; yields (base URL, requests)."""
    heard: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            heard.append(self.requestline)
            body = SECRET.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_GET   # noqa: N815

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", heard
    finally:
        server.shutdown()
        server.server_close()
