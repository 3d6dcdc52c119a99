"""The scenario: a planner's document (format 1), read, validated and expanded.

`format` loads a scenario file into a `Scenario`, collecting every problem with its JSON path;
`fields` holds the pydantic models of its sections, `presets` expands policy presets into
ordinary targets, and `schema` writes the published JSON Schema.

Flow: **scenario** → inputs: the validated scenario names the data the next step loads.
"""
