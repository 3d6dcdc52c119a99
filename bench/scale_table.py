"""Markdown tables of the scale runs: every run, and the end-to-end ratio to spopt."""

from __future__ import annotations

import math
from typing import Any

GAP = 1e-4
"""Relative gap every run was asked for (ours and CBC under spopt)."""


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.{digits}f}"


def _gap(objective: float | None, bound: float | None) -> str:
    """Relative gap of the checked objective to the proven bound (not the phase's own figure)."""
    if objective is None or bound is None or not math.isfinite(bound) or objective == 0:
        return "—"
    return f"{100 * abs(objective - bound) / abs(objective):.2f}%"


def _p(row: dict[str, Any]) -> str:
    return {"mclp": str(row.get("p_mclp", "")), "pmedian": str(row.get("p_median", ""))}.get(row["model"], "—")


def _total(row: dict[str, Any]) -> float | None:
    if row.get("build_s") is None or row.get("solve_s") is None:
        return None
    return float(row["build_s"]) + float(row["solve_s"])


def runs_table(rows: list[dict[str, Any]]) -> str:
    """Every run: seconds to build and to solve, peak memory, objective, status, bound, gap, 1-minute load."""
    lines = ["| units × sites | model | p | method | build s | solve s | peak MB | objective | status | bound | gap "
             "| load |", "|---|---|---:|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in rows:
        gap = _gap(r.get("objective"), r.get("bound"))
        status = r.get("status", "")
        if r.get("note"):
            status = f"{status}: {r['note']}"
        lines.append(f"| {r['units']:,} × {r['sites']:,} | {r['model']} | {_p(r)} | {r['method']} | "
                     f"{_num(r.get('build_s'), 2)} | {_num(r.get('solve_s'), 2)} | {_num(r.get('peak_mb'), 0)} | "
                     f"{_num(r.get('objective'))} | {status} | {_num(r.get('bound'))} | {gap} | "
                     f"{_num(r.get('load1'))} |")
    return "\n".join(lines)


def _agreement(ours: dict[str, Any], peer: dict[str, Any]) -> str:
    a, b = ours.get("objective"), peer.get("objective")
    if a is None or b is None:
        return "—"
    diff = abs(a - b) / max(1.0, abs(a), abs(b))
    if diff <= 1e-9:
        return "same"
    return f"within the {GAP:g} gap" if diff <= GAP else f"**DIFFER** ({_num(a)} vs {_num(b)})"


def ratio_table(rows: list[dict[str, Any]]) -> str:
    """spopt's build + solve seconds over ours, where both finished with a proven optimum."""
    lines = ["| units × sites | model | spopt s | ours: backend s (spopt / ours) | objective |",
             "|---|---|---:|---|---|"]
    keys = dict.fromkeys((r["units"], r["sites"], r["model"]) for r in rows)
    for units, sites, model in keys:
        same = [r for r in rows if (r["units"], r["sites"], r["model"]) == (units, sites, model)]
        peer = next((r for r in same if r["method"] == "spopt"), None)
        if peer is None or peer.get("status") != "optimal" or _total(peer) is None:
            continue
        cells, agree = [], []
        for r in same:
            total = _total(r)
            if r["method"] == "spopt" or r.get("status") != "optimal" or total is None:
                continue
            cells.append(f"{r['method']} {total:,.2f} s ({_total(peer) / total:,.1f}×)")
            agree.append(f"{r['method']}: {_agreement(r, peer)}")
        if cells:
            lines.append(f"| {units:,} × {sites:,} | {model} | {_total(peer):,.2f} | {'; '.join(cells)} | "
                         f"{'; '.join(agree)} |")
    return "\n".join(lines)


def render(rows: list[dict[str, Any]]) -> str:
    """Both tables."""
    return ("### Every run\n\n" + runs_table(rows) + "\n\n### End-to-end ratio (both proven optimal)\n\n"
            + ratio_table(rows) + "\n")
