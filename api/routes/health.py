"""Health: the service answers, its job store opens, and how many workers run."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from api import store
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
    """Jobs by status (from the job store) and the solve workers alive."""
    return Health(status="ok", version=_version(), jobs=store.count_by_status(conn),
                  workers=WorkersOut(configured=settings.workers, alive=pool.alive),
                  max_time_limit_s=settings.max_time_limit_s)
