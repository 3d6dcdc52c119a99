"""The published JSON Schema is current and accepts the shipped scenarios."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from optimizer.scenario.schema import schema_text

ROOT = Path(__file__).resolve().parents[1]


def test_published_schema_matches_the_pydantic_models() -> None:
    committed = (ROOT / "scenarios" / "schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), "run: python -m optimizer.scenario.schema > scenarios/schema.json"


SHIPPED = sorted(p for p in (ROOT / "scenarios").rglob("*.json")
                 if p.name != "schema.json" and "presets" not in p.parts)


@pytest.mark.parametrize("path", SHIPPED, ids=str)
def test_shipped_scenarios_validate_against_the_schema(path: Path) -> None:
    schema = json.loads((ROOT / "scenarios" / "schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), schema)


def test_schema_rejects_a_misspelled_field() -> None:
    schema = json.loads((ROOT / "scenarios" / "schema.json").read_text(encoding="utf-8"))
    doc = json.loads((ROOT / "scenarios" / "example" / "scenario.json").read_text(encoding="utf-8"))
    doc["objectiv"] = "min_cost"
    with pytest.raises(jsonschema.ValidationError, match="objectiv"):
        jsonschema.validate(doc, schema)
