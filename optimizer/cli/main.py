"""The `eldercare` command: validate and solve scenarios, print a summary, set the exit code.

Exit codes: 0 every target met; 1 solved but a target is not met, or no plan was found
(the report is still written); 2 bad input (scenario, geodata, backend name); 3 internal error.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from optimizer.cli.common import EXIT_MET, EXIT_UNMET, guarded, out
from optimizer.cli.options import check_solver_options
from optimizer.cli.presets import presets_command
from optimizer.cli.sweep import sweep_command
from optimizer.cli.tables import bed_table, build_list_table, facility_table, narrow_table, schedule_table, target_text

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Elder-care facility-location and budget optimizer.")


@app.command()
def validate(scenario: Annotated[Path, typer.Argument(help="Scenario JSON file.")]) -> None:
    """Check a scenario and its data files without solving."""

    def work() -> int:
        from optimizer.plan import prepare
        from optimizer.scenario.format import load_scenario
        from optimizer.search.backends import check_backend

        parsed, base_dir = load_scenario(scenario)
        check_backend(parsed.solver.backend)   # the backend exists and loads here
        prep = prepare(parsed, base_dir)
        out.print(f"[green]valid[/]: {prep.region.demand.n} demand units, {prep.region.sites.n} sites, "
                  f"{len(prep.region.type_names)} facility types, {len(parsed.targets)} targets; "
                  f"model {prep.model.milp.n_vars} variables x {prep.model.milp.n_rows} rows", highlight=False)
        for note in prep.region.notes:
            out.print(f"  note: {note}", highlight=False)
        return EXIT_MET

    guarded(work)


@app.command()
def solve(
    scenario: Annotated[Path, typer.Argument(help="Scenario JSON file.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for plan.json.")] = Path("out"),
    backend: Annotated[str | None, typer.Option(help="highs | cpsat | lagrangian | pulp:CBC | pulp:<solver>")] = None,
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Seconds per solve.")] = None,
    gap: Annotated[float | None, typer.Option(help="Relative MIP gap to stop at.")] = None,
    threads: Annotated[int | None, typer.Option(help=THREADS_HELP)] = None,
    formats: Annotated[str, typer.Option("--formats", "--format", help=FORMATS_HELP)] = "all",
    crs: Annotated[str | None, typer.Option("--crs", help=CRS_HELP)] = None,
    reduce: Annotated[bool, typer.Option("--reduce/--no-reduce", help=REDUCE_HELP)] = True,
) -> None:
    """Solve a scenario, write OUT/plan.json and the exports (map, GIS layers, charts), print a summary."""

    def work() -> int:
        from optimizer.export import (
            bundle_from_result,
            check_crs,
            export_files,
            parse_formats,
            scenario_files,
            scenario_source,
            write_exports,
        )
        from optimizer.plan import solve_file
        from optimizer.report.atomic import replaced_together
        from optimizer.report.document import plan_document, write_plan_document
        from optimizer.report.outdir import check_out_dir

        check_solver_options(backend=backend, time_limit_s=time_limit, mip_gap=gap, threads=threads)
        chosen, layer_crs = parse_formats(formats), check_crs(crs)   # fail before the solve, not after
        check_out_dir(out_dir, outputs=("plan.json", *export_files(chosen)), inputs=scenario_files(scenario))
        result = solve_file(scenario, backend=backend, time_limit_s=time_limit, mip_gap=gap, threads=threads,
                            reduce=reduce)
        plan = plan_document(result) | {"source": scenario_source(scenario, out_dir)}
        print_summary(plan, files=tuple(name for fmt, name in (("csv", "plan.csv"), ("xlsx", "plan.xlsx"))
                                        if fmt in chosen))
        with replaced_together():   # plan.json and its exports replace the earlier files together, or none does
            path = write_plan_document(plan, out_dir)
            exported = (write_exports(bundle_from_result(result, plan), out_dir, formats=chosen, crs=layer_crs)
                        if chosen and result.checked is not None else [])
        out.print(f"plan written to {path}", highlight=False)
        if exported:
            _print_exports(exported)
        elif chosen:
            out.print("no plan found: exports skipped", highlight=False)
        return EXIT_MET if result.all_targets_met else EXIT_UNMET

    guarded(work)


THREADS_HELP = "Solver threads (capped at this machine's cores)."
FORMATS_HELP = "Exports: all, none, or a comma-separated subset of gpkg,geojson,csv,xlsx,html,png."
CRS_HELP = "CRS of plan.gpkg, e.g. EPSG:4490 (CGCS2000); default: the scenario's."
REDUCE_HELP = "Exact reductions before solving (merged units, dominated rows and sites); see plan.json."


@app.command()
def export(
    plan_file: Annotated[Path, typer.Argument(help="plan.json written by `eldercare solve`.")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="Folder for the exports (default: the plan's).")] = None,
    formats: Annotated[str, typer.Option("--formats", "--format", help=FORMATS_HELP)] = "all",
    crs: Annotated[str | None, typer.Option("--crs", help=CRS_HELP)] = None,
    scenario: Annotated[Path | None, typer.Option(help="The solved scenario, if it moved.")] = None,
) -> None:
    """Re-create the exports of a written plan.json from the scenario it records (re-checked)."""

    def work() -> int:
        from optimizer.export import (
            bundle_from_plan_file,
            check_crs,
            export_files,
            parse_formats,
            plan_files,
            write_exports,
        )
        from optimizer.report.outdir import check_out_dir

        chosen, layer_crs = parse_formats(formats), check_crs(crs)
        check_out_dir(out_dir or plan_file.parent, outputs=export_files(chosen),
                      inputs=plan_files(plan_file, scenario_path=scenario))
        bundle = bundle_from_plan_file(plan_file, scenario_path=scenario)
        _print_exports(write_exports(bundle, out_dir or plan_file.parent, formats=chosen, crs=layer_crs))
        return EXIT_MET

    guarded(work)


def _print_exports(steps: list[tuple[str, list[Path], float]]) -> None:
    for step, paths, seconds in steps:
        if paths:
            out.print(f"{step:8s} {', '.join(map(str, paths))} ({seconds:.2f} s)", highlight=False)


@app.command()
def compare(
    scenario: Annotated[Path, typer.Argument(help="Scenario JSON file.")],
    backends: Annotated[str, typer.Option(help="Comma-separated backends.")] = "highs,cpsat,pulp:CBC",
    time_limit: Annotated[float | None, typer.Option("--time-limit", help="Seconds per solve.")] = None,
) -> None:
    """Solve with several backends in one run and show whether they agree."""

    def work() -> int:
        from optimizer.plan import prepare, solve_prepared
        from optimizer.report.document import plan_document
        from optimizer.scenario.format import load_scenario, solver_with

        names = [name.strip() for name in backends.split(",")]
        check_solver_options(time_limit_s=time_limit, backends=names)
        parsed, base_dir = load_scenario(scenario)
        prepared = prepare(parsed, base_dir)   # geodata, reach and model built once
        table = Table(title=f"{parsed.name}: backends compared")
        for column in ("backend", "status", "objective", "bound", "gap", "seconds"):
            table.add_column(column)
        objectives = set()
        for name in names:
            solver = solver_with(parsed.solver, {"backend": name, "time_limit_s": time_limit})
            prep = replace(prepared, scenario=parsed.model_copy(update={"solver": solver}))
            plan = plan_document(solve_prepared(prep))
            objectives.add(None if plan["objective"] is None else round(plan["objective"], 3))
            table.add_row(name, plan["status"], _num(plan["objective"]), _num(plan["bound"]),
                          "-" if plan["gap"] is None else f"{100 * plan['gap']:.3f}%",
                          f"{plan['solver']['seconds']:.2f}")
        out.print(table)
        agree = len(objectives) == 1
        out.print("[green]all backends agree[/]" if agree else "[red]backends disagree[/]")
        return EXIT_MET if agree else EXIT_UNMET

    guarded(work)


def print_summary(plan: dict[str, Any], files: tuple[str, ...] = ()) -> None:
    """Rich tables that fit 80 columns: the build list, facilities by zone, the schedule, bed actions,
    cost, targets, solver status. `files`: the written files holding the whole build list."""
    build_list_table(plan, files)
    facility_table(plan)
    schedule_table(plan)
    bed_table(plan)
    cost = plan.get("cost")
    if cost and plan.get("years"):
        out.print(f"cost: capital {cost['capital']:,.0f} + annual for every year operated "
                  f"(last year {cost['annual']:,.0f}) = total {cost['total']:,.0f} yuan", highlight=False)
    elif cost:
        out.print(f"cost: capital {cost['capital']:,.0f} + annual {cost['annual']:,.0f} x "
                  f"{plan['budget']['horizon_years']:g} years = total {cost['total']:,.0f} yuan",
                  highlight=False)
    _target_table(plan)
    _status_line(plan)
    _hints(plan)
    explanation = plan.get("explanation")
    if explanation:
        _explain(explanation, plan)


def _target_table(plan: dict[str, Any]) -> None:
    table = narrow_table("Targets 规划目标")
    table.add_column("#", justify="right")
    table.add_column("target (label, preset)", overflow="fold", max_width=44)
    for column in ("required", "achieved", "met"):
        table.add_column(column, justify="right")
    for t in plan.get("targets") or []:
        kind = _shown_as(t)
        required, achieved = _fmt(t["required"], kind), _fmt(t["achieved"], kind)
        what = escape(target_text(t, required))
        label = (escape(t["label"]) + "\n" if t.get("label") else "") + f"[dim]{what}[/]"
        label += f" [dim]({escape(t['preset'])})[/]" if t.get("preset") else ""
        table.add_row(str(t["index"]), label, required, achieved, "[green]yes[/]" if t["met"] else "[red]NO[/]")
    if table.row_count:
        out.print(table)


def _shown_as(target: dict[str, Any]) -> str:
    """How a target's figures read: ``coverage`` for shares (coverage, a bed share), else its kind."""
    share = target["kind"] == "coverage" or (target["kind"] == "beds" and isinstance(target["required"], float))
    return "coverage" if share else target["kind"]


