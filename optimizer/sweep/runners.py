"""Where sweep tasks run: in this process, in a local process pool, or on a Dask cluster.

Every runner receives the prepared scenario (region, reach, model) once per worker, never
per level: the process pool through its initializer, Dask through ``scatter(...,
broadcast=True)``. Tasks (`optimizer.sweep.levels.LevelTask`) carry only a budget and a
start vector. A runner has a ``capacity`` (levels it runs at once), ``submit`` (a future),
``wait_any`` (the futures that are done, at least one) and ``close``.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Protocol

from optimizer.errors import BackendError
from optimizer.plan import Prepared
from optimizer.sweep.levels import LevelTask, run_task

_INSTALLED: list[Prepared] = []   # the prepared scenario of a pool worker process


class Runner(Protocol):
    """What the sweep driver needs from a place to run tasks."""

    capacity: int

    def submit(self, task: LevelTask) -> Any:
        """Start `task`; return a future whose ``result()`` is its outcome."""

    def wait_any(self, futures: list[Any]) -> list[Any]:
        """Block until at least one of `futures` is done; return the done ones."""

    def close(self) -> None:
        """Release workers and connections this runner opened."""


class InlineRunner:
    """Runs each task at once, in this process (``workers=1``)."""

    def __init__(self, prep: Prepared) -> None:
        self.prep = prep
        self.capacity = 1

    def submit(self, task: LevelTask) -> Future[Any]:
        """Run `task` now; the returned future is already done."""
        future: Future[Any] = Future()
        future.set_result(run_task(self.prep, task))
        return future

    def wait_any(self, futures: list[Any]) -> list[Any]:
        """Every future is done when submitted."""
        return list(futures)

    def close(self) -> None:
        """Nothing to release."""


class ProcessRunner:
    """A pool of spawned worker processes on this machine, each holding the prepared scenario."""

    def __init__(self, prep: Prepared, workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                        initializer=_install, initargs=(prep,))
        self.capacity = workers

    def submit(self, task: LevelTask) -> Future[Any]:
        """Queue `task` on the pool."""
        return self.pool.submit(_run_installed, task)

    def wait_any(self, futures: list[Any]) -> list[Any]:
        """The futures done after the first one finishes."""
        return list(wait(futures, return_when=FIRST_COMPLETED).done)

    def close(self) -> None:
        """Stop the worker processes."""
        self.pool.shutdown(cancel_futures=True)


def _install(prep: Prepared) -> None:
    """Pool initializer: keep the prepared scenario; release nested pools before this worker exits.

    A solve may start a process pool inside a worker (the isolation pool of a clashing
    backend). At exit multiprocessing joins a worker's
    children before the interpreter shuts those pools down, so they would wait for each other
    forever; a finalizer shuts them down first.
    """
    _INSTALLED[:] = [prep]
    multiprocessing.util.Finalize(None, _release_nested_pools, exitpriority=100)


def _release_nested_pools() -> None:
    from concurrent.futures import process

    process._python_exit()   # what interpreter exit does for every live ProcessPoolExecutor


def _run_installed(task: LevelTask) -> Any:
    return run_task(_INSTALLED[0], task)


class DaskRunner:
    """Tasks on an existing Dask distributed cluster; the prepared scenario is scattered once."""

    def __init__(self, prep: Prepared, cluster: Any) -> None:
        distributed = _distributed()
        self.wait = distributed.wait
        self.owned = not isinstance(cluster, distributed.Client)
        try:
            self.client = distributed.Client(cluster, timeout="10s") if self.owned else cluster
        except (OSError, TimeoutError) as exc:
            raise BackendError(f"cannot reach the Dask scheduler at '{cluster}': {exc}", "--dask") from None
        self.prepared = self.client.scatter(prep, broadcast=True, hash=False)
        self.capacity = max(1, sum(self.client.nthreads().values()))

    def submit(self, task: LevelTask) -> Any:
        """Submit `task` with the scattered scenario (a reference, not a copy)."""
        return self.client.submit(run_task, self.prepared, task, pure=False)

    def wait_any(self, futures: list[Any]) -> list[Any]:
        """The futures done after the first one finishes."""
        return list(self.wait(futures, return_when="FIRST_COMPLETED").done)

    def close(self) -> None:
        """Release the scattered scenario; close the client if this runner opened it."""
        self.client.cancel([self.prepared])
        self.close_client()

    def close_client(self) -> None:
        """Close the client if this runner opened it."""
        if self.owned:
            self.client.close()


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise BackendError("Dask is not installed here: pip install \"dask[distributed]\"", "--dask") from None
    return distributed


@contextmanager
def open_runner(prep: Prepared, *, workers: int = 1, dask: Any = None) -> Iterator[Runner]:
    """The runner for `workers` local processes or a Dask cluster (address or `distributed.Client`).

    Local workers share this machine's cores, so each level gets ``threads // workers``
    solver threads (at least 1).
    """
    runner: Runner
    if dask is not None:
        runner = DaskRunner(prep, dask)
    elif workers > 1:
        solver = prep.scenario.solver
        threads = max(1, solver.threads // workers)
        scenario = prep.scenario.model_copy(update={"solver": solver.model_copy(update={"threads": threads})})
        runner = ProcessRunner(replace(prep, scenario=scenario), workers)
    else:
        runner = InlineRunner(prep)
    try:
        yield runner
    finally:
        runner.close()
