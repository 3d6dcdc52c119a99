"""One router per resource, assembled here under ``/v1``."""

from fastapi import APIRouter

from api.routes import files, health, jobs, presets, scenarios, sweeps

api_router = APIRouter(prefix="/v1")
for module in (scenarios, jobs, sweeps, files, presets, health):
    api_router.include_router(module.router)

__all__ = ["api_router"]
