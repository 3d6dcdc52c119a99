"""Every backend a scenario or the command line can name: the MIP solvers of `optimizer.solvers`
and the search strategies of this package (`lagrangian`), behind one lookup.

Code that needs a kind of backend asks for a capability (`optimizer.solvers.base`), never a
name; names are for people, in `solver.backend` and `--backend`.
"""

from __future__ import annotations

from optimizer.errors import BackendError
from optimizer.model.milp import Milp
from optimizer.search.lagrangian import LagrangianBackend
from optimizer.solvers import registry
from optimizer.solvers.base import Backend, SolveOptions, SolveResult

# Strategies plan in this process (numpy, scipy and HiGHS sub-MIPs through the registry).
STRATEGIES: dict[str, type[Backend]] = {"lagrangian": LagrangianBackend}


def backend_names() -> list[str]:
    """Names `get_backend` accepts (PuLP solvers as ``pulp:<name>``)."""
    solvers = registry.backend_names()
    return [*solvers[:2], *STRATEGIES, *solvers[2:]]


def get_backend(name: str) -> Backend:
    """The backend called `name`; a `BackendError` naming `solver.backend` for an unknown name."""
    if name in STRATEGIES:
        return STRATEGIES[name]()
    try:
        return registry.get_backend(name)
    except BackendError:
        raise BackendError(f"unknown backend '{name}'; use one of: {', '.join(backend_names())}",
                           "solver.backend") from None


def capabilities(name: str) -> frozenset[str]:
    """What the backend called `name` can do."""
    return get_backend(name).capabilities


def run_backend(name: str, model: Milp, options: SolveOptions) -> SolveResult:
    """Solve `model` with the backend called `name` (a solver in its own process where its native
    library clashes with one loaded here; a strategy in this process)."""
    if name in STRATEGIES:
        return STRATEGIES[name]().solve(model, options)
    return registry.run_backend(name, model, options)


def handover_strategy() -> Backend:
    """The strategy that plans a model a branch-and-bound solver cannot set up in its time."""
    return LagrangianBackend()
