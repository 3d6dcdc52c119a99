"""A target's summary row when it holds in several zones or years: the row closest to failing.

A summary must pair a required figure with the achievement of the same zone and year; taking
the first row's requirement beside the least achievement mixed two zones (a land norm showed
5,962 m² required beside 4,340 m² achieved although every zone met its own figure).
"""

from __future__ import annotations

from typing import Any


def binding_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The row with the largest shortfall, or, when every row is met, the smallest margin
    relative to its requirement (ties: the first)."""
    def margin(row: dict[str, Any]) -> tuple[float, float]:
        required, achieved = float(row["required"] or 0.0), float(row["achieved"] or 0.0)
        return (-float(row.get("shortfall") or 0.0), (achieved - required) / max(1.0, abs(required)))

    return min(rows, key=margin)
