"""Window search: improve a feasible plan by solving small regions of the model exactly.

A window is a connected set of integer variables: facilities reached from a seed facility
through the model's local rows (a unit's coverage link, a co-location row), widened by the
continuous variables those rows tie to them (the units' coverage). Everything outside the window
is held at the plan's values, so the window's sub-model is the exact restriction of the whole
model: rows keep their bounds less what the held variables contribute, and region-wide rows
(budgets, shares, counts) take part with the room the rest of the plan leaves them. Any solution
of the window, put back, is a plan of the whole model, so the plan never gets worse. Sub-models
are solved by HiGHS.

Planning models are local: a facility competes only with those whose reach overlaps its own, so
re-solving a neighbourhood exactly finds the improvements that greedy moves (one swap at a time)
miss. The window size adapts: it grows when windows keep solving to optimality without any
gain (the plan is optimal at that size), shrinks when they stop on their time limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.model.adjacency import Windows
from optimizer.model.milp import INTEGER, Milp
from optimizer.solvers.base import SolveOptions, SolveResult, Status
from optimizer.solvers.registry import run_backend
from optimizer.tuning import TUNING

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SubSolver = Callable[[Milp, SolveOptions], SolveResult]



@dataclass(frozen=True)
class SearchReport:
    """What a search by sub-MIPs did (window search here, core search in `optimizer.search.core`)."""

    tries: int            # sub-MIPs solved
    improved: int
    start_objective: float
    objective: float
    seconds: float
    last_size: int        # facilities in the last window, sites in the last core
    kind: str = "window"
    bound: float = -np.inf   # a bound on the whole model the search proved (core search of every site)

    def note(self) -> str:
        """One line for a plan's notes."""
        if self.kind == "row-weighting":   # `optimizer.search.row_weighting`: steps, not sub-MIPs
            return (f"row-weighting search: {self.tries:,} steps in {self.seconds:.1f} s, {self.improved} improved "
                    f"the plan from {self.start_objective:.6g} to {self.objective:.6g} ({self.last_size} sites open)")
        unit = "facilities" if self.kind == "window" else "sites"
        tries = "windows" if self.kind == "window" else "core MIPs"
        return (f"{self.kind} search: {self.tries} {tries} in {self.seconds:.1f} s, {self.improved} improved the "
                f"plan from {self.start_objective:.6g} to {self.objective:.6g} (last {self.kind} {self.last_size} "
                f"{unit})")


def improve(milp: Milp, x: FloatArray, solve: SubSolver | None = None, *, time_limit_s: float,
            target: float = -np.inf, seed: int = 0, windows: Windows | None = None) -> tuple[FloatArray, SearchReport]:
    """A plan at least as good as the feasible `x`, from window re-solves within `time_limit_s`;
    stops early once the objective reaches `target` (a proven bound), a window holds every
    integer variable and is solved to optimality (then the plan is optimal), or windows as large
    as the model allows keep solving without gain."""
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    windows = windows or Windows(milp)
    solve = solve or highs_window
    rng = np.random.default_rng(seed)
    ints = np.flatnonzero(windows.free_int)
    best = start = float(milp.c @ x + milp.offset)
    size, fruitless, tried, improved = min(TUNING.window_first_size, len(ints)), 0, 0, 0
    window_s = max(TUNING.window_seconds, time_limit_s / 20)
    reached = -np.inf if not np.isfinite(target) else target + 1e-9 * max(1.0, abs(target))
    while len(ints) and best > reached:
        left = deadline - time.perf_counter()
        if left < 0.05:
            break
        opened = ints[x[ints] > 0.5]
        centre = int(rng.choice(opened if len(opened) and rng.random() < 0.5 else ints))
        cols = windows.around(centre, size, rng)
        result = solve(windows.restriction(x, cols),
                       SolveOptions(time_limit_s=min(window_s, left), mip_gap=1e-6, threads=1, start=x[cols]))
        tried += 1
        candidate = _put_back(milp, x, cols, result)
        value = float(milp.c @ candidate + milp.offset) if candidate is not None else np.inf
        if candidate is not None and value < best - 1e-9 * max(1.0, abs(best)) and milp.is_feasible(candidate):
            x, best, fruitless, improved = candidate, value, 0, improved + 1
            continue
        if result.status != Status.OPTIMAL:
            size = max(8, int(size * TUNING.window_shrink))
            continue
        if len(cols) >= milp.n_vars or int(windows.free_int[cols].sum()) >= len(ints):
            break   # the whole model, solved to optimality: nothing left to find
        fruitless += 1
        if fruitless >= max(10, 2 * len(opened) // max(size, 1)):
            if size >= len(ints):
                break   # windows as large as they get (whole parts of the model) gain nothing more
            size, fruitless = min(len(ints), int(size * TUNING.window_grow) + 1), 0
    report = SearchReport(tried, improved, start, best, time.perf_counter() - t0, size)
    return x, report


def highs_window(window: Milp, options: SolveOptions) -> SolveResult:
    """A window solved by HiGHS, in a worker process where OR-Tools is loaded here."""
    return run_backend("highs", window, options)


def _put_back(milp: Milp, x: FloatArray, cols: IntArray, result: SolveResult) -> FloatArray | None:
    """The whole plan with the window's solution in place, integers rounded; None when the
    window has no solution (the caller checks the whole model's rows before taking it)."""
    if not result.status.has_solution or result.x is None:
        return None
    candidate = x.copy()
    values = result.x.copy()
    integer = milp.integrality[cols] == INTEGER
    values[integer] = np.round(values[integer])
    candidate[cols] = values
    return candidate
