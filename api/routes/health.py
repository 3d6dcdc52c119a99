"""Health: the service answers, its job store opens, and how many workers run.

Open to everyone (no API key), so it says nothing about anyone's jobs.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from api.deps import ConnDep, PoolDep, SettingsDep
from api.schemas import Health, WorkersOut

router = APIRouter(prefix="/health", tags=["health"])


def _version() -> str:
    try:
        return version("eldercare-optimizer")
    except PackageNotFoundError:
        return "unknown"


@router.get("", response_model=Health, summary="Is the service up")
def health(conn: ConnDep, pool: PoolDep, settings: SettingsDep) -> Health:
    """The service answers and its job store opens; the solve workers alive. No API key needed."""
    conn.execute("SELECT 1 FROM jobs LIMIT 1").fetchall()   # the store opens and reads
    return Health(status="ok", version=_version(),
                  workers=WorkersOut(configured=settings.workers, alive=pool.alive),
                  max_time_limit_s=settings.max_time_limit_s)
