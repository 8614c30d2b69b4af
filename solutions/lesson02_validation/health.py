"""A health endpoint that also says which settings the app was created with."""

from fastapi import APIRouter

from .dependencies import SettingsDep
from .schemas import Health

router = APIRouter(tags=["system"])


@router.get("/health")
async def health(settings: SettingsDep) -> Health:
    return Health(app_name=settings.app_name, environment=settings.environment)
