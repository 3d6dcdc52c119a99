"""map.png and targets.png: the plan over its zones, and each target's required vs achieved.

Matplotlib's object API on the Agg canvas (no pyplot, no display). Chinese is drawn in the CJK
font file `optimizer.export.fonts` registers; without one the export fails, naming the package
to install (fonts-wqy-microhei), instead of drawing boxes. Titles are wrapped to the figure.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.transforms import offset_copy

from optimizer.export.bundle import PlanBundle
from optimizer.export.fields import target_descriptions
from optimizer.export.fonts import chart_fonts, fit_text
from optimizer.export.labels import type_label
from optimizer.export.styles import COVERAGE_CLASSES, ZONE_CLASSES, ZONE_OUTLINE, type_colours
from optimizer.reach.network import network_bbox, read_ways
from optimizer.report.atomic import written_at

MET, SHORT = "#1a9850", "#d73027"


def network_lines(bundle: PlanBundle) -> gpd.GeoDataFrame | None:
    """The scenario's road network as lines in the region's CRS, or None without a network.

    Read as reach reads it (`optimizer.reach.network.read_ways`: an OpenStreetMap .osm.pbf through
    pyrosm, any other file as the format its name says), within the box reach reads.
    """
    spec = bundle.scenario.network
    if spec is None:
        return None
    region = bundle.region
    box = network_bbox(spec, list(bundle.scenario.facility_types.values()),
                       np.vstack([region.demand.xy, region.sites.xy]), region.crs)
    roads = read_ways(bundle.base_dir / spec.path, spec.layer, box)
    return roads.set_crs(bundle.region.crs) if roads.crs is None else roads.to_crs(bundle.region.crs)


def _scale_bar(ax: Any, width_m: float) -> None:
    """A bar of a round length (1, 2 or 5 x 10^k m) about a fifth of the map width."""
    target = width_m / 5
    length = max(b * 10 ** math.floor(math.log10(target)) for b in (1, 2, 5)
                 if b * 10 ** math.floor(math.log10(target)) <= target)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + length], [y, y], color="black", linewidth=3, solid_capstyle="butt")
    ax.text(x + length / 2, y + 0.012 * (y1 - y0), f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m",
            ha="center", va="bottom", fontsize=8)


def _draw_plan(ax: Any, bundle: PlanBundle, layers: dict[str, gpd.GeoDataFrame]) -> None:
    zones = layers["zones"]
    zone_colour = {value: colour for value, colour, _ in ZONE_CLASSES}
    zones.plot(ax=ax, color=[zone_colour[c] for c in zones["target_class"]], alpha=0.3,
               edgecolor=ZONE_OUTLINE, linewidth=0.8)
    roads = network_lines(bundle)
    if roads is not None:
        roads.plot(ax=ax, color="#8c8c8c", linewidth=0.4, zorder=1)
    demand = layers["demand"]
    coverage_colour = {value: colour for value, colour, _ in COVERAGE_CLASSES}
    xy = bundle.region.demand.xy
    size = float(np.clip(6000 / max(len(demand), 1), 2, 14))
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c=[coverage_colour[c] for c in demand["coverage"]],
               edgecolors="#404040", linewidths=0.3, zorder=2)
    for _, zone in zones.iterrows():
        if zone["zone"]:
            point = zone.geometry.representative_point()
            ax.text(point.x, point.y, zone["zone"], fontsize=8, ha="center", color="#333333", zorder=2.5,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.6})
    _draw_facilities(ax, bundle, layers["facilities"])


def _draw_facilities(ax: Any, bundle: PlanBundle, facilities: gpd.GeoDataFrame) -> None:
    """Markers per type (circle new, square existing), each type nudged a few points its own way
    so that facilities sharing a site stay visible."""
    marker_size = float(np.clip(12000 / max(len(facilities), 1), 6, 60))
    colours = type_colours(bundle.region.type_names)
    for k, (name, colour) in enumerate(colours.items()):
        angle = 2 * math.pi * k / len(colours)
        shift = offset_copy(ax.transData, fig=ax.figure, units="points",
                            x=3 * math.cos(angle) * (len(colours) > 1), y=3 * math.sin(angle) * (len(colours) > 1))
        for new, marker in ((1, "o"), (0, "s")):
            rows = facilities[(facilities["type"] == name) & (facilities["new"] == new)]
            ax.scatter(rows.geometry.x, rows.geometry.y, s=marker_size, marker=marker, c=colour,
                       edgecolors="black", linewidths=0.6, zorder=3, transform=shift)


def _type_text(bundle: PlanBundle, name: str) -> str:
    """"老年助餐点 meal_point": the type's label with its id, or the id alone without a label."""
    label = type_label(bundle, name)
    return name if label == name else f"{label} {name}"


