"""The cost–coverage frontier of a budget sweep: its rows and its files.

One row per capital budget level, every figure taken from that level's checked plan
document. In the output folder::

    frontier.json, frontier.csv         the frontier (rewritten as levels finish)
    levels/budget_<yuan>/plan.json      each level's plan (the plan.json contract)
    levels/budget_<yuan>/level.json     the level's row and the sweep fingerprint: the level is done
    least.json                          the least sufficient budget solve (and saturation, if run)

A rerun with ``resume`` takes every level whose ``level.json`` carries the same fingerprint.
Every file is written whole or not at all (`optimizer.report.atomic`): an interrupted or failed
write leaves the earlier file, so a level is done only when both of its files are.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from optimizer.report.atomic import replaced_together, write_text
from optimizer.sweep.levels import budget_label

FRONTIER_FORMAT = 1
COVERAGE_TOL = 1e-6   # relative: more budget covering less than this is still monotone
OUTPUTS = ("frontier.json", "frontier.csv", "frontier.png", "least.json", "levels")
"""What a sweep writes into its output folder (files, and the ``levels`` folder)."""


def level_row(document: dict[str, Any], *, budget_cny: float, seconds: float,
              weight: str | None) -> dict[str, Any]:
    """A frontier row from a level's plan document (weighted coverage by the first weight; phased
    plans: summed over the planning years, with ``coverage_share`` and ``coverage_by_type`` the last
    year's).

    Parameters
    ----------
    document : dict
        The level's ``plan.json`` as written.
    budget_cny : float
        The level's capital budget.
    seconds : float
        Wall time of the level.
    weight : str or None
        The weight `max_coverage` counts (None: one per unit).
    """
    by_type = _coverage_by_type(document.get("coverage") or {}, weight)
    covered = sum(g["covered"] for groups in by_type.values() for g in groups.values())
    total = sum(g["total"] for groups in by_type.values() for g in groups.values())
    share = covered / total if total > 0 else None
    if document.get("years"):   # phased: covered elderly-years, the objective (its share: the last year's)
        covered = float(sum(entry["weighted_coverage"] for entry in document["years"].values()))
    cost = document.get("cost") or {}
    has_plan = bool(cost) and document["status"] != "infeasible"
    return {
        "budget": budget_cny, "capital": cost.get("capital"), "annual": cost.get("annual"),
        "total": cost.get("total"), "coverage": covered if has_plan else None,
        "coverage_share": share if has_plan else None,
        "coverage_by_type": by_type if has_plan else {},
        "targets_met": bool(document.get("all_targets_met")), "status": document["status"],
        "bound": document.get("bound"), "gap": document.get("gap"), "seconds": round(seconds, 3),
        "time_limited": bool(document["solver"].get("time_limited")),
        "violations": list(document.get("violations") or []),
        "plan": f"levels/{budget_label(budget_cny)}/plan.json", "reused": bool(document.get("reused")),
    }


def _coverage_by_type(coverage: dict[str, Any], weight: str | None) -> dict[str, dict[str, Any]]:
    """``{type: {group: {covered, total, share}}}`` in the objective's weight."""
    covered_key, total_key = (f"{weight}_covered", weight) if weight else ("units_covered", "units")
    out: dict[str, dict[str, Any]] = {}
    for name, groups in coverage.items():
        out[name] = {}
        for group, entry in groups.items():
            total = float(entry[total_key])
            got = float(entry[covered_key])
            out[name][group] = {"covered": got, "total": total, "share": got / total if total > 0 else None}
    return out


def finish_rows(rows: list[dict[str, Any]], least_cny: float | None) -> list[dict[str, Any]]:
    """Sort by budget; add ``least_sufficient``, ``monotone`` and ``marginal_cny_per_covered``.

    ``monotone`` is False where a level covers less than a lower budget's level (possible
    only when a solve stopped on its time limit); ``marginal_cny_per_covered`` is the extra
    capital spent per extra unit of weighted coverage since the previous level with a plan
    (None where coverage did not grow).
    """
    out, best, previous = [], None, None
    for row in sorted(rows, key=lambda r: r["budget"]):
        row = dict(row, least_sufficient=least_cny is not None and abs(row["budget"] - least_cny) < 0.5,
                   monotone=True, marginal_cny_per_covered=None)
        if row["coverage"] is not None:
            if best is not None and row["coverage"] < best * (1 - COVERAGE_TOL) - COVERAGE_TOL:
                row["monotone"] = False
            best = row["coverage"] if best is None else max(best, row["coverage"])
            if previous is not None and row["coverage"] > previous["coverage"] + COVERAGE_TOL:
                extra = row["capital"] - previous["capital"]
                row["marginal_cny_per_covered"] = extra / (row["coverage"] - previous["coverage"])
            previous = row
        out.append(row)
    return out


