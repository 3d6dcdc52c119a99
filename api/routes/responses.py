"""OpenAPI descriptions of the error answers routes share."""

from __future__ import annotations

from typing import Any

from api.schemas import ErrorOut


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for these status codes, each with the `ErrorOut` body."""
    text = {
        400: "The body cannot be read (not UTF-8 JSON, or a Content-Length that is not a number).",
        404: "No such job, sweep or file.",
        409: "The job has not finished (or failed): the artefact does not exist yet.",
        413: "The request body is larger than the server accepts.",
        422: "The request is not valid: each problem names its JSON path and says what to do.",
        429: "Too many jobs are queued; retry after the seconds in the Retry-After header.",
    }
    return {code: {"model": ErrorOut, "description": text[code]} for code in codes}
