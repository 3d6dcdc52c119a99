"""Command-line solver options obey the rules of the scenario's ``solver`` fields.

``--time-limit -1``, ``--gap -5`` or ``--threads 0`` are refused before any file is read, by
the same pydantic model (`optimizer.scenario.fields.SolverSpec`) that checks a scenario, and
each problem names the option; a ``--backend`` must exist and load here.
"""

from __future__ import annotations

from typing import Any

from optimizer.errors import BackendError, Problem
from optimizer.scenario.fields import SolverSpec
from optimizer.scenario.format import solver_with
from optimizer.search.backends import check_backend

#: ``SolverSpec`` field -> the command-line option that sets it.
SOLVER_OPTIONS = {"backend": "--backend", "time_limit_s": "--time-limit", "mip_gap": "--gap", "threads": "--threads"}


def check_solver_options(*, backends: list[str] | None = None, **given: Any) -> None:
    """Check solver options (``SolverSpec`` field names; None = not given) and backend names.

    Raises
    ------
    ScenarioError
        Every bad value, located at its option (``--time-limit``).
    BackendError
        At ``--backend`` (or ``--backends``), for a backend that does not exist or load here.
    """
    solver_with(SolverSpec(), given, names=SOLVER_OPTIONS)
    option = "--backends" if backends is not None else "--backend"
    for name in backends if backends is not None else [given.get("backend")]:
        if name is None:
            continue
        try:
            check_backend(name)
        except BackendError as exc:
            raise BackendError([Problem(option, p.message) for p in exc.problems]) from None
