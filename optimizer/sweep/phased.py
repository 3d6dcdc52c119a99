"""Budget sweep of a phased plan (`years`): one year's capital budget, or every year's scaled together.

Two ways to vary the budget of a plan over several years:

- ``year``: each level B is that planning year's cap, ``budget.capital_by_year[year] = B``;
  the other years keep their caps (and the cap on the total, if any, stays).
- ``scale_years``: each level B is the total capital; every year's cap is scaled by the same
  factor, ``cap_y × B / Σ cap``, so they sum to B, and the cap on the total becomes B. Every
  planning year needs a cap in ``budget.capital_by_year``.

Each level is the `max_coverage` plan within its budgets (coverage summed over the planning
years, then least cost), solved from scratch by `optimizer.plan.solve` and checked by the
phased checker like every plan; levels run one after another, upward. The frontier's coverage
is the plan's last planning year's (as in its plan.json). What the one-year sweep also does,
the least sufficient budget, automatic levels, warm starts, workers, Dask and resume, is not
done here: `check_phased_settings` refuses those options by name.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.errors import Problem, ScenarioError, raise_if
from optimizer.plan import solve
from optimizer.report.document import plan_document
from optimizer.scenario.format import Scenario
from optimizer.sweep.chart import write_chart
from optimizer.sweep.frontier import FRONTIER_FORMAT, finish_rows, level_row, save_level, write_frontier

# (kind, levels done, levels in all, budgets running, finished row): `optimizer.sweep.run` makes events of it
Progress = Callable[[str, int, int, tuple[float, ...], dict[str, Any] | None], None]


@dataclass(frozen=True)
class PhasedSweep:
    """The sweep options as a phased sweep reads them (`optimizer.sweep.run.SweepSettings`)."""

    out_dir: Path
    budgets: tuple[float, ...] | None
    year: int | None
    scale_years: bool
    elastic: bool = False
    workers: int = 1
    dask: Any = None
    resume: bool = False


def check_phased_settings(scenario: Scenario, settings: PhasedSweep) -> None:
    """Refuse, naming the option, what a phased sweep does not do; collect every problem first."""
    problems = []
    years = [str(y) for y in scenario.years or []]
    caps = scenario.budget.capital_by_year or {}
    if not years:
        problems.append(Problem("years", "a budget sweep of a scenario with beds or sharper targets but no `years` "
                                "is not implemented: solve it at each budget with `eldercare solve`"))
    elif settings.year is None and not settings.scale_years:
        problems.append(Problem("--year/--scale-years", "a phased plan's sweep varies one year's capital budget "
                                "(--year YEAR) or every year's scaled together (--scale-years)"))
    if settings.year is not None and years and str(settings.year) not in years:
        problems.append(Problem("--year", f"{settings.year} is not a planning year; planning years: "
                                f"{', '.join(years)}"))
    if settings.scale_years and years and (missing := [y for y in years if y not in caps]):
        problems.append(Problem("--scale-years", "scaling needs a cap for every planning year in "
                                f"budget.capital_by_year; none for {', '.join(missing)}"))
    if settings.scale_years and years and caps and sum(caps.values()) <= 0:
        problems.append(Problem("--scale-years", "the yearly capital budgets sum to 0: nothing to scale"))
    if settings.budgets is None:
        problems.append(Problem("--levels", "a phased sweep has no automatic levels (no least sufficient budget "
                                "is computed): give --budgets"))
    if settings.workers > 1 or settings.dask is not None:
        problems.append(Problem("--workers/--dask", "a phased sweep solves its levels one after another"))
    if settings.resume:
        problems.append(Problem("--resume", "a phased sweep does not resume; run it again"))
    raise_if(problems, ScenarioError)


def level_scenario(scenario: Scenario, budget_cny: float, *, year: int | None, scale_years: bool) -> Scenario:
    """`scenario` as the `max_coverage` level at `budget_cny` (see the module docstring)."""
    budget = scenario.budget
    caps = dict(budget.capital_by_year or {})
    update: dict[str, Any] = {}
    if scale_years:
        factor = budget_cny / sum(caps.values())
        update = {"capital_by_year": {y: cap * factor for y, cap in caps.items()}, "capital": budget_cny}
    else:
        update = {"capital_by_year": caps | {str(year): budget_cny}}
    return scenario.model_copy(update={"budget": budget.model_copy(update=update), "objective": "max_coverage"})


def sweep_phased(scenario: Scenario, base_dir: Path, settings: PhasedSweep, emit: Progress) -> dict[str, Any]:
    """Solve every level of a phased plan's sweep, write the frontier files, return ``frontier.json``'s document."""
    check_phased_settings(scenario, settings)
    assert settings.budgets is not None
    if settings.elastic:
        scenario = scenario.model_copy(update={"elastic": True})
    budgets = sorted(set(settings.budgets))
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(scenario, settings)
    weight = next(iter(scenario.demand.weights), None)
    began = time.perf_counter()
    rows: list[dict[str, Any]] = []
    emit("least", 0, len(budgets), (), None)
    for k, budget_cny in enumerate(budgets):
        emit("started", k, len(budgets), (budget_cny,), None)
        level = level_scenario(scenario, budget_cny, year=settings.year, scale_years=settings.scale_years)
        start = time.perf_counter()
        result = solve(level, base_dir)
        document = plan_document(result)
        row = level_row(document, budget_cny=budget_cny, seconds=time.perf_counter() - start, weight=weight)
        row["capital_by_year"] = dict(level.budget.capital_by_year or {})
        row["capital_spent_by_year"] = {y: e["capital"] for y, e in (document.get("years") or {}).items()}
        save_level(settings.out_dir, document, row, fingerprint)
        rows.append(row)
        document_so_far = _document(scenario, settings, rows, began, complete=False)
        write_frontier(settings.out_dir, document_so_far)
        emit("level", k + 1, len(budgets), (), finish_rows(rows, None)[-1])
    document = _document(scenario, settings, rows, began, complete=True)
    write_frontier(settings.out_dir, document)
    write_chart(document, settings.out_dir / "frontier.png")
    return document


def _fingerprint(scenario: Scenario, settings: PhasedSweep) -> str:
    dump = scenario.model_dump(mode="json", exclude={"solver": True})
    mode = {"year": settings.year, "scale_years": settings.scale_years}
    return hashlib.sha256(json.dumps([dump, mode], sort_keys=True, default=str).encode()).hexdigest()[:20]


def _document(scenario: Scenario, settings: PhasedSweep, rows: list[dict[str, Any]], began: float, *,
              complete: bool) -> dict[str, Any]:
    """``frontier.json`` of a phased sweep: the one-year sweep's fields, and how the budget varies."""
    finished = finish_rows(rows, None)
    mode = ("each level is the total capital; every year's cap scaled to sum to it" if settings.scale_years
            else f"each level is {settings.year}'s capital cap; the other years keep theirs")
    notes = [f"phased sweep: {mode}; levels solved from scratch one after another; coverage is the last "
             "planning year's; the least sufficient budget is not computed"]
    notes += [f"budget {r['budget']:,.0f}: covers less than a lower budget's level ({r['status']})"
              for r in finished if not r["monotone"]]
    infeasible = [r for r in finished if r["status"] == "infeasible"]
    if infeasible and not scenario.elastic:
        notes.append(f"{len(infeasible)} level(s) meet no plan with the targets as stated; sweep with --elastic "
                     "to see what they buy")
    return {
        "format": FRONTIER_FORMAT, "scenario": scenario.name, "objective": "max_coverage",
        "elastic": scenario.elastic, "weight": next(iter(scenario.demand.weights), None),
        "budget": {"annual": scenario.budget.annual, "horizon_years": scenario.budget.horizon_years,
                   "capital": scenario.budget.capital, "capital_by_year": scenario.budget.capital_by_year},
        "phased": {"years": list(scenario.years or []), "year": settings.year, "scale_years": settings.scale_years},
        "solver": {"backend": scenario.solver.backend, "time_limit_s": scenario.solver.time_limit_s,
                   "mip_gap": scenario.solver.mip_gap},
        "least_sufficient": {"budget": None, "capital": None, "annual": None, "bound": None, "proven": False,
                             "status": None, "seconds": None,
                             "note": "not computed by a phased sweep"},
        "saturation": None,
        "complete": complete and len(finished) == len(settings.budgets or ()),
        "monotone": all(r["monotone"] for r in finished),
        "levels": finished, "notes": notes, "seconds": round(time.perf_counter() - began, 3),
    }
