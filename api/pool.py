"""The server's solve workers: started with the app, restarted when one dies, stopped with it."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from contextlib import suppress

from api.settings import Settings

log = logging.getLogger("eldercare.api")


class WorkerPool:
    """`Settings.workers` processes running ``python -m api.worker`` on this server's data directory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.processes: list[subprocess.Popen[bytes]] = []
        self._watch: asyncio.Task[None] | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "api.worker", "--settings", self.settings.model_dump_json(),
                   "--parent-pid", str(os.getpid())]
        return subprocess.Popen(command, stdin=subprocess.DEVNULL)

    def start(self) -> None:
        """Start the workers and a task that replaces any that dies."""
        self.processes = [self._spawn() for _ in range(self.settings.workers)]
        if self.processes:
            self._watch = asyncio.get_running_loop().create_task(self._replace_dead())

    @property
    def alive(self) -> int:
        """Workers running now."""
        return sum(process.poll() is None for process in self.processes)

    async def _replace_dead(self) -> None:
        while True:
            await asyncio.sleep(2.0)
            for k, process in enumerate(self.processes):
                if process.poll() is not None:
                    log.warning("worker %d exited with %s; starting another", process.pid, process.returncode)
                    self.processes[k] = self._spawn()

    async def stop(self, *, grace_s: float = 10.0) -> None:
        """SIGTERM every worker (each hands its running job back to the queue), SIGKILL after `grace_s`."""
        if self._watch is not None:
            self._watch.cancel()
            with suppress(asyncio.CancelledError):
                await self._watch
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                await asyncio.to_thread(process.wait, grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
