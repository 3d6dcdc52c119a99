"""`eldercare solve`'s progress on stderr (stdout keeps the summary, for scripts).

In a terminal a Rich status line follows the running stage (the solve's phase, best plan and
bound as they improve) and each finished stage leaves a line; elsewhere (a pipe, a log file)
plain lines: one per stage started and finished, and the solve's best plan and bound at most
every `PLAIN_EVERY_S` seconds. Events come from `optimizer.progress`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress as RichProgress
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

from optimizer.progress import Progress

PLAIN_EVERY_S = 2.0
_PHASES = {"shortfall": "target shortfall", "coverage": "coverage", "distance": "distance", "cost": "cost"}


@contextmanager
def solve_progress(console: Console, began: float | None = None) -> Iterator[Progress]:
    """A `Progress` that shows the stages on `console` (stderr) while the block runs; times count
    from `began` (a `time.perf_counter()`; default now)."""
    shown = _Shown(console, began)
    if not console.is_terminal:
        yield shown.plain
        return
    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn())
    with RichProgress(*columns, console=console, transient=True) as bar:
        shown.bar, shown.task = bar, bar.add_task("starting", total=None)
        yield shown.rich


class _Shown:
    """What the display remembers between events: the stage's start, the phase, the last plain line."""

    def __init__(self, console: Console, began: float | None) -> None:
        self.console = console
        self.bar: Any = None
        self.task: Any = None
        self.began = time.perf_counter() if began is None else began
        self.phase: str | None = None
        self.last_plain = 0.0

    def rich(self, event: dict[str, Any]) -> None:
        """Terminal: a status line for the running stage, a line for each finished one."""
        if event["state"] == "done":
            self.bar.console.print(f"[green]✓[/] {escape(_done_text(event))}", highlight=False)
            return
        self.bar.update(self.task, description=escape(_running_text(event, self.phase)))
        self.phase = event.get("phase", self.phase)

    def plain(self, event: dict[str, Any]) -> None:
        """Not a terminal: plain lines, solve updates at most every `PLAIN_EVERY_S` (a new phase at once)."""
        now = time.perf_counter()
        if event["state"] == "update":
            new_phase = event.get("phase") != self.phase
            self.phase = event.get("phase", self.phase)
            if not new_phase and not event.get("ended") and now - self.last_plain < PLAIN_EVERY_S:
                return
        self.last_plain = now
        text = _done_text(event) if event["state"] == "done" else _running_text(event, self.phase)
        self.console.print(f"{self._clock()} {text}", markup=False, highlight=False, soft_wrap=True)

    def _clock(self) -> str:
        return f"[{time.perf_counter() - self.began:5.1f}s]"


def _running_text(event: dict[str, Any], phase: str | None) -> str:
    name = event["stage"]
    if event["state"] == "start":
        return {"read": "read: loading the region's data", "reach": "reach: who each site reaches",
                "model": "model: building the arrays", "solve": "solve: started",
                "check": "check: the independent checker", "export": "export: plan.json and the files"}.get(
            name, f"{name}: started")
    phase = event.get("phase", phase)
    text = f"solve: {_PHASES.get(phase or '', phase or '')} phase" + (" ended" if event.get("ended") else "")
    if event.get("objective") is not None:
        text += f", best {event['objective']:,.0f}"
    if event.get("bound") is not None:
        text += f", bound {event['bound']:,.0f}"
    if event.get("gap") is not None:
        text += f", gap {100 * event['gap']:.2f}%"
    return text


def _done_text(event: dict[str, Any]) -> str:
    name, seconds = event["stage"], event.get("seconds", 0.0)
    return f"{name}: done in {seconds:.2f} s" + (f" ({detail})" if (detail := _detail(event)) else "")


def _detail(e: dict[str, Any]) -> str:
    """What a finished stage found, from the keys it reported (none: nothing to add)."""
    if e["stage"] == "read" and "units" in e:
        return f"{e['units']:,} units, {e['sites']:,} sites"
    if e["stage"] == "reach" and "pairs" in e:
        return f"{e['pairs']:,} unit-site pairs in reach"
    if e["stage"] == "model" and "variables" in e:
        return f"{e['variables']:,} variables x {e['rows']:,} rows"
    if e["stage"] == "solve":
        return str(e.get("status", ""))
    if e["stage"] == "check":
        return "the plan checks out" if e.get("feasible") else ""
    if e["stage"] == "export":
        return f"{e.get('files', 0)} files"
    return ""
