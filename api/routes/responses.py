"""OpenAPI descriptions of the error answers routes share."""

from __future__ import annotations

from typing import Any

from api.schemas import ErrorOut


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for these status codes, each with the `ErrorOut` body."""
    text = {
        400: "The body cannot be read (not UTF-8 JSON, or a Content-Length that is not a number).",
        401: "No valid API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>` (a `WWW-Authenticate` "
             "header says so too).",
        404: "No such job, sweep or upload, or it belongs to another key (the two are not told apart).",
        409: "Not in this state: the artefact of a job that has not finished (or failed); deleting a running "
             "job (cancel it first); deleting an upload that a queued or running job names.",
        413: "The request body is larger than the server accepts.",
        422: "The request is not valid: each problem names its JSON path and says what to do.",
        429: "Too many jobs are queued, on the server or by this key; retry after the seconds in the "
             "Retry-After header.",
        507: "This key's storage quota (uploads plus results) is used up: delete finished jobs or uploads.",
    }
    headers = {
        401: {"WWW-Authenticate": {"description": "How to authenticate: `Bearer`.", "schema": {"type": "string"}}},
        429: {"Retry-After": {"description": "Seconds to wait before trying again.",
                              "schema": {"type": "integer", "minimum": 1}}},
    }
    answers: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        answers[code] = {"model": ErrorOut, "description": text[code]}
        if code in headers:
            answers[code]["headers"] = headers[code]
    return answers
