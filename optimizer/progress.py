"""Progress of a solve, by stage: what the CLI shows while it waits and what the API's jobs report.

A solve goes through the stages ``read`` (the region's data), ``reach`` (who each site
reaches), ``model`` (the arrays), ``solve`` (the phases, with the best plan and the bound as
they improve), ``check`` (the independent checker) and ``export`` (plan.json and the files).
Each stage reports ``{"stage": name, "state": "start"}``, any number of ``"update"`` events, and
``{"stage": name, "state": "done", "seconds": ...}``; the other keys describe the stage (sizes,
a phase's name, its objective and bound in the planner's terms: coverage as coverage, cost as
yuan). A `Progress` receives them as plain dicts, ready for JSON. It must be quick: the solver
calls it from its search.

Flow: used by every floor (a bottom module, like `optimizer.errors`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Progress = Callable[[dict[str, Any]], None]
STAGES = ("read", "reach", "model", "solve", "check", "export")


def silent(event: dict[str, Any]) -> None:
    """A `Progress` that reports nowhere (the default)."""


@contextmanager
def stage(progress: Progress | None, name: str, **start: Any) -> Iterator[dict[str, Any]]:
    """Report `name` started, then done with its seconds and whatever the body put in the yielded dict."""
    report = progress or silent
    report({"stage": name, "state": "start", **start})
    began = time.perf_counter()
    done: dict[str, Any] = {}
    yield done
    report({"stage": name, "state": "done", "seconds": round(time.perf_counter() - began, 3), **done})


class Throttle:
    """Pass on a solver's best-plan and bound reports when they change, at most every `every_s` seconds
    (a solver may report thousands of times a second), and always when the best plan improves."""

    def __init__(self, report: Callable[[float | None, float | None], None], every_s: float = 0.5) -> None:
        self.report = report
        self.every_s = every_s
        self.last: tuple[float | None, float | None] = (None, None)
        self.when = 0.0

    def __call__(self, objective: float | None, bound: float | None, *, improved: bool = False) -> None:
        """Report (`objective`, `bound`) if they changed and enough time passed (or the plan `improved`)."""
        now = time.perf_counter()
        if (objective, bound) == self.last or (not improved and now - self.when < self.every_s):
            return
        self.last, self.when = (objective, bound), now
        self.report(objective, bound)
