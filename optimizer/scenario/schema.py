"""Write the published JSON Schema: ``python -m optimizer.scenario.schema > scenarios/schema.json``."""

from __future__ import annotations

import json

from optimizer.scenario.format import scenario_json_schema


def schema_text() -> str:
    """The schema as the exact text committed in `scenarios/schema.json`."""
    return json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
