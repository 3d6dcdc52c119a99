"""Schemathesis hooks of tests/test_api_schemathesis.py: positive submissions that the service accepts.

A scenario body is a free-form object in the OpenAPI document (its own JSON Schema is served at
GET /v1/scenarios/schema), and an upload is accepted by its file names, which no schema states;
generated requests are therefore nearly always refused with 422, and stateful testing would never
get a job or an upload to follow its links to. So, for positive cases only (negative ones are
left as generated):

- POST /v1/scenarios and /v1/sweeps: hypothesis picks (seeded) the generated body or a valid one
  (the tiny scenario of `api.examples`, or a sweep of it);
- POST /v1/files: the generated files are sent under data file names (``layer<k>.geojson``) with
  a small GeoJSON layer as their content (the schema says nothing of either).

Loaded by ``schemathesis run`` through the SCHEMATHESIS_HOOKS environment variable.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import strategies as st

from api.examples import TINY_SCENARIO

LAYER = json.dumps(TINY_SCENARIO["demand"]["features"]).encode()


def _positive(context: schemathesis.HookContext, case: schemathesis.Case, paths: tuple[str, ...]) -> bool:
    operation, meta = context.operation, case.meta
    return (operation is not None and operation.method.upper() == "POST" and operation.path in paths
            and meta is not None and not meta.generation.mode.is_negative)


@schemathesis.hook
def flatmap_case(context: schemathesis.HookContext, case: schemathesis.Case) -> st.SearchStrategy[Any]:
    """Positive cases of POST /v1/scenarios and /v1/sweeps: as generated, or a valid submission."""
    if not _positive(context, case, ("/v1/scenarios", "/v1/sweeps")):
        return st.just(case)

    def valid(k: int) -> schemathesis.Case:
        scenario = TINY_SCENARIO | {"name": f"schemathesis {k}"}
        case.body = scenario if case.path == "/v1/scenarios" else {"scenario": scenario, "budgets": [6e5, 1.2e6]}
        return case

    return st.one_of(st.just(case), st.integers(0, 999).map(valid))


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    """Positive uploads: the generated files under data file names, with a GeoJSON layer as content."""
    if not _positive(context, case, ("/v1/files",)) or not isinstance(case.body, dict):
        return
    files = case.body.get("files")
    count = min(len(files), 20) if isinstance(files, list) and files else 1
    kwargs["files"] = [("files", (f"layer{k}.geojson", LAYER, "application/geo+json")) for k in range(count)]