def _target_name(target: dict[str, Any]) -> str:
    return target_text(target)


def _figure(target: dict[str, Any], key: str) -> str:
    """A target's required or achieved figure with its unit: a share, beds, m² or facilities."""
    kind = _shown_as(target)
    unit = {"beds": " beds", "land": " m²", "count": " facilities"}.get(kind, "")
    return _fmt(target[key], kind) + unit


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "coverage":
        return f"{100 * value:.1f}%"
    return f"{value:,.0f}" if isinstance(value, float) else str(value)


def _status_line(plan: dict[str, Any]) -> None:
    solver = plan["solver"]
    gap = plan.get("gap")
    gap_text = "-" if gap is None else f"{100 * gap:.3f}%"
    colour = "green" if plan["status"] == "optimal" else "yellow"
    out.print(f"status: [{colour}]{plan['status']}[/] · objective ({plan['objective_kind']}) "
              f"{_num(plan.get('objective'))} · bound {_num(plan.get('bound'))} · gap {gap_text} · "
              f"{solver['backend']} {solver['seconds']:.2f} s", highlight=False)


def _hints(plan: dict[str, Any]) -> None:
    """The solver notes that advise the planner (`optimizer.search.phases.HINT`), under the status line."""
    from optimizer.search.phases import HINT

    for phase in plan["solver"].get("phases", []):
        for note in phase.get("notes", []):
            if note.startswith(HINT):
                out.print(f"[yellow]{escape(note)}[/]", highlight=False)


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _explain(explanation: dict[str, Any], plan: dict[str, Any]) -> None:
    out.print("[bold red]The targets cannot all be met.[/]")
    for item in explanation.get("targets", []):
        if item.get("cause"):
            out.print(f"  target {item['index']} ({item['kind']}): {item['cause']}", highlight=False)
    budget = explanation.get("budget") or {}
    total_enough = budget.get("least_capital") is not None and budget.get("capital_budget") is not None and (
        budget["least_capital"] <= budget["capital_budget"])
    if total_enough and any(year["short"] for year in budget.get("by_year", [])):
        out.print(f"  budget: the total is enough (every target needs {budget['least_capital']:,.0f} yuan of capital "
                  f"in all, of {budget['capital_budget']:,.0f}); a yearly budget stops the plan:", highlight=False)
    elif budget.get("least_capital") is not None:
        out.print(f"  budget: the least capital meeting every target is {budget['least_capital']:,.0f} "
                  f"yuan (capital budget {_num(budget.get('capital_budget'))})", highlight=False)
    elif budget.get("note"):
        out.print(f"  {budget['note']}", highlight=False)
    for year in budget.get("by_year", []):
        if year["short"]:
            out.print(f"  {year['year']}: meeting every target needs at least {year['least_capital_at_least']:,.0f} "
                      f"yuan of capital in {year['year']} with every other budget kept (that year's budget: "
                      f"{year['capital_budget']:,.0f}); raise it, or date the targets later", highlight=False)
    for item in plan.get("targets", []):
        if not item.get("met") and item.get("required") is not None and item.get("achieved") is not None:
            out.print(f"  target {item['index']} ({_target_name(item)}): the best plan reaches "
                      f"{_figure(item, 'achieved')} of {_figure(item, 'required')}", highlight=False)
    if plan.get("uncoverable"):
        out.print(f"  {len(plan['uncoverable'])} unit/type pairs have no candidate site in reach "
                  "(listed in plan.json `uncoverable`)", highlight=False)
    out.print("  The plan shown is the best elastic plan: each shortfall minimised, then cost.")


app.command("presets")(presets_command)
app.command("sweep")(sweep_command)


def main() -> None:
    """Entry point for `python -m optimizer`."""
    app(prog_name="eldercare")


if __name__ == "__main__":
    main()
