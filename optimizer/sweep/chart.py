"""frontier.png: coverage against capital budget, and what each extra older person covered costs.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, thread-safe).
Top: weighted coverage share per level (filled: proven optimal; hollow: stopped by the time
limit; red cross: not monotone), the least sufficient budget as a dashed line. Bottom: the
marginal capital per additional covered older person between consecutive levels. Chinese (the
scenario's name) is drawn in the CJK font `optimizer.export.fonts` registers from its file.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from optimizer.export.fonts import chart_fonts, fit_text
from optimizer.report.atomic import written_at

MILLION = 1e6


def write_chart(frontier: dict[str, Any], path: Path) -> Path:
    """Draw `frontier` (the ``frontier.json`` document) to a PNG at `path`.

    Raises `ExportError` naming the font package to install when no CJK font is found.
    """
    with chart_fonts():
        return _draw(frontier, path)


def _draw(frontier: dict[str, Any], path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.5, 7.0), layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    rows = frontier["levels"]
    _coverage_panel(top, rows, frontier)
    _marginal_panel(bottom, rows, frontier)
    least = (frontier.get("least_sufficient") or {}).get("budget")
    for axes in (top, bottom):
        if least is not None:
            axes.axvline(least / MILLION, color="tab:green", linestyle="--", linewidth=1.2)
        axes.grid(True, alpha=0.3)
    if least is not None:
        proven = frontier["least_sufficient"].get("proven")
        top.annotate(f"least budget meeting every target\n{least / MILLION:,.2f} M yuan"
                     + ("" if proven else " (not proven least)"),
                     xy=(least / MILLION, 0.02), xycoords=("data", "axes fraction"),
                     xytext=(6, 6), textcoords="offset points", color="tab:green", fontsize=8)
    bottom.set_xlabel("capital budget (million yuan)")
    figure.suptitle(fit_text(f"{frontier['scenario']}: what each extra million buys", 8.5, 11), fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_at(path) as tmp:   # whole or not at all: a failed write keeps the earlier chart
        figure.savefig(tmp, dpi=110)
    return path


def _coverage_panel(axes: Any, rows: list[dict[str, Any]], frontier: dict[str, Any]) -> None:
    solved = [r for r in rows if r["coverage_share"] is not None]
    axes.plot([r["budget"] / MILLION for r in solved], [100 * r["coverage_share"] for r in solved],
              color="tab:blue", linewidth=1.4, zorder=1)
    kinds: tuple[tuple[str, Callable[[dict[str, Any]], Any], dict[str, Any]], ...] = (
             ("proven optimal", lambda r: r["monotone"] and not r["time_limited"],
              {"color": "tab:blue"}),
             ("stopped by the time limit", lambda r: r["monotone"] and r["time_limited"],
              {"facecolors": "white", "edgecolors": "tab:blue"}),
             ("covers less than a lower budget", lambda r: not r["monotone"], {"marker": "x", "color": "tab:red"}))
    for label, chosen, style in kinds:
        points = [r for r in solved if chosen(r)]
        if points:
            axes.scatter([r["budget"] / MILLION for r in points], [100 * r["coverage_share"] for r in points],
                         s=30, zorder=2, label=label, **style)
    unsolved = [r["budget"] / MILLION for r in rows if r["coverage_share"] is None]
    if unsolved:
        axes.scatter(unsolved, [0.0] * len(unsolved), marker="|", color="tab:gray", s=80,
                     label="no plan meets the targets")
    axes.legend(loc="lower right", fontsize=8)
    weight = frontier.get("weight") or "units"
    axes.set_ylabel(f"covered {weight}, % of servable\n(summed over facility types)")
    axes.set_ylim(bottom=0)


def _marginal_panel(axes: Any, rows: list[dict[str, Any]], frontier: dict[str, Any]) -> None:
    """One bar per budget step: from the previous solved level to the level that bought more."""
    solved = [r for r in rows if r["coverage"] is not None]
    steps = [(low, high) for low, high in itertools.pairwise(solved) if high["marginal_cny_per_covered"] is not None]
    for low, high in steps:
        axes.bar(low["budget"] / MILLION, high["marginal_cny_per_covered"],
                 width=(high["budget"] - low["budget"]) / MILLION, align="edge", color="tab:orange",
                 edgecolor="white", alpha=0.85)
    if not steps:
        axes.text(0.5, 0.5, "coverage does not grow between levels", transform=axes.transAxes,
                  ha="center", va="center", color="tab:gray")
    weight = frontier.get("weight") or "unit"
    axes.set_ylabel(f"yuan per additional\ncovered {weight} (marginal)")
    axes.set_ylim(bottom=0)
