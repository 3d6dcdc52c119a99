"""What every export reads: a checked plan with its scenario and region, from a solve or a plan.json.

`plan.json` points back to its scenario (``source``: the scenario file relative to plan.json
and absolute, with SHA-256 digests of the scenario and every data file it names). Exporting a
written plan reloads that scenario, refuses if any digest changed, and re-runs the independent
checker on the plan's facilities, so the exported figures are recomputed, never copied.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.check.plan import CheckedPlan, check_plan
from optimizer.check.years import check_phased
from optimizer.errors import ExportError, OptimizerError
from optimizer.inputs.geodata import Region, load_region
from optimizer.plan import PlanResult
from optimizer.reach.base import Reach
from optimizer.reach.build import build_reach
from optimizer.scenario.format import Scenario, load_scenario


@dataclass(frozen=True)
class PlanBundle:
    """A checked plan and everything needed to draw it.

    Attributes
    ----------
    scenario, base_dir, region, reach
        As solved (region arrays and frames in the scenario's metric CRS).
    checked : CheckedPlan
        The independent checker's figures for the plan.
    plan : dict
        The plan.json document (status, objective, bound, gap, solver, targets).
    """

    scenario: Scenario
    base_dir: Path
    region: Region
    reach: Reach
    checked: CheckedPlan
    plan: dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _data_files(scenario: Scenario) -> list[str]:
    """Relative paths of the data files the scenario reads (inline layers have none)."""
    specs = [scenario.demand, scenario.sites, scenario.network, scenario.distances]
    return [str(spec.path) for spec in specs if spec is not None and getattr(spec, "path", None)]


def _read_files(scenario: Scenario, base_dir: Path) -> list[Path]:
    """Every data file a solve or an export of `scenario` reads (the zone boundaries too)."""
    names = _data_files(scenario) + ([scenario.boundaries.path] if scenario.boundaries is not None else [])
    return [base_dir / name for name in names]


def scenario_files(scenario_path: Path) -> list[Path]:
    """The scenario file and every data file it names: what a run reads, so must not overwrite.

    Raises `ScenarioError` when the scenario cannot be read, as the run itself would.
    """
    scenario, base_dir = load_scenario(scenario_path)
    return [scenario_path, *_read_files(scenario, base_dir)]


def plan_files(plan_path: Path, *, scenario_path: Path | None = None) -> list[Path]:
    """What exporting `plan_path` reads: the plan, its scenario and the scenario's data files.

    Raises `ExportError` as `bundle_from_plan_file` does when the plan or its scenario cannot be read.
    """
    plan = _read_plan(plan_path)
    path = _plan_scenario(plan_path, plan, scenario_path)
    scenario, base_dir = _load_plan_scenario(plan_path, path)
    return [plan_path, path, *_read_files(scenario, base_dir)]


def scenario_source(scenario_path: Path, out_dir: Path) -> dict[str, Any]:
    """The ``source`` entry of plan.json: where the scenario is, and digests of what it reads.

    Parameters
    ----------
    scenario_path : Path
        The scenario file that was solved.
    out_dir : Path
        The folder plan.json goes into (the relative path is taken from there).
    """
    scenario_path = scenario_path.resolve()
    scenario, base_dir = load_scenario(scenario_path)
    digests = {"scenario": _sha256(scenario_path)}
    digests |= {name: _sha256(base_dir / name) for name in _data_files(scenario)}
    try:
        relative: str | None = Path(os.path.relpath(scenario_path, out_dir.resolve())).as_posix()
    except ValueError:   # another drive (Windows): only the absolute path applies
        relative = None
    return {"scenario": relative, "scenario_absolute": str(scenario_path), "sha256": digests}


def bundle_from_result(result: PlanResult, plan: dict[str, Any]) -> PlanBundle:
    """The bundle of a fresh solve; `plan` is its plan.json document.

    Raises `ExportError` when the solve found no plan to export.
    """
    if result.checked is None:
        raise ExportError(f"the solve found no plan (status {result.status}); nothing to export", "status")
    prep = result.prepared
    return PlanBundle(prep.scenario, prep.base_dir, prep.region, prep.reach, result.checked, plan)


def bundle_from_plan_file(plan_path: Path, *, scenario_path: Path | None = None) -> PlanBundle:
    """Rebuild the bundle of a written plan.json from the scenario it points to.

    Parameters
    ----------
    plan_path : Path
        A plan.json written by ``eldercare solve``.
    scenario_path : Path, optional
        Use this scenario instead of the one recorded in the plan's ``source``; its digests
        must still match.

    Raises `ExportError` naming the plan field when the plan cannot be reproduced.
    """
    plan = _read_plan(plan_path)
    source = plan.get("source")
    path = _plan_scenario(plan_path, plan, scenario_path)
    scenario, base_dir = _load_plan_scenario(plan_path, path)
    _same_inputs(plan_path, path, scenario, base_dir, (source or {}).get("sha256", {}))
    region = load_region(scenario, base_dir)
    reach = build_reach(scenario, region, base_dir)
    if scenario.extended:   # a phased plan: opening years and bed actions as the plan states them
        new = [(f["site"], f["type"], f.get("year")) for f in plan.get("facilities") or [] if f.get("new")]
        actions = [(a["site"], a["action"], a["beds"], a.get("year")) for a in plan.get("bed_actions") or []]
        checked = check_phased(scenario, region, base_dir, new, actions)
    else:
        pairs = [(f["site"], f["type"]) for f in plan.get("facilities") or []]
        checked = check_plan(scenario, region, base_dir, pairs)
    _same_figures(plan_path, plan, checked)
    return PlanBundle(scenario, base_dir, region, reach, checked, plan)


def _read_plan(plan_path: Path) -> dict[str, Any]:
    try:
        plan = json.loads(plan_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ExportError(f"cannot read the plan: {exc}", str(plan_path)) from None
    if not isinstance(plan, dict) or "facilities" not in plan:
        raise ExportError("not a plan.json written by `eldercare solve` (no `facilities`)", str(plan_path))
    if not plan["facilities"]:
        raise ExportError(f"the plan has no facilities (status {plan.get('status')}); nothing to export",
                          f"{plan_path}: facilities")
    return plan


def _plan_scenario(plan_path: Path, plan: dict[str, Any], scenario_path: Path | None) -> Path:
    """`scenario_path` if given, else the scenario the plan records."""
    source = plan.get("source")
    if not isinstance(source, dict) and scenario_path is None:
        raise ExportError("the plan records no scenario (written before exports existed); pass "
                          "--scenario with the scenario file that was solved", f"{plan_path}: source")
    return scenario_path or _recorded_scenario(plan_path, source or {})


def _load_plan_scenario(plan_path: Path, path: Path) -> tuple[Scenario, Path]:
    try:
        return load_scenario(path)
    except OptimizerError as exc:
        raise ExportError(f"cannot load the plan's scenario {path}: {exc}", f"{plan_path}: source") from None


def _recorded_scenario(plan_path: Path, source: dict[str, Any]) -> Path:
    """The recorded scenario: relative to plan.json first (a moved folder), then absolute."""
    relative, absolute = source.get("scenario"), source.get("scenario_absolute")
    candidates = [plan_path.parent / str(relative) if relative else None, Path(str(absolute)) if absolute else None]
    for candidate in candidates:
        if candidate is not None and candidate.is_file():
            return candidate
    raise ExportError(f"the plan's scenario is not at {source.get('scenario')!r} (relative to the plan) nor "
                      f"at {source.get('scenario_absolute')!r}; pass --scenario", f"{plan_path}: source.scenario")


def _same_inputs(plan_path: Path, scenario_path: Path, scenario: Scenario, base_dir: Path,
                 recorded: dict[str, str]) -> None:
    """Refuse when the scenario or a data file differs from what was solved."""
    current = {"scenario": _sha256(scenario_path)}
    current |= {name: _sha256(base_dir / name) for name in _data_files(scenario) if (base_dir / name).is_file()}
    changed = sorted(name for name, digest in recorded.items() if current.get(name) != digest)
    if changed:
        raise ExportError(f"{', '.join(changed)} changed since the plan was solved (SHA-256 differs); "
                          "solve again to export the current data", f"{plan_path}: source.sha256")


def _same_figures(plan_path: Path, plan: dict[str, Any], checked: CheckedPlan) -> None:
    """The re-check must reproduce the plan's facilities and cost."""
    recorded = plan.get("cost") or {}
    total = recorded.get("total")
    count = len(checked.facilities) == len(plan["facilities"])
    cost = total is None or abs(checked.cost["total"] - total) <= 1e-6 * max(1.0, abs(total))
    faults = sorted(set(checked.violations) - set(plan.get("violations") or []))
    if not (count and cost) or faults:
        detail = "; ".join(faults) or (
            f"{len(checked.facilities)} facilities costing {checked.cost['total']:,.0f} yuan on re-check, "
            f"the plan says {len(plan['facilities'])} costing {total}")
        raise ExportError(f"the plan does not reproduce on its scenario: {detail}", f"{plan_path}: facilities")
