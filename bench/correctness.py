"""Solve benchmark cases through `optimizer.solve_tables` and compare with the known optima.

    python -m bench correctness [--quick] [--backend highs|cpsat|pulp:CBC] [--time-limit S]
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from bench.instances import Case
from optimizer import solve_tables
from optimizer.plan import PlanResult, money_objective, weighted_coverage

ABS_TOL = 1e-3
"""The optimum files print 3 decimals (README: compare with an absolute tolerance >= 1e-3)."""

MAIN_PHASE = {"distance": "distance", "money": "cost", "cost": "cost", "coverage": "coverage"}


@dataclass(frozen=True)
class Row:
    """One line of the correctness table."""

    family: str
    instance: str
    known: float
    ours: float | None
    match: bool
    seconds: float
    backend: str
    status: str
    bound: float | None = None
    gap: float | None = None
    note: str = ""

    @property
    def proven_match(self) -> bool:
        """Known value reproduced and proven optimal."""
        return self.match and self.status == "optimal"


def objective_value(result: PlanResult, measure: str) -> float | None:
    """The checker's figure for the case's objective (None without a plan)."""
    checked = result.checked
    if checked is None:
        return None
    if measure == "distance":
        return float(sum(checked.distance.values()))
    if measure == "money":
        return money_objective(result.prepared, checked)
    if measure == "coverage":
        return weighted_coverage(result.prepared, checked)
    return float(checked.cost["total"])


def _bound(result: PlanResult, measure: str) -> tuple[float | None, float | None]:
    """Bound and gap of the phase that optimises the benchmark's objective (coverage negated)."""
    phase = result.solution.phase(MAIN_PHASE[measure])
    if phase is None or phase.result.bound is None:
        return None, None
    bound = -phase.result.bound if measure == "coverage" else phase.result.bound
    ours = objective_value(result, measure)
    if ours is None or not math.isfinite(bound) or ours == 0:
        return bound, None
    return bound, abs(ours - bound) / abs(ours)   # of the checked figure, not the phase's own


def run_case(case: Case, backend: str = "highs", time_limit_s: float | None = None,
             mip_gap: float | None = None) -> Row:
    """Build the case's tables, solve them with the engine, and compare with the known value.

    `mip_gap` replaces the cases' relative gap (0) when given."""
    limit = time_limit_s if time_limit_s is not None else case.time_limit_s
    start = time.perf_counter()
    try:
        tables = case.build(backend, limit)
        if mip_gap is not None:
            tables[0]["solver"]["mip_gap"] = mip_gap
        result = solve_tables(*tables)
    except Exception as exc:   # a crash is reported in the table, not hidden
        return Row(case.family, case.name, case.known, None, False, time.perf_counter() - start, backend,
                   "error", note=f"{type(exc).__name__}: {exc}"[:160])
    seconds = time.perf_counter() - start
    ours = objective_value(result, case.measure)
    match = ours is not None and abs(ours - case.known) <= ABS_TOL + 1e-12 * abs(case.known)
    bound, gap = _bound(result, case.measure) if result.status != "optimal" else (None, None)
    return Row(case.family, case.name, case.known, ours, match, seconds, backend, result.status, bound, gap)


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3f}"


def table(rows: list[Row]) -> str:
    """Markdown table: instance, known optimum, ours, match, seconds, backend, status, bound, gap."""
    lines = ["| family | instance | known | ours | match | seconds | backend | status | bound | gap |",
             "|---|---|---:|---:|---|---:|---|---|---:|---:|"]
    for r in rows:
        gap = "—" if r.gap is None else f"{100 * r.gap:.3f}%"
        status = r.status if not r.note else f"{r.status}: {r.note}"
        lines.append(f"| {r.family} | {r.instance} | {_num(r.known)} | {_num(r.ours)} | "
                     f"{'yes' if r.match else '**NO**'} | {r.seconds:.2f} | {r.backend} | {status} | "
                     f"{_num(r.bound)} | {gap} |")
    return "\n".join(lines)


def summary(rows: list[Row]) -> str:
    """Matches per family and the total, with seconds."""
    families = dict.fromkeys(r.family for r in rows)
    parts = []
    for family in families:
        mine = [r for r in rows if r.family == family]
        parts.append(f"{family} {sum(r.proven_match for r in mine)}/{len(mine)} "
                     f"({sum(r.seconds for r in mine):.0f} s)")
    total = sum(r.proven_match for r in rows)
    return (f"proven matches: {total}/{len(rows)} in {sum(r.seconds for r in rows):.0f} s — "
            + "; ".join(parts))
