"""Terminal tables of a plan that fit 80 columns: the build list first, then the summaries.

Narrow by design: no vertical rules, ids under names (dimmed) rather than beside them, type
labels as wrapped headers; the full data are in plan.csv / plan.xlsx / plan.json.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table

from optimizer.cli.common import out

BUILD_ROWS_SHOWN = 20
"""Rows of the build list the terminal shows (new and renovated facilities first); the rest are in the files."""

ACTION_TEXT = {"new": "新建 new", "renovation": "改造 renov.", "existing": "保留 kept"}


def narrow_table(title: str) -> Table:
    """A table without vertical rules: two cells between columns, header underlined."""
    return Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, title_justify="left")


def site_cell(name: Any, site: Any) -> str:
    """A site's name with its id under it (dimmed); the id alone when it has no name."""
    if not name:
        return escape(str(site))
    return f"{escape(str(name))}\n[dim]{escape(str(site))}[/]"


def type_labels(plan: dict[str, Any]) -> dict[str, str]:
    """Facility type -> label from plan.json (the id when the plan has none)."""
    return {name: (entry or {}).get("label") or name for name, entry in (plan.get("facility_types") or {}).items()}


def build_list_table(plan: dict[str, Any], files: tuple[str, ...]) -> None:
    """The first `BUILD_ROWS_SHOWN` rows to build or renovate, then where the rest of the build list is."""
    rows = plan.get("build_list") or []
    if not rows:
        return
    works = [r for r in rows if r["action"] != "existing"]
    shown = works[:BUILD_ROWS_SHOWN]
    phased = any(r.get("year") is not None for r in rows)
    table = narrow_table(f"建设清单 Build list: {len(works)} to build or renovate, "
                         f"{len(rows) - len(works)} kept")
    table.add_column("乡镇 zone", overflow="fold", max_width=8)
    table.add_column("站点 site", overflow="fold", max_width=20)
    table.add_column("设施 facility", overflow="fold", max_width=10)
    table.add_column("方式 action", no_wrap=True)
    if phased:
        table.add_column("year", justify="right")
    table.add_column("capital 元", justify="right")
    previous = None
    for row in shown:
        zone = row.get("zone") or "-"
        cells = [escape(zone) if zone != previous else "", site_cell(row.get("name"), row["site"]),
                 escape(row.get("label") or row["type"]), ACTION_TEXT.get(row["action"], row["action"])]
        if phased:
            cells.append(str(row.get("year") or "-"))
        cells.append(f"{row['capital']:,.0f}")
        table.add_row(*cells, end_section=False)
        previous = zone
    out.print(table)
    rest = len(rows) - len(shown)
    if rest:
        where = " / ".join(files) if files else "plan.json (build_list)"
        rows_text = f"{rest} more row{'s' if rest > 1 else ''}"
        out.print(f"{rows_text} (every facility kept or built, with land, beds and the communities served) "
                  f"in {where}", highlight=False)


def facility_table(plan: dict[str, Any]) -> None:
    """New / open facilities per zone, one column per type (its label as a wrapped header)."""
    facilities = plan.get("facilities") or []
    if not facilities:
        return
    labels = type_labels(plan)
    types = [t for t in labels if any(f["type"] == t for f in facilities)]
    types += sorted({f["type"] for f in facilities} - set(types))
    zones = sorted({f["zone"] or "-" for f in facilities})
    table = narrow_table("Facilities by zone: new / open 各乡镇设施（新建 / 总数）")
    table.add_column("乡镇 zone", overflow="fold", max_width=10)
    width = max(6, min(10, (70 - 10) // max(1, len(types)) - 2))
    for t in types:
        table.add_column(escape(labels.get(t, t)), justify="right", overflow="fold", max_width=width)
    for zone in zones:
        cells = []
        for t in types:
            here = [f for f in facilities if f["type"] == t and (f["zone"] or "-") == zone]
            cells.append(f"{sum(bool(f['new']) for f in here)}/{len(here)}")
        table.add_row(escape(zone), *cells)
    out.print(table)


def schedule_table(plan: dict[str, Any]) -> None:
    """Phased plans: per year, the new facilities by type, capital, annual cost and beds."""
    years = plan.get("years")
    if not years:
        return
    labels = type_labels(plan)
    table = narrow_table("Build schedule by year 分年度建设")
    table.add_column("year")
    table.add_column("new facilities 新建", overflow="fold", max_width=30)
    table.add_column("capital", justify="right")
    table.add_column("annual", justify="right")
    table.add_column("beds", overflow="fold", max_width=14)
    for year, entry in years.items():
        opened: Counter[str] = Counter(f["type"] for f in plan.get("facilities") or []
                                       if f.get("year") is not None and str(f["year"]) == year)
        text = ", ".join(f"{escape(labels.get(t, t))} {n}" for t, n in opened.most_common()) or "-"
        beds = ", ".join(f"{k} {v}" for k, v in entry.get("beds", {}).items()) or "-"
        table.add_row(year, text, f"{entry['capital']:,.0f}", f"{entry['annual']:,.0f}", beds)
    out.print(table)


def bed_table(plan: dict[str, Any]) -> None:
    """Which institution takes how many beds by which action, in which year, at what cost."""
    taken = plan.get("bed_actions") or []
    if not taken:
        return
    names = {f["site"]: f.get("name") for f in plan.get("facilities") or []}
    zones = {f["site"]: f.get("zone") for f in plan.get("facilities") or []}
    table = narrow_table("Bed actions 床位改造")
    for column, width in (("site", 18), ("action", 18), ("year", 4), ("beds", 5), ("capital", 11), ("annual", 9)):
        table.add_column(column, overflow="fold", max_width=width,
                         justify="right" if column in ("beds", "capital", "annual") else "left")
    for entry in sorted(taken, key=lambda e: (str(zones.get(e["site"]) or ""), str(e["site"]), str(e.get("year")))):
        table.add_row(site_cell(names.get(entry["site"]), entry["site"]), escape(entry["action"]),
                      str(entry.get("year") or "-"), f"{entry['beds']:,}", f"{entry.get('capital', 0):,.0f}",
                      f"{entry.get('annual', 0):,.0f}")
    out.print(table)


def target_text(target: dict[str, Any], figure: str | None = None) -> str:
    """What a target asks, by type label: e.g. ``老年助餐点 count 45 new`` or ``社区养老服务站 coverage 100.0%``."""
    parts = [target.get("facility_label") or target.get("facility"), target["kind"], figure,
             "new" if target.get("new_only") else None, "per zone" if target.get("zones") else None]
    return " ".join(str(p) for p in parts if p)
