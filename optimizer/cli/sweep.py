"""`eldercare sweep`: the budget sweep on the command line, with a Rich progress bar and table.

Registered on the `eldercare` app by `optimizer.cli.main`; engine imports stay inside the command
so that ``eldercare --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from optimizer.cli.common import EXIT_MET, EXIT_UNMET, guarded, out
from optimizer.cli.options import check_solver_options
from optimizer.cli.tables import narrow_table

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from optimizer.sweep.run import Frontier, SweepEvent

MILLION = 1e6


def sweep_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario JSON file.")],
    budgets: Annotated[str | None, typer.Option(
        help="Capital budgets in yuan: START:STOP:STEP (stop included), e.g. 10e6:60e6:5e6, or a list 30e6,40e6.",
    )] = None,
    levels: Annotated[int | None, typer.Option(
        help="Instead of --budgets: N budgets from the least useful to the least sufficient budget (default 10).",
    )] = None,
    elastic: Annotated[bool, typer.Option("--elastic", help="Targets become soft: levels below the least "
                                          "sufficient budget get their best plan.")] = False,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the frontier and each level's plan.")] = Path(
        "out/sweep"),
    workers: Annotated[int, typer.Option(help="Levels solved at once in local worker processes.")] = 1,
    dask: Annotated[str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Keep levels an earlier run finished.")] = False,
    year: Annotated[int | None, typer.Option(
        help="Phased plans: the budgets are this planning year's capital cap (budget.capital_by_year).")] = None,
    scale_years: Annotated[bool, typer.Option(
        "--scale-years", help="Phased plans: the budgets are the total capital; every year's cap is scaled "
        "in proportion.")] = False,
    backend: Annotated[str | None, typer.Option(help="highs | cpsat | pulp:CBC | pulp:<solver>")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Seconds per level.")] = None,
    gap: Annotated[float | None, typer.Option(help="Relative MIP gap to stop at.")] = None,
    threads: Annotated[int | None, typer.Option(help="Solver threads (capped at this machine's cores).")] = None,
) -> None:
    """Cost–coverage frontier: the most coverage each capital budget buys, and the least budget meeting every target."""

    def work() -> int:
        from optimizer.export import scenario_files
        from optimizer.report.outdir import check_out_dir
        from optimizer.sweep.frontier import OUTPUTS
        from optimizer.sweep.run import SweepSettings, parse_budgets, sweep_file

        check_solver_options(backend=backend, time_limit_s=time_limit, mip_gap=gap, threads=threads)
        settings = SweepSettings(out_dir, budgets=parse_budgets(budgets) if budgets is not None else None,
                                 levels=levels, elastic=elastic, workers=workers, dask=dask, resume=resume,
                                 year=year, scale_years=scale_years)
        check_out_dir(out_dir, outputs=OUTPUTS, inputs=scenario_files(scenario))   # before any level is solved
        solver = {"backend": backend, "time_limit_s": time_limit, "mip_gap": gap, "threads": threads}
        with _progress(out) as progress:
            task = progress.add_task("least sufficient budget (least capital meeting every target)",
                                     total=None, best="")
            frontier = sweep_file(scenario, settings, solver=solver,
                                  on_event=lambda event: _advance(progress, task, event))
        print_frontier(frontier, out)
        met = frontier.document["least_sufficient"]["budget"] is not None and frontier.monotone
        return EXIT_MET if met else EXIT_UNMET

    guarded(work)


def _progress(console: Any) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("levels"), TimeElapsedColumn(), TextColumn("{task.fields[best]}"),
                    console=console, transient=False)


def _advance(progress: Progress, task: TaskID, event: SweepEvent) -> None:
    """Turn a sweep event into the bar: budgets running, levels done, last bound and gap."""
    if event.kind == "least":
        least = "none found" if event.least_cny is None else f"{event.least_cny / MILLION:,.2f} M"
        progress.update(task, total=event.total, completed=event.done,
                        description=f"least sufficient: {least}")
    elif event.kind == "started":
        running = ", ".join(f"{b / MILLION:,.1f} M" for b in event.running)
        progress.update(task, description=f"budget {running}")
    elif event.row is not None:
        progress.update(task, completed=event.done, best=_bound_text(event.row))


def _bound_text(row: dict[str, Any]) -> str:
    budget = f"{row['budget'] / MILLION:,.1f} M"
    if row["coverage"] is None:
        return f"{budget}: {row['status']}"
    bound = "-" if row["bound"] is None else f"{row['bound']:,.0f}"
    gap = "-" if row["gap"] is None else f"{100 * row['gap']:.2f}%"
    return f"{budget}: coverage {row['coverage']:,.0f} ≤ bound {bound} (gap {gap})"


def print_frontier(frontier: Frontier, console: Any) -> None:
    """The frontier as a table, the least sufficient budget, notes and the files written."""
    document = frontier.document
    # Narrow by design (80 columns): money in millions, the status folds; every figure is in frontier.csv.
    table = narrow_table(f"{document['scenario']}: cost–coverage frontier ({document['weight'] or 'units'}; "
                         "budget and capital in M yuan; 元/+1: yuan per extra unit covered; s: seconds)")
    for column in ("budget", "capital", "covered", "share", "targets"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("status", overflow="fold", max_width=16)
    for column in ("gap", "元/+1", "s"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in document["levels"]:
        table.add_row(*_cells(row), style="bold green" if row["least_sufficient"] else None)
    console.print(table)
    least = document["least_sufficient"]
    if least["budget"] is not None:
        proven = "proven least" if least["proven"] else "not proven least"
        console.print(f"least budget meeting every target: {least['capital']:,.0f} yuan ({proven})",
                      highlight=False)
    saturation = document.get("saturation")
    for note in [least.get("note"), saturation and saturation["note"], *document["notes"]]:
        if note:
            console.print(f"  note: {note}", highlight=False)
    for name in ("frontier.csv", "frontier.json", "frontier.png"):
        console.print(f"written: {frontier.out_dir / name}", highlight=False)
    console.print(f"written: {level_plans_line(frontier.out_dir, [row['plan'] for row in document['levels']])}",
                  highlight=False)


def level_plans_line(out_dir: Path, plans: list[str]) -> str:
    """The levels' plan files, by name: all of up to three, else the first and the last and how many."""
    paths = [str(out_dir / plan) for plan in plans]
    if len(paths) <= 3:
        return ", ".join(paths) or "no level plans"
    return f"{paths[0]} … {paths[-1]} ({len(paths)} level plans, one folder per budget)"


def _cells(row: dict[str, Any]) -> list[str]:
    def money(value: float | None) -> str:
        return "-" if value is None else f"{value / MILLION:,.2f}"

    share = "-" if row["coverage_share"] is None else f"{100 * row['coverage_share']:.1f}%"
    gap = "-" if row["gap"] is None else f"{100 * row['gap']:.2f}%"
    marginal = row["marginal_cny_per_covered"]
    status = _SHORT_STATUS.get(row["status"], row["status"]) + ("" if row["monotone"] else " (less!)")
    status += " (reused)" if row.get("reused") else ""
    return [money(row["budget"]), money(row["capital"]),
            "-" if row["coverage"] is None else f"{row['coverage']:,.0f}", share,
            "met" if row["targets_met"] else "no", status, gap,
            "-" if marginal is None else f"{marginal:,.0f}", f"{row['seconds']:.1f}"]


_SHORT_STATUS = {"time_limit_feasible": "time limit", "time_limit_no_solution": "no plan"}
