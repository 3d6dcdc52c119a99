"""Security headers on every answer: a Content-Security-Policy allowing this server's own origin only.

The workbench and the API docs load scripts, styles, images, frames and data from this server
alone (``'self'``); styles may be inline, because Leaflet and the docs set element styles. A
job's ``map.html`` is one self-contained file whose scripts are inline, so it gets a policy of its
own that allows its inline code and nothing from any origin (the same policy its ``<meta>`` sets).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
    "font-src 'self' data:", "connect-src 'self'", "worker-src 'self' blob:", "frame-src 'self'",
    "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'self'"))
MAP_POLICY = "; ".join((
    "default-src 'none'", "script-src 'unsafe-inline'", "style-src 'unsafe-inline'", "img-src data:",
    "base-uri 'none'", "form-action 'none'", "frame-ancestors 'self'"))


def policy_for(path: str) -> str:
    """The Content-Security-Policy of the answer to `path`."""
    return MAP_POLICY if path.endswith("/map.html") else PAGE_POLICY


class SecurityHeaders:
    """Add the Content-Security-Policy, ``nosniff`` and ``no-referrer`` to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [(b"content-security-policy", policy_for(scope["path"]).encode()),
                 (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