def _legend_handles(bundle: PlanBundle) -> list[Any]:
    handles: list[Any] = [Line2D([], [], linestyle="", marker="o", markersize=8, markerfacecolor=colour,
                                 markeredgecolor="black", label=_type_text(bundle, name))
                          for name, colour in type_colours(bundle.region.type_names).items()]
    handles += [Line2D([], [], linestyle="", marker="o", markersize=7, markerfacecolor="white",
                       markeredgecolor="black", label="新建 new"),
                Line2D([], [], linestyle="", marker="s", markersize=7, markerfacecolor="white",
                       markeredgecolor="black", label="现有 existing")]
    handles += [Line2D([], [], linestyle="", marker="o", markersize=5, markerfacecolor=colour,
                       markeredgecolor="#404040", label=label) for _, colour, label in COVERAGE_CLASSES]
    handles += [Patch(facecolor=colour, edgecolor=ZONE_OUTLINE, alpha=0.5, label=label)
                for _, colour, label in ZONE_CLASSES]
    return handles


def _headline(bundle: PlanBundle) -> str:
    plan, cost = bundle.plan, bundle.checked.cost
    gap = plan.get("gap")
    gap_text = "" if gap is None else f", gap {100 * gap:.3f}%"
    return (f"{bundle.scenario.name}\nstatus {plan.get('status')}{gap_text} · total cost {cost['total']:,.0f} yuan · "
            f"{len(bundle.checked.facilities)} facilities · "
            + ("every target met" if plan.get("all_targets_met") else "targets NOT all met"))


def write_map_png(bundle: PlanBundle, layers: dict[str, gpd.GeoDataFrame], path: Path) -> Path:
    """The plan over its zones (and roads, when the scenario has a network) as a PNG.

    `layers` are `plan_layers` in the scenario's metric CRS (the scale bar reads metres).
    """
    with chart_fonts():
        fig = _map_figure(bundle, layers)
        with written_at(path) as tmp:
            fig.savefig(tmp)
    return path


def map_png_bytes(bundle: PlanBundle, layers: dict[str, gpd.GeoDataFrame]) -> bytes:
    """map.png as bytes (for the report, which embeds it without a file of its own)."""
    buffer = io.BytesIO()
    with chart_fonts():
        _map_figure(bundle, layers).savefig(buffer, format="png")
    return buffer.getvalue()


