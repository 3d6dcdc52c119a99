"""One tree of errors, each naming where the problem is and what to do about it.

The engine raises these and never prints or exits; the CLI and the API turn them into a
message and an exit code or a 4xx response.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    Attributes
    ----------
    location : str
        A JSON path (``targets[2].min_share``), a feature (``demand feature 'C0012'``),
        or a target (``target 3``).
    message : str
        What is wrong and what to do.
    """

    location: str
    message: str

    def __str__(self) -> str:
        """Return ``"<location>: <message>"``."""
        return f"{self.location}: {self.message}"


class OptimizerError(Exception):
    """Base of every error the engine raises on purpose.

    Carries one or more `Problem` records; `str()` lists them all, one per line.
    """

    def __init__(self, problems: list[Problem] | Problem | str, location: str = "") -> None:
        if isinstance(problems, str):
            problems = Problem(location, problems)
        self.problems: list[Problem] = [problems] if isinstance(problems, Problem) else problems
        super().__init__("\n".join(str(p) for p in self.problems))


class ScenarioError(OptimizerError):
    """The scenario document is wrong (field, value, reference)."""


class GeodataError(OptimizerError):
    """A data file or a feature in it is wrong (missing file, geometry, attribute)."""


class TargetInfeasibleError(OptimizerError):
    """No plan can meet the targets as stated."""


class BackendError(OptimizerError):
    """A solver backend is missing, failed, or cannot represent the model exactly."""


class CheckFailedError(OptimizerError):
    """The independent checker disagrees with the solver: a bug, never shown as a plan."""


class ExportError(OptimizerError):
    """A plan cannot be exported: no plan, a changed scenario, an unknown format or CRS."""


class OutputFolderError(OptimizerError):
    """The output folder (``--out``) cannot take the run's files; raised before any solving.

    It is a file, cannot be written, or holds an input of the scenario that the run would overwrite.
    """


class WriteError(OptimizerError):
    """An output file could not be written; the earlier file of that name is intact.

    Attributes
    ----------
    path : str
        The file that was being written (also the problem's location).
    """

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message, path)
        self.path = path


class DiskFullError(WriteError):
    """No room for an output file: the disk or the quota is full, or the file-size limit is reached."""


def raise_if(problems: list[Problem], error: type[OptimizerError]) -> None:
    """Raise `error` with every collected problem, if there are any."""
    if problems:
        raise error(problems)
