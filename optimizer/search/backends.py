"""Every backend a scenario or the command line can name, behind one lookup.

The MIP solvers of `optimizer.solvers` and the search strategies of this package
(`lagrangian`). Code that needs a kind of backend asks for a capability
(`optimizer.solvers.base`), never a name; names are for people, in `solver.backend` and
`--backend`.
"""

from __future__ import annotations

from optimizer.errors import BackendError
from optimizer.model.milp import Milp
from optimizer.search.lagrangian import LagrangianBackend
from optimizer.solvers import registry
from optimizer.solvers.base import CONTINUOUS, MIP, Backend, SolveOptions, SolveResult

# Strategies plan in this process (numpy, scipy and HiGHS sub-MIPs through the registry).
STRATEGIES: dict[str, type[Backend]] = {"lagrangian": LagrangianBackend}


def backend_names() -> list[str]:
    """Names `get_backend` accepts (PuLP solvers as ``pulp:<name>``)."""
    solvers = registry.backend_names()
    return [*solvers[:2], *STRATEGIES, *solvers[2:]]


def get_backend(name: str) -> Backend:
    """Return the backend called `name`.

    Raises
    ------
    BackendError
        For an unknown name, naming `solver.backend` and the names that exist.
    """
    if name in STRATEGIES:
        return STRATEGIES[name]()
    try:
        return registry.get_backend(name)
    except BackendError:
        raise BackendError(f"unknown backend '{name}'; use one of: {', '.join(backend_names())}",
                           "solver.backend") from None


def check_backend(name: str) -> None:
    """Raise unless the backend called `name` exists and loads here (before any data is read).

    Raises
    ------
    BackendError
        At ``solver.backend``: an unknown name (listing the names that exist), a library that is
        not installed or does not load, or a PuLP solver PuLP does not have here.
    """
    get_backend(name)
    if name not in STRATEGIES:
        registry.check_loads(name)


def capabilities(name: str) -> frozenset[str]:
    """Return what the backend called `name` can do (`optimizer.solvers.base` capabilities)."""
    return get_backend(name).capabilities


def run_backend(name: str, model: Milp, options: SolveOptions) -> SolveResult:
    """Solve `model` with the backend called `name`.

    A solver runs in its own process where its native library clashes with one loaded here;
    a strategy runs in this process.
    """
    if name in STRATEGIES:
        return STRATEGIES[name]().solve(model, options)
    return registry.run_backend(name, model, options)


def handover_strategy() -> Backend:
    """Return the strategy that plans a model a branch-and-bound solver cannot set up in its time."""
    return LagrangianBackend()


def with_continuous(name: str) -> str:
    """Return `name` where that backend takes continuous variables, else a solver that does.

    The first solver that takes them and loads here (`name` when none does): for a model whose
    continuous columns cannot be declared integer without changing its optimum (an elastic
    shortfall over fractional weights).
    """
    if CONTINUOUS in capabilities(name):
        return name
    for other in registry.backend_names():
        if "<" in other or not {MIP, CONTINUOUS} <= registry.get_backend(other).capabilities:
            continue
        try:
            registry.check_loads(other)
        except BackendError:
            continue
        return other
    return name