def _map_figure(bundle: PlanBundle, layers: dict[str, gpd.GeoDataFrame]) -> Figure:
    fig = Figure(figsize=(12, 9), dpi=150, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _draw_plan(ax, bundle, layers)
    x0: float
    x1: float
    x0, y0, x1, y1 = layers["zones"].total_bounds   # the zones hold every unit and site; roads may reach out
    pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    x0, x1 = ax.get_xlim()
    _scale_bar(ax, x1 - x0)
    fig.suptitle(fit_text(_headline(bundle), 12, 10), fontsize=10, x=0.01, ha="left")
    fig.legend(handles=_legend_handles(bundle), loc="outside right upper", fontsize=8, frameon=False)
    outline = str(layers["zones"]["boundary"].iloc[0]) if len(layers["zones"]) else ""
    if outline.startswith("convex hull"):
        outline = "convex hulls of their units (not official boundaries)"
    fig.text(0.01, 0.005, f"CRS {bundle.region.crs} · zone outlines: {outline}", fontsize=7, color="#666666")
    return fig


def _target_bars(bundle: PlanBundle) -> list[tuple[str, float, bool, str]]:
    """(label, achieved / required, met, 'achieved / required' text) per target and per zone."""
    descriptions = target_descriptions(bundle.scenario.targets)
    bars = []
    for target in bundle.checked.targets:
        rows = [(f"T{target['index']} {descriptions[target['index']]}", target)]
        rows += [(f"T{target['index']} · {row['zone']}" + (f" · {row['year']}" if row.get("year") is not None else ""),
                  row) for row in target.get("zones") or []]
        share = _is_share(bundle, target["index"])
        for label, row in rows:
            required, achieved = float(row["required"] or 0.0), float(row["achieved"] or 0.0)
            ratio = achieved / required if required > 0 else 1.0
            bars.append((label, ratio, bool(row["met"]),
                         f"{_value(target['kind'], achieved, share)} / {_value(target['kind'], required, share)}"))
    return bars


def _is_share(bundle: PlanBundle, index: int) -> bool:
    """Whether target `index` is a share (coverage, or beds as a share of other kinds)."""
    spec = bundle.scenario.targets[index]
    return spec.kind == "coverage" or (spec.kind == "beds" and getattr(spec, "min_share", None) is not None)


def _value(kind: str, value: float, share: bool = False) -> str:
    if kind == "coverage" or share:
        return f"{100 * value:.1f}%"
    return f"{value:,.0f} m²" if kind == "land" else f"{value:,.0f}"


YearCell = tuple[float, bool, str] | None   # (achieved / required, met, text), or None: not required that year


def year_rows(bundle: PlanBundle) -> tuple[list[str], list[tuple[str, list[YearCell]]]]:
    """Planning years, and per target (and per zone of a zoned target) a cell per year.

    Read from plan.json's ``years`` section (the checker's figures): a target appears from the
    year it must hold in; before that its cell is None.
    """
    years = bundle.plan.get("years") or {}
    names = list(years)
    descriptions = target_descriptions(bundle.scenario.targets)
    kinds = {t["index"]: t["kind"] for t in bundle.checked.targets}
    cells: dict[tuple[int, str | None], list[YearCell]] = {}
    for p, year in enumerate(names):
        for entry in years[year].get("targets") or []:
            index = int(entry["index"])
            share = _is_share(bundle, index)
            rows = [(None, entry)] + [(str(z["zone"]), z) for z in entry.get("zones") or []]
            if entry.get("zones"):
                rows = rows[1:]
            for zone, row in rows:
                required, achieved = float(row["required"] or 0.0), float(row["achieved"] or 0.0)
                text = (f"{_value(kinds.get(index, ''), achieved, share)} / "
                        f"{_value(kinds.get(index, ''), required, share)}")
                cell = (achieved / required if required > 0 else 1.0, bool(row["met"]), text)
                cells.setdefault((index, zone), [None] * len(names))[p] = cell
    order = sorted(cells, key=lambda key: (key[0], key[1] is not None, key[1] or ""))
    rows_out, labelled = [], set()
    for index, zone in order:   # the target's text on its first row, then only the zone
        label = f"T{index} {descriptions[index]}" if index not in labelled else f"T{index}"
        labelled.add(index)
        rows_out.append((label if zone is None else f"{label} · {zone}", cells[(index, zone)]))
    return names, rows_out


def _draw_years(ax: Any, bundle: PlanBundle) -> None:
    """A grid: a row per target (per zone), a column per year; green met, red short, grey not yet."""
    names, rows = year_rows(bundle)
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_ylim(-0.5, len(rows) - 0.5)
    for r, (_, cells) in enumerate(rows):
        y = len(rows) - 1 - r
        for p, cell in enumerate(cells):
            colour = "#eeeeee" if cell is None else (MET if cell[1] else SHORT)
            alpha = 1.0 if cell is None else float(np.clip(0.35 + 0.4 * min(cell[0], 1.5) / 1.5, 0.35, 0.75))
            ax.add_patch(Rectangle((p - 0.48, y - 0.42), 0.96, 0.84, color=colour, alpha=alpha, linewidth=0))
            text = "not required yet" if cell is None else cell[2] + ("" if cell[1] else "  SHORT")
            ax.text(p, y, text, ha="center", va="center", fontsize=7.5, color="#555555" if cell is None else "black")
    ax.set_yticks(np.arange(len(rows))[::-1], [label for label, _ in rows], fontsize=8)
    ax.set_xticks(np.arange(len(names)), names, fontsize=9)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.spines[["top", "right", "bottom", "left"]].set_visible(False)
    ax.set_title(fit_text("achievement by year: achieved / required (a dated target holds from its year on)",
                          0.9 * len(names), 10), fontsize=10, loc="left", pad=18)   # the grid is ~0.9 in a year


def write_targets_png(bundle: PlanBundle, path: Path) -> Path:
    """Each target's achieved share of its requirement (per zone for per-zone targets) as a PNG.

    A phased plan gets a second chart below: every target's required and achieved in every
    planning year (`year_rows`).
    """
    bars = _target_bars(bundle)
    top = 1.2 + 0.32 * max(len(bars), 1)
    grid = len(year_rows(bundle)[1]) if bundle.plan.get("years") else 0
    bottom = 1.4 + 0.3 * grid if grid else 0.0
    with chart_fonts():
        fig = Figure(figsize=(10, top + bottom), dpi=150, layout="constrained")
        FigureCanvasAgg(fig)
        if grid:
            ax, below = fig.subplots(2, 1, height_ratios=[top, bottom])
            _draw_years(below, bundle)
        else:
            ax = fig.add_subplot()
        y = np.arange(len(bars))[::-1]
        ratios = np.array([b[1] for b in bars])
        right = float(np.clip(ratios.max(initial=1.0) * 1.25, 1.3, 3.0))
        ax.barh(y, np.minimum(ratios, right), color=[MET if b[2] else SHORT for b in bars], height=0.6)
        for yy, (_, ratio, _, text) in zip(y, bars):
            ax.text(min(ratio, right) + 0.01 * right, yy, text, va="center", fontsize=8)
        ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
        ax.set_yticks(y, [b[0] for b in bars], fontsize=8)
        ax.set_xlim(0, right * 1.45)   # room for the 'achieved / required' text right of the longest bar
        ax.xaxis.set_major_formatter(lambda value, _: f"{100 * value:.0f}%")
        ax.set_xlabel("achieved / required (dashed line: target)", fontsize=9)
        fig.suptitle(fit_text(f"{bundle.scenario.name}: targets, achieved vs required", 10, 10), fontsize=10,
                     x=0.01, ha="left")
        ax.spines[["top", "right"]].set_visible(False)
        with written_at(path) as tmp:
            fig.savefig(tmp)
    return path
