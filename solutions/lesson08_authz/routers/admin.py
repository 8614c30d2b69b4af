"""Admin routes: what the blocklist holds."""

from typing import Annotated

from fastapi import APIRouter, Path

from .. import revocation
from ..dependencies import Admin, RedisDep, SettingsDep
from ..exceptions import NotFound, error_responses
from ..schemas import RevocationRead

router = APIRouter(prefix="/admin", tags=["admin"])
TokenId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The `jti` of a token")]


@router.get("/revocations/{jti}", responses=error_responses(401, 403, 404))
def read_revocation(jti: TokenId, admin: Admin, redis: RedisDep, settings: SettingsDep) -> RevocationRead:
    """Whether the token `jti` is on the blocklist, and for how many more seconds. Admins only."""
    seconds = revocation.expires_in(redis, settings, jti)
    if seconds is None:
        raise NotFound(f"Token {jti} is not on the blocklist")
    return RevocationRead(jti=jti, expires_in=seconds)
