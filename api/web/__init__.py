"""The planner's workbench: one static page and vanilla JavaScript against the JSON API, served at ``/``.

Chosen over server-rendered templates because the page is then just another client of the same
API (the scenario JSON stays the contract, every figure comes from the routes the CLI users and
scripts call) and nothing is built: the files under ``api/static/web`` are served as they are.
Leaflet (``optimizer/static/leaflet``) and the map script of ``map.html``
(``optimizer/static/webmap``) are served from the engine's package;
Swagger UI and ReDoc are vendored in ``api/static/swagger`` and ``api/static/redoc`` (their
READMEs say which versions): nothing is loaded from another origin, and `SecurityHeaders` says so
to the browser.
"""

from __future__ import annotations

from api.web.pages import mount_web
from api.web.security import SecurityHeaders

__all__ = ["SecurityHeaders", "mount_web"]
