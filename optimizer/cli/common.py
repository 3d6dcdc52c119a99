"""What every `eldercare` command shares: the consoles, the exit codes, and the guard that turns
engine errors into one-line messages and exit codes (the CLI is one of the two edges where
errors become user output; the HTTP API is the other)."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable

import typer
from rich.console import Console
from rich.markup import escape

from optimizer.errors import CheckFailedError, OptimizerError, OutputFolderError, WriteError
from optimizer.report.atomic import NO_ROOM

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
    except WriteError as exc:   # disk full or unwritable mid-run: the message names the file, old files intact
        _one_line(exc.problems[0].message)
        raise typer.Exit(EXIT_INTERNAL) from None
    except OutputFolderError as exc:   # --out unusable, found before the run
        _one_line(str(exc.problems[0]))
        raise typer.Exit(EXIT_INPUT) from None
    except OptimizerError as exc:
        err.print("[bold red]error[/]:")
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as exc:  # the CLI edge: nothing escapes as a traceback
        _internal(exc)
        raise typer.Exit(EXIT_INTERNAL) from None
    raise typer.Exit(code)


def _internal(exc: Exception) -> None:
    """An unexpected error: a full disk outside the output writers in one line, anything else named."""
    if isinstance(exc, OSError) and exc.errno in NO_ROOM:
        where = f" writing {exc.filename}" if exc.filename else ""
        _one_line(f"no space left on the disk{where}: free space or choose another output folder (--out)")
        return
    if os.environ.get("ELDERCARE_DEBUG"):
        traceback.print_exc()
    err.print(f"[bold red]internal error[/]: {type(exc).__name__}: {exc} "
              "(set ELDERCARE_DEBUG=1 for the traceback)", highlight=False)


def _one_line(message: str) -> None:
    """``error: <message>`` on one line, however narrow the terminal."""
    err.print(f"[bold red]error[/]: {escape(message)}", soft_wrap=True, highlight=False)
