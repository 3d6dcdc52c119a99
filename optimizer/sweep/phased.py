"""What a sweep level's budget bounds: the capital row, one planning year's, or every year's scaled.

A level's budget B bounds model rows, each ``row <= factor × B`` (`BudgetRows`):

- one snapshot (no `years`): the capital row (C6), factor 1;
- a phased plan with ``year``: that planning year's capital row (C6y), factor 1; the other
  years keep their caps, and so does the cap on the total, if any;
- a phased plan with ``scale_years``: every year's capital row with factor ``cap_y / Σ cap``
  (the caps of ``budget.capital_by_year``, scaled by the same factor so that they sum to B), and
  the total capital row (C6) with factor 1. Every planning year needs a cap.

Everything else in a sweep is the same for all three (`optimizer.sweep.run`): automatic levels,
the least sufficient budget, the unlimited-budget plan, warm starts, workers, Dask and resume.
A phased level's coverage is `max_coverage`'s objective: coverage summed over the planning
years, each with its grown weights (covered elderly-years).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.errors import Problem, ScenarioError, raise_if
from optimizer.model.build import PlanModel
from optimizer.scenario.format import Scenario

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BudgetRows:
    """The rows a level's budget bounds and how (see the module docstring).

    Attributes
    ----------
    rows : tuple of int
        Model rows bounded by the budget.
    factors : tuple of float
        ``row_ub = factor × budget`` for each row.
    year : int or None
        The planning year whose cap is the budget (``--year``).
    scale_years : bool
        Every year's cap scaled to the budget (``--scale-years``).
    years : tuple of int
        The planning years, in the order of the yearly rows (``scale_years``).
    """

    rows: tuple[int, ...]
    factors: tuple[float, ...]
    year: int | None = None
    scale_years: bool = False
    years: tuple[int, ...] = ()

    @property
    def phased(self) -> bool:
        """Whether the budget is a phased plan's (a year's cap, or every year's scaled)."""
        return self.year is not None or self.scale_years

    def row_bounds(self, row_ub: FloatArray, budget_cny: float) -> FloatArray:
        """`row_ub` with the budget's rows bounded at `budget_cny` (a copy)."""
        bounded = row_ub.copy()
        bounded[list(self.rows)] = np.asarray(self.factors) * budget_cny
        return bounded

    def lifted(self, row_ub: FloatArray) -> FloatArray:
        """`row_ub` with the budget's rows unbounded (a copy)."""
        return self.row_bounds(row_ub, np.inf)

    def needed(self, model: PlanModel, x: FloatArray) -> float:
        """The least budget a solution `x` fits: the largest ``row @ x / factor``."""
        values = model.milp.A[list(self.rows), :] @ x
        return float(max(v / f for v, f in zip(values, self.factors, strict=True)))

    def scenario_at(self, scenario: Scenario, budget_cny: float) -> Scenario:
        """`scenario` with its budget at `budget_cny`, as the checker reads it."""
        budget = scenario.budget
        update: dict[str, Any]
        if self.scale_years:
            caps = dict(budget.capital_by_year or {})
            factor = budget_cny / sum(caps.values())
            update = {"capital_by_year": {y: cap * factor for y, cap in caps.items()}, "capital": budget_cny}
        elif self.year is not None:
            update = {"capital_by_year": dict(budget.capital_by_year or {}) | {str(self.year): budget_cny}}
        else:
            update = {"capital": budget_cny}
        return scenario.model_copy(update={"budget": budget.model_copy(update=update)})

    def scenario_lifted(self, scenario: Scenario) -> Scenario:
        """`scenario` without the caps the budget sets (for the least-capital and unlimited solves)."""
        budget = scenario.budget
        update: dict[str, Any]
        if self.scale_years:
            update = {"capital_by_year": None, "capital": None}
        elif self.year is not None:
            caps = {y: cap for y, cap in (budget.capital_by_year or {}).items() if y != str(self.year)}
            update = {"capital_by_year": caps or None}
        else:
            update = {"capital": None}
        return scenario.model_copy(update={"budget": budget.model_copy(update=update)})

    def caps_at(self, scenario: Scenario, budget_cny: float) -> dict[str, float] | None:
        """The yearly caps of a level at `budget_cny` (None without `years`)."""
        return self.scenario_at(scenario, budget_cny).budget.capital_by_year if self.phased else None


def budget_rows(scenario: Scenario, model: PlanModel, *, year: int | None, scale_years: bool) -> BudgetRows:
    """The `BudgetRows` of a sweep of `scenario` (checked by `check_phased_options` first)."""
    if model.schedule is None or not scenario.years:
        return BudgetRows((model.capital_row,), (1.0,))
    year_rows = [int(r) for r in model.schedule.capital_year_rows]
    years = [int(y) for y in scenario.years]
    if year is not None:
        return BudgetRows((year_rows[years.index(year)],), (1.0,), year=year)
    caps = scenario.budget.capital_by_year or {}
    total = sum(caps.values())
    factors = tuple(caps[str(y)] / total for y in years)
    return BudgetRows((*year_rows, model.capital_row), (*factors, 1.0), scale_years=True, years=tuple(years))


def check_phased_options(scenario: Scenario, *, year: int | None, scale_years: bool,
                         names: tuple[str, str] = ("--year", "--scale-years")) -> None:
    """Refuse, naming the option (`names`: how the caller spells `year` and `scale_years`), a phased
    sweep the scenario cannot have; collect every problem first."""
    year_name, scale_name = names
    both = f"{year_name}/{scale_name}"
    problems = []
    if year is not None and scale_years:
        problems.append(Problem(both, f"give {year_name} or {scale_name}, not both"))
    years = [str(y) for y in scenario.years or []]
    caps = scenario.budget.capital_by_year or {}
    if not scenario.extended:
        if year is not None or scale_years:
            problems.append(Problem(both, f"{year_name} and {scale_name} vary a phased plan's yearly "
                                    "budgets; this scenario has no `years`"))
        raise_if(problems, ScenarioError)
        return
    if not years:
        problems.append(Problem("years", "a budget sweep of a scenario with beds or sharper targets but no `years` "
                                "is not implemented: solve it at each budget with `eldercare solve`"))
    elif year is None and not scale_years:
        problems.append(Problem(both, "a phased plan's sweep varies one year's capital budget "
                                f"({year_name}) or every year's scaled together ({scale_name})"))
    if year is not None and years and str(year) not in years:
        problems.append(Problem(year_name, f"{year} is not a planning year; planning years: {', '.join(years)}"))
    if scale_years and years and (missing := [y for y in years if y not in caps]):
        problems.append(Problem(scale_name, "scaling needs a cap for every planning year in "
                                f"budget.capital_by_year; none for {', '.join(missing)}"))
    if scale_years and years and caps and sum(caps.values()) <= 0:
        problems.append(Problem(scale_name, "the yearly capital budgets sum to 0: nothing to scale"))
    raise_if(problems, ScenarioError)


def mode_note(budget: BudgetRows) -> str | None:
    """How a phased sweep's budget varies, for its notes (None: a one-year sweep)."""
    if budget.scale_years:
        return "phased sweep: each level is the total capital; every year's cap scaled to sum to it"
    if budget.year is not None:
        return f"phased sweep: each level is {budget.year}'s capital cap; the other years keep theirs"
    return None
