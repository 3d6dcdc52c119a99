"""MIP solvers by name, and process isolation for backends whose native libraries clash.

highspy 1.15 and ortools 9.15 each carry their own HiGHS; the second to load in a process
fails with an undefined symbol. So a backend whose `native_family` clashes with a library
already loaded here runs in a spawned worker process (one per family, kept for reuse), and
one CLI invocation or one test session can use both.
"""

from __future__ import annotations

import atexit
import importlib
import multiprocessing
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any, TypeVar

from optimizer.errors import BackendError
from optimizer.model.milp import Milp
from optimizer.solvers.base import Backend, SolveOptions, SolveResult

# Family -> modules whose presence in sys.modules means that family cannot load here.
_CLASHES = {"highspy": ("ortools",), "ortools": ("highspy",)}
_POOLS: dict[str, ProcessPoolExecutor] = {}
T = TypeVar("T")


def backend_names() -> list[str]:
    """Names accepted by `get_backend` (PuLP solvers as ``pulp:<name>``)."""
    return ["highs", "cpsat", "pulp:CBC", "pulp:<any PuLP solver>"]


def get_backend(name: str) -> Backend:
    """The solver called `name`: ``highs``, ``cpsat``, ``pulp:CBC`` or ``pulp:<solver>`` (imported
    here, on demand: highspy and OR-Tools cannot both load in one process)."""
    if name == "highs":
        from optimizer.solvers.highs import HighsBackend

        return HighsBackend()
    if name == "cpsat":
        from optimizer.solvers.cpsat import CpSatBackend

        return CpSatBackend()
    if name.startswith("pulp"):
        from optimizer.solvers.pulp import PulpBackend

        return PulpBackend(name.partition(":")[2] or "CBC")
    raise BackendError(f"unknown backend '{name}'; use one of: {', '.join(backend_names())}",
                       "solver.backend")


def run_backend(name: str, model: Milp, options: SolveOptions) -> SolveResult:
    """Solve with backend `name`, in a worker process if its library clashes with a loaded one."""
    backend = get_backend(name)
    if not _clashes(backend.native_family):
        if not backend.is_available():
            raise BackendError(f"backend '{name}' is not installed here", "solver.backend")
        return backend.solve(model, options)
    # The progress callback stays here: a closure does not pickle, and the worker could not call it.
    result = in_family_process(backend.native_family, _solve_in_worker, name, model,
                               replace(options, on_incumbent=None))
    note = f"ran in a separate process ({backend.native_family} clashes with a library loaded here)"
    return replace(result, notes=(*result.notes, note))


def check_loads(name: str) -> None:
    """Raise unless backend `name` can run here: its library imports (in the worker process of its
    family when it clashes with a library loaded here) and, for PuLP, PuLP has the solver available.

    Raises
    ------
    BackendError
        At ``solver.backend``, saying what is missing.
    """
    backend = get_backend(name)
    problem = in_family_process(backend.native_family, _load_problem, name)
    if problem is not None:
        raise BackendError(problem, "solver.backend")


_LIBRARIES = {"highs": "highspy", "cpsat": "ortools.sat.python.cp_model", "pulp": "pulp"}


def _load_problem(name: str) -> str | None:
    """Why backend `name` does not load in this process, or None."""
    backend = get_backend(name)
    if not backend.is_available():
        return f"backend '{name}' is not installed here"
    try:
        library = importlib.import_module(_LIBRARIES[name.partition(":")[0]])
    except ImportError as exc:
        return f"backend '{name}' is installed but does not load: {exc}"
    solver_name = getattr(backend, "solver_name", None)
    if solver_name is not None:
        available = library.listSolvers(onlyAvailable=True)
        if solver_name not in available:
            return f"PuLP solver '{solver_name}' is not available here; available: {', '.join(available)}"
    return None


def in_family_process(family: str, function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` here, or in the worker process kept for `family` when its library
    clashes with one loaded here (the function and arguments must pickle)."""
    if not _clashes(family):
        return function(*args)
    try:
        return _pool(family).submit(function, *args).result()
    except BrokenProcessPool:
        _POOLS.pop(family, None)   # a fresh worker next time
        raise BackendError(f"the {family} worker process died (out of memory or a solver crash)",
                           "solver.backend") from None


def _clashes(family: str) -> bool:
    return any(module in sys.modules for module in _CLASHES.get(family, ()))


def _pool(family: str) -> ProcessPoolExecutor:
    if family not in _POOLS:
        context = multiprocessing.get_context("spawn")
        _POOLS[family] = ProcessPoolExecutor(max_workers=1, mp_context=context)
    return _POOLS[family]


def _solve_in_worker(name: str, model: Milp, options: SolveOptions) -> SolveResult:
    backend = get_backend(name)
    if not backend.is_available():
        raise BackendError(f"backend '{name}' is not installed here", "solver.backend")
    return backend.solve(model, options)


@atexit.register
def _shutdown() -> None:
    for pool in _POOLS.values():
        pool.shutdown(cancel_futures=True)
