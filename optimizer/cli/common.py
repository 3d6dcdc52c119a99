"""What every `eldercare` command shares: the consoles, the exit codes, and the guard that turns
engine errors into one-line messages and exit codes (the CLI is one of the two edges where
errors become user output; the HTTP API is the other)."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable

import typer
from rich.console import Console

from optimizer.errors import CheckFailedError, OptimizerError

out = Console()
err = Console(stderr=True)

EXIT_MET, EXIT_UNMET, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def guarded(work: Callable[[], int]) -> None:
    """Run a command body; turn engine errors into messages and exit codes, never tracebacks."""
    try:
        code = work()
    except CheckFailedError as exc:
        err.print("[bold red]internal error[/]: the independent check disagrees with the solver "
                  "(please report this with the scenario):")
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(EXIT_INTERNAL) from None
    except OptimizerError as exc:
        err.print("[bold red]error[/]:")
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as exc:  # the CLI edge: nothing escapes as a traceback
        if os.environ.get("ELDERCARE_DEBUG"):
            traceback.print_exc()
        err.print(f"[bold red]internal error[/]: {type(exc).__name__}: {exc} "
                  "(set ELDERCARE_DEBUG=1 for the traceback)", highlight=False)
        raise typer.Exit(EXIT_INTERNAL) from None
    raise typer.Exit(code)
