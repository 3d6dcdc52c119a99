"""ASGI middleware: request body limits (413), the methods a path allows (OPTIONS, 405), error ids (500)."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("eldercare.api")


def _too_large(limit: int) -> str:
    return f"the request body is larger than this server accepts ({limit:,} bytes)"


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), *headers]})
    await send({"type": "http.response.body", "body": payload})


class BodyLimit:
    """Refuse bodies above a limit with 413: at once from ``Content-Length``, or while a chunked body streams.

    ``limits`` maps a path prefix to its limit (the longest matching prefix wins); other paths get
    ``default_bytes``. The body is never read past the limit.
    """

    def __init__(self, app: ASGIApp, *, default_bytes: int, limits: dict[str, int]) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.limits = sorted(limits.items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        """The body limit of `path`."""
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)), self.default_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            status = 413 if declared.isdigit() else 400
            detail = _too_large(limit) if status == 413 else "the Content-Length header is not a number"
            await _send_json(send, status, {"detail": detail}, [(b"connection", b"close")])
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)


_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _pattern(template: str) -> re.Pattern[str]:
    """A path template of the OpenAPI document (``/v1/jobs/{job_id}``) as a regular expression."""
    parts = re.split(r"(\{[^}/]+\})", template)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + "$")


class AllowedMethods:
    """Answer OPTIONS, and a method the path does not take (405), listing every method the path allows.

    Starlette's router answers 405 with the methods of the first route whose path matches, so
    ``/v1/jobs/{id}`` would advertise GET alone although DELETE works too. Here the ``Allow``
    header lists the methods the OpenAPI document gives the path (`paths` returns its ``paths``
    object), so the header and the document agree. Other paths go on (to a 404, or the docs).
    """

    def __init__(self, app: ASGIApp, *, paths: Callable[[], dict[str, dict[str, Any]]]) -> None:
        self.app = app
        self.paths = paths
        self.table: list[tuple[re.Pattern[str], set[str]]] | None = None

    def allowed(self, scope: Scope) -> set[str]:
        """The methods of every documented path template that matches the request's path."""
        if self.table is None:   # the document is complete only once every route is added
            self.table = [(_pattern(template), {m.upper() for m in operations if m in _METHODS})
                          for template, operations in self.paths().items()]
        allowed: set[str] = set()
        for pattern, methods in self.table:
            if pattern.match(scope["path"]):
                allowed |= methods
        return allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        methods = self.allowed(scope)
        if not methods or scope["method"] in methods:
            await self.app(scope, receive, send)
            return
        allow = [(b"allow", ", ".join(sorted(methods | {"OPTIONS"})).encode())]
        if scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": allow})
            await send({"type": "http.response.body", "body": b""})
            return
        detail = f"{scope['method'][:20]} is not allowed here; {scope['path'][:200]} allows {allow[0][1].decode()}"
        await _send_json(send, 405, {"detail": detail}, allow)


class ErrorIds:
    """Turn an unexpected exception into a 500 whose body names an error id; the traceback goes to the log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:  # the API edge: never a traceback to the client
            error_id = uuid.uuid4().hex[:12]
            log.exception("internal error %s on %s %s", error_id, scope.get("method"), scope.get("path"))
            if not started:
                await _send_json(send, 500, {"detail": f"internal error (error id {error_id}); it is in the "
                                             "server log", "error_id": error_id}, [])
