"""Delegated identity: who an identity provider's token says the caller is."""

from fastapi import APIRouter

from ..exceptions import error_responses
from ..oidc import ProviderClaims, realm_roles
from ..schemas import ProviderIdentity

router = APIRouter(prefix="/oidc", tags=["oidc"])


@router.get("/me", responses=error_responses(401))
def provider_identity(claims: ProviderClaims) -> ProviderIdentity:
    """The subject, email and realm roles of a valid provider token (RS256, checked against the JWKS)."""
    email = claims.get("email")
    return ProviderIdentity(
        subject=str(claims["sub"]), email=email if isinstance(email, str) else None, roles=realm_roles(claims)
    )
