"""A solve worker: claims queued jobs from the store and runs each in a forked child process.

Solves are CPU-bound, so they never run in the server's event loop: ``eldercare serve`` starts
`Settings.workers` of these processes (``python -m api.worker``; more can run beside it on the
same machine). A worker imports the engine once, then for each job it claims:

- forks a child that runs the job (`api.execute`) and reports progress through a pipe;
- renews the job's heartbeat every `Settings.heartbeat_s` while the child runs;
- kills the child when the job is cancelled, exceeds `Settings.job_timeout_s`, or the worker
  itself is stopped (then the job goes back to the queue);
- records the outcome, guarded by the attempt number that claimed the job.

Killed outright (SIGKILL, a crash of the machine), a worker leaves its job ``running`` with a
silent heartbeat; any worker re-queues it after `Settings.stale_after_s`, so it runs again.
The worker and its children die with their parent (``PR_SET_PDEATHSIG`` on Linux).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib
import logging
import multiprocessing
import os
import signal
import socket
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Literal

from api import store
from api.retention import tree_bytes
from api.settings import Settings
from api.store import JobRecord

log = logging.getLogger("eldercare.api.worker")
_FORK = multiprocessing.get_context("fork")
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def preload_engine() -> None:
    """Import the engine once, so that each forked job starts at once (and warm GDAL's driver list)."""
    for module in _PRELOAD:
        importlib.import_module(module)
    import pyogrio

    pyogrio.list_drivers()


_PRELOAD = ("highspy", "matplotlib.backends.backend_agg", "matplotlib.figure", "pyogrio", "optimizer.plan",
            "optimizer.report.document", "optimizer.check.explain", "optimizer.export.charts", "optimizer.export.gpkg",
            "optimizer.export.webmap", "optimizer.sweep.run")


@dataclass
class Worker:
    """One worker process's state."""

    settings: Settings
    conn: sqlite3.Connection
    name: str
    parent_pid: int | None = None
    stopping: bool = False
    last_beat: float = field(default=0.0)

    def parent_gone(self) -> bool:
        """True when the server that started this worker is no longer its parent."""
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def run(self) -> None:
        """Claim and run jobs until stopped."""
        last_sweep = 0.0
        while not self.stopping and not self.parent_gone():
            now = time.time()
            if now - last_sweep >= self.settings.heartbeat_s:   # a write transaction: not on every poll
                store.requeue_stale(self.conn, now=now, stale_after_s=self.settings.stale_after_s,
                                    max_attempts=self.settings.max_attempts)
                last_sweep = now
            job = store.claim_job(self.conn, worker=self.name, now=now)
            if job is None:
                time.sleep(self.settings.poll_s)
                continue
            log.info("worker %s runs job %s (%s, attempt %d)", self.name, job.id, job.kind, job.attempts)
            self.supervise(job)

    def supervise(self, job: JobRecord) -> None:
        """Run `job` in a child process to its end, cancellation, timeout or our own stop."""
        receiver, sender = _FORK.Pipe(duplex=False)
        # Not daemonic: a job may start solver processes of its own (CP-SAT beside HiGHS).
        child = _FORK.Process(target=_child_main, args=(job, self.settings, sender), daemon=False)
        child.start()
        sender.close()
        deadline = time.monotonic() + self.settings.job_timeout_s
        outcome: tuple[str, dict[str, Any]] | None = None
        progress: dict[str, Any] | None = None
        while True:
            message = _receive(receiver, self.settings.heartbeat_s)
            if message == "eof":
                break
            if message is not None and message[0] == "progress":
                progress = message[1] | {"elapsed_s": round(time.time() - (job.started_at or time.time()), 1)}
            elif message is not None:
                outcome = (message[0], message[1])
            verdict = self.beat(job, progress)
            progress = None
            if verdict != "ok" or time.monotonic() > deadline:
                self.stop_child(child, job, verdict if verdict != "ok" else "timeout")
                return
        child.join()
        self.record(job, outcome, child.exitcode)

    def beat(self, job: JobRecord, progress: dict[str, Any] | None) -> str:
        """Heartbeat (at most every `heartbeat_s` unless there is progress); ``stop`` when we must quit."""
        if self.stopping or self.parent_gone():
            return "stop"
        now = time.time()
        if progress is None and now - self.last_beat < self.settings.heartbeat_s:
            return "ok"
        self.last_beat = now
        return store.heartbeat(self.conn, job_id=job.id, attempt=job.attempts, now=now, progress=progress)

    def stop_child(self, child: Any, job: JobRecord, reason: str) -> None:
        """Kill the child and record why: cancelled, timed out, lost, or handed back to the queue."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)   # the job's own group: any process its solver started too
        child.kill()
        child.join()
        now, attempt = time.time(), job.attempts
        size = tree_bytes(self.settings.job_dir(job.id))
        if reason == "cancel":
            store.finish_job(self.conn, job_id=job.id, attempt=attempt, status="cancelled", now=now,
                             stored_bytes=size)
        elif reason == "timeout":
            message = (f"the job ran longer than the server allows ({self.settings.job_timeout_s:g} s, "
                       "ELDERCARE_JOB_TIMEOUT_S); lower solver.time_limit_s or the sweep's levels")
            store.finish_job(self.conn, job_id=job.id, attempt=attempt, status="failed", now=now,
                             error={"kind": "Timeout", "problems": [{"location": "job", "message": message}]},
                             stored_bytes=size)
        elif reason == "stop":
            store.release_job(self.conn, job_id=job.id, attempt=attempt)
        log.info("worker %s stopped job %s: %s", self.name, job.id, reason)

    def record(self, job: JobRecord, outcome: tuple[str, dict[str, Any]] | None, exitcode: int | None) -> None:
        """Store the child's outcome; a child that died without one failed the job."""
        if outcome is None:
            log.error("job %s: its process died (exit code %s) without an outcome", job.id, exitcode)
            outcome = ("failed", {"kind": "Crash", "problems": [{"location": "job", "message": (
                f"the solve process died (exit code {exitcode}): out of memory, or a solver crash")}]})
        status, payload = outcome
        result, error = (payload, None) if status == "done" else (None, payload)
        stored = store.finish_job(self.conn, job_id=job.id, attempt=job.attempts, status=status, now=time.time(),
                                  result=result, error=error, stored_bytes=tree_bytes(self.settings.job_dir(job.id)))
        log.info("job %s %s%s", job.id, status, "" if stored else " (but it was re-queued meanwhile: dropped)")


def _receive(receiver: Connection, timeout_s: float) -> tuple[str, dict[str, Any]] | Literal["eof"] | None:
    """The child's next message, None when there is none yet, ``"eof"`` when the child has gone."""
    try:
        if not receiver.poll(timeout_s):
            return None
        kind, payload = receiver.recv()
    except (EOFError, OSError):
        return "eof"
    return str(kind), dict(payload)


def _child_main(job: JobRecord, settings: Settings, sender: Connection) -> None:
    """The forked child: run the job, send progress and the outcome, exit."""
    die_with_parent()
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:   # the worker died before prctl took effect
        os._exit(1)
    os.setpgid(0, 0)   # a process group of its own, so that stopping the job stops what it started
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C stops the worker, which stops the job
    from api.execute import job_outcome

    def send(kind: str, payload: dict[str, Any]) -> None:
        sender.send((kind, payload))

    status, payload = job_outcome(job, settings, send)
    sender.send((status, payload))
    sender.close()


def serve_worker(settings: Settings, *, parent_pid: int | None = None) -> None:
    """Run one worker until SIGTERM/SIGINT (its running job then goes back to the queue)."""
    if parent_pid is not None:
        die_with_parent()
    os.environ.setdefault("OGR_SQLITE_SYNCHRONOUS", "OFF")   # results are synced once when written whole
    preload_engine()
    conn = store.connect(settings.db_path)
    store.init_db(conn)
    worker = Worker(settings, conn, f"{socket.gethostname()}:{os.getpid()}", parent_pid)

    def stop(signum: int, frame: Any) -> None:
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker %s ready", worker.name)
    worker.run()
    conn.close()


def main(argv: list[str] | None = None) -> None:
    """``python -m api.worker [--settings JSON] [--parent-pid PID]``: settings as JSON or ELDERCARE_* variables."""
    parser = argparse.ArgumentParser(prog="python -m api.worker", description=main.__doc__)
    parser.add_argument("--settings", help="Settings as JSON (default: ELDERCARE_* environment variables).")
    parser.add_argument("--parent-pid", type=int, default=None, help="Exit when this process is gone.")
    args = parser.parse_args(argv)
    from api.logs import configure_logging
    from api.settings import prepare_data_dir

    configure_logging()
    settings = Settings.model_validate_json(args.settings) if args.settings else Settings()
    serve_worker(prepare_data_dir(settings), parent_pid=args.parent_pid)


if __name__ == "__main__":
    main()
