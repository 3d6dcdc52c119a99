"""One router per resource, assembled here under ``/v1``: every one needs an API key but health."""

from fastapi import APIRouter, Depends

from api.deps import get_caller
from api.routes import files, health, jobs, presets, regions, scenarios, sweeps
from api.routes.responses import errors

api_router = APIRouter(prefix="/v1")
for module in (scenarios, jobs, sweeps, files, presets, regions):
    api_router.include_router(module.router, dependencies=[Depends(get_caller)], responses=errors(401))
api_router.include_router(health.router)

__all__ = ["api_router"]
