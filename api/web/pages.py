"""Routes of the pages: the workbench at ``/``, its map frame, the offline API docs, and static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

API_STATIC = Path(__file__).resolve().parents[1] / "static"
ENGINE_STATIC = Path(__file__).resolve().parents[2] / "optimizer" / "static"
PAGES = API_STATIC / "web"

# URL prefix -> folder of files served as they are
STATIC_FOLDERS = {
    "/static/web": PAGES,
    "/static/leaflet": ENGINE_STATIC / "leaflet",
    "/static/webmap": ENGINE_STATIC / "webmap",
    "/static/redoc": API_STATIC / "redoc",
    "/static/swagger": API_STATIC / "swagger",
}

# path -> page (HTML files under api/static/web)
PAGE_FILES = {"/": "index.html", "/map": "map.html", "/v1/docs": "swagger.html", "/v1/redoc": "redoc.html"}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    """An HTML page, never cached: a new version of the server serves its new page at once."""
    return FileResponse(PAGES / name, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


def _add_page(path: str, name: str) -> None:
    @router.get(path, name=f"page_{name.removesuffix('.html')}")
    def page() -> FileResponse:
        return _page(name)


for _path, _name in PAGE_FILES.items():
    _add_page(_path, _name)


def mount_web(app: FastAPI) -> None:
    """Serve the pages and their static files on `app` (`SecurityHeaders` is added by `create_app`)."""
    app.include_router(router)
    for prefix, folder in STATIC_FOLDERS.items():
        app.mount(prefix, StaticFiles(directory=folder), name=prefix.strip("/").replace("/", "_"))