def saturation(rows: list[dict[str, Any]], unlimited: dict[str, Any] | None) -> dict[str, Any] | None:
    """The saturation budget: the least capital found that buys the most coverage found.

    The most coverage is the highest of the levels' and the unlimited-budget solve's
    (`unlimited`: its ``coverage``, ``capital``, ``proven``, ``coverage_bound``). The least
    capital buying it is the cheapest plan reaching it, a level's or that solve's; a higher level
    whose plan covers no more is past saturation, never the saturation budget. Marks each row
    ``saturated`` (its plan covers the most found). The saturation capital is proven least only
    when the most coverage is proven the most any budget buys and a level proven optimal at the
    next lower budget covers less: the least capital then lies between the two (``capital_at_least``).

    Returns
    -------
    dict or None
        ``coverage``, ``coverage_proven_most``, ``capital`` (least found), ``budget`` (the level whose
        plan it is; None: the unlimited solve's plan), ``capital_at_least`` (None: unknown), ``note``.
        None when no plan has coverage.
    """
    candidates = [(r["capital"], r["coverage"], r["budget"]) for r in rows if r["coverage"] is not None]
    if unlimited is not None and unlimited.get("coverage") is not None:
        candidates.append((unlimited["capital"], unlimited["coverage"], None))
    for row in rows:
        row["saturated"] = False
    if not candidates:
        return None
    most = max(c[1] for c in candidates)
    reach = [c for c in candidates if c[1] >= most * (1 - COVERAGE_TOL) - COVERAGE_TOL]
    capital, _, budget = min(reach, key=lambda c: (c[0], c[2] is None, c[2] or 0.0))
    for row in rows:
        row["saturated"] = row["coverage"] is not None and row["coverage"] >= most * (1 - COVERAGE_TOL) - COVERAGE_TOL
    bound = None if unlimited is None else unlimited.get("coverage_bound")
    proven_most = bool(unlimited and unlimited.get("proven")) or (
        bound is not None and most >= bound * (1 - COVERAGE_TOL) - COVERAGE_TOL)
    below = [r for r in rows if r["budget"] < capital - 0.5 and r["coverage"] is not None]
    at_least = None
    if below:   # its coverage bound proves that budget buys less than the most
        nearest = max(below, key=lambda r: r["budget"])
        if nearest["bound"] is not None and nearest["bound"] < most * (1 - COVERAGE_TOL) - COVERAGE_TOL:
            at_least = nearest["budget"]
    where = "the unlimited-budget plan" if budget is None else f"the level at budget {budget:,.0f}"
    note = (f"saturation: the most coverage found, {most:,.0f}, is bought by {capital:,.0f} yuan of capital "
            f"({where}); more budget buys no more coverage"
            + ("" if proven_most else " found (not proven the most any budget buys)"))
    if at_least is not None:
        note += f"; budget {at_least:,.0f} proven to buy less"
    return {"coverage": most, "coverage_proven_most": proven_most, "capital": capital, "budget": budget,
            "capital_at_least": at_least, "note": note}


def write_frontier(out_dir: Path, document: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``frontier.json`` and ``frontier.csv`` into `out_dir` (replaced together, whole or not at all)."""
    json_path, csv_path = out_dir / "frontier.json", out_dir / "frontier.csv"
    columns, records = csv_table(document["levels"])
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, fieldnames=columns)
    writer.writeheader()
    writer.writerows(records)
    with replaced_together():
        write_text(json_path, json.dumps(document, ensure_ascii=False, indent=1))
        write_text(csv_path, table.getvalue())
    return json_path, csv_path


def csv_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Flat CSV columns: per type and group ``covered_<type>_<group>`` and ``share_<type>_<group>``."""
    pairs = sorted({(t, g) for row in rows for t, groups in row["coverage_by_type"].items() for g in groups})
    head = ["budget", "capital", "annual", "total", "coverage", "coverage_share"]
    tail = ["targets_met", "status", "bound", "gap", "seconds", "time_limited", "least_sufficient",
            "saturated", "reused", "monotone", "marginal_cny_per_covered", "plan"]
    columns = head + [f"{k}_{t}_{g}" for t, g in pairs for k in ("covered", "share")] + tail
    records = []
    for row in rows:
        record = {c: row.get(c) for c in head + tail}
        for t, g in pairs:
            entry = row["coverage_by_type"].get(t, {}).get(g, {})
            record[f"covered_{t}_{g}"], record[f"share_{t}_{g}"] = entry.get("covered"), entry.get("share")
        records.append(record)
    return columns, records


def level_dir(out_dir: Path, budget_cny: float) -> Path:
    """The folder of one level."""
    return out_dir / "levels" / budget_label(budget_cny)


def save_level(out_dir: Path, document: dict[str, Any], row: dict[str, Any], fingerprint: str) -> Path:
    """Write a finished level: ``plan.json`` and ``level.json`` (which marks it done), replaced together."""
    folder = level_dir(out_dir, row["budget"])
    folder.mkdir(parents=True, exist_ok=True)
    with replaced_together():   # an earlier run's level.json never vouches for a new plan.json
        write_text(folder / "plan.json", json.dumps(document, ensure_ascii=False, indent=1))
        write_text(folder / "level.json", json.dumps({"fingerprint": fingerprint, "row": row}, indent=1))
    return folder


def load_level(out_dir: Path, budget_cny: float, fingerprint: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A finished level's (row, plan document) from an earlier run with the same fingerprint."""
    folder = level_dir(out_dir, budget_cny)
    try:
        level = json.loads((folder / "level.json").read_text(encoding="utf-8"))
        document = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if level.get("fingerprint") != fingerprint or abs(level["row"]["budget"] - budget_cny) >= 0.5:
        return None
    return level["row"], document


def save_json(path: Path, document: dict[str, Any]) -> None:
    """Write one JSON document atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(document, ensure_ascii=False, indent=1))


def load_json(path: Path) -> dict[str, Any] | None:
    """A JSON document, or None when missing or unreadable."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None

