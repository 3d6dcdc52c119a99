"""What a job does, inside the process a worker forks for it: solve or sweep, then write the results.

Results go to ``jobs/<id>/`` in the data directory: ``plan.json`` and the exports for a solve,
``frontier.{json,csv,png}`` and ``levels/`` for a sweep. Progress and the outcome travel back
to the worker through `send`; the worker alone writes the job store.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.settings import Settings
from api.store import JobRecord
from optimizer.errors import OptimizerError
from optimizer.scenario.format import Scenario, parse_scenario

log = logging.getLogger("eldercare.api")

Send = Callable[[str, dict[str, Any]], None]


def capped_scenario(scenario: Scenario, settings: Settings) -> tuple[Scenario, list[str]]:
    """The scenario with its solver time limit and threads within the server's caps, and notes saying so."""
    solver, notes = scenario.solver, []
    update: dict[str, Any] = {}
    if solver.time_limit_s > settings.max_time_limit_s:
        update["time_limit_s"] = settings.max_time_limit_s
        notes.append(f"solver.time_limit_s {solver.time_limit_s:g} s capped at {settings.max_time_limit_s:g} s "
                     "by the server")
    if solver.threads > settings.max_threads:
        update["threads"] = settings.max_threads
        notes.append(f"solver.threads {solver.threads} capped at {settings.max_threads} by the server")
    if not update:
        return scenario, notes
    return scenario.model_copy(update={"solver": solver.model_copy(update=update)}), notes


def run_job(job: JobRecord, settings: Settings, send: Send) -> dict[str, Any]:
    """Run `job` to the end and return the summary stored with it; engine errors propagate."""
    scenario, base_dir = parse_scenario(job.request["scenario"], base_dir=settings.data_dir)
    scenario, _ = capped_scenario(scenario, settings)
    out_dir = settings.job_dir(job.id)
    out_dir.mkdir(parents=True, exist_ok=True)
    if job.kind == "sweep":
        return _sweep(scenario, base_dir, out_dir, job.request.get("sweep") or {}, send)
    return _solve(scenario, base_dir, out_dir, settings, send)


def _solve(scenario: Scenario, base_dir: Path, out_dir: Path, settings: Settings, send: Send) -> dict[str, Any]:
    from optimizer.export import bundle_from_result, write_exports
    from optimizer.plan import prepare, solve_prepared
    from optimizer.report.document import write_plan

    send("progress", {"stage": "loading data, building reach and the model"})
    prep = prepare(scenario, base_dir)
    send("progress", {"stage": "solving", "variables": prep.model.milp.n_vars, "rows": prep.model.milp.n_rows,
                      "time_limit_s": scenario.solver.time_limit_s})
    result = solve_prepared(prep)
    send("progress", {"stage": "writing the plan and its exports"})
    for stale in ("plan.geojson", "plan.gpkg", "map.html", "plan.csv", "plan.xlsx", "map.png", "targets.png"):
        (out_dir / stale).unlink(missing_ok=True)   # an interrupted earlier attempt's files
    path = write_plan(result, out_dir)
    plan = json.loads(path.read_text(encoding="utf-8"))
    if result.checked is not None and settings.export_formats:
        write_exports(bundle_from_result(result, plan), out_dir, formats=settings.export_formats)
    sync_folder(out_dir)
    return _plan_summary(plan, out_dir)


def sync_folder(folder: Path) -> None:
    """Flush every file of `folder` to disk before the job is recorded as done.

    Workers let GDAL write GeoPackages without a sync per transaction (OGR_SQLITE_SYNCHRONOUS=OFF,
    much faster); this one sync per file makes the finished results as durable as the job store.
    """
    for path in folder.iterdir():
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _plan_summary(plan: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    solver = plan.get("solver") or {}
    return {"solver_status": plan["status"], "all_targets_met": plan["all_targets_met"],
            "objective_kind": plan["objective_kind"], "objective": plan.get("objective"),
            "bound": plan.get("bound"), "gap": plan.get("gap"), "cost": plan.get("cost"),
            "facilities": len(plan.get("facilities") or []), "time_limited": solver.get("time_limited"),
            "solver_seconds": solver.get("seconds"),
            "artefacts": sorted(p.name for p in out_dir.iterdir() if p.is_file() and not p.name.startswith("."))}


def _sweep(scenario: Scenario, base_dir: Path, out_dir: Path, options: dict[str, Any], send: Send) -> dict[str, Any]:
    from optimizer.sweep.run import SweepEvent, SweepSettings, sweep

    budgets = options.get("budgets")
    settings = SweepSettings(out_dir, budgets=None if budgets is None else tuple(budgets),
                             levels=options.get("levels"), elastic=bool(options.get("elastic")), workers=1,
                             resume=True)   # a re-run after an interruption keeps the finished levels

    def progress(event: SweepEvent) -> None:
        send("progress", {"stage": "least sufficient budget" if event.kind == "least" else "budget levels",
                          "done": event.done, "total": event.total, "running": list(event.running)})

    send("progress", {"stage": "loading data, building reach and the model"})
    frontier = sweep(scenario, base_dir, settings, on_event=progress)
    sync_folder(out_dir)
    document = frontier.document
    return {"levels": len(document["levels"]), "least_sufficient": document["least_sufficient"],
            "monotone": document["monotone"], "notes": document["notes"],
            "artefacts": sorted(p.name for p in out_dir.iterdir() if p.is_file() and not p.name.startswith("."))}


def job_outcome(job: JobRecord, settings: Settings, send: Send) -> tuple[str, dict[str, Any]]:
    """``("done", summary)`` or ``("failed", error)``: the API edge, nothing escapes as a traceback.

    An engine error (bad data file, failed check) fails the job with its problems, each with
    its location; anything else is logged with a fresh error id, which the job shows.
    """
    try:
        return "done", run_job(job, settings, send)
    except OptimizerError as exc:
        return "failed", {"kind": type(exc).__name__,
                          "problems": [{"location": p.location, "message": p.message} for p in exc.problems]}
    except Exception:  # the API edge: logged with an id, never shown as a traceback
        error_id = uuid.uuid4().hex[:12]
        log.exception("job %s failed with an internal error (error id %s)", job.id, error_id)
        return "failed", {"kind": "InternalError", "error_id": error_id, "problems": [{
            "location": "server", "message": f"internal error (error id {error_id}, in the server log); "
            "please report it with the scenario"}]}
