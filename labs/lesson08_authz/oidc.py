"""Delegated identity: tokens issued by an OpenID Connect provider (Keycloak, Auth0, Entra ID...).

The provider signs its tokens with a private key (RS256) and publishes the public keys as a JWKS
document. The app checks the signature with the key the token's ``kid`` names, and checks the
issuer, the audience and the expiry. It never sees a password and never holds the private key.
Here the JWKS comes from the settings; a real app downloads it from the provider at start-up.
"""

import json
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .config import Settings
from .exceptions import BEARER

provider_bearer = HTTPBearer(scheme_name="ProviderToken", description="An access token of the identity provider")


def load_provider_keys(settings: Settings) -> jwt.PyJWKSet | None:
    """The provider's public keys, from the JWKS in the settings; None when none is configured."""
    if not settings.oidc_jwks:
        return None
    return jwt.PyJWKSet.from_dict(json.loads(settings.oidc_jwks))


def read_provider_token(keys: jwt.PyJWKSet | None, settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a provider token with a valid RS256 signature, issuer, audience and expiry; 401 otherwise."""
    refused = HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid identity provider token", headers=BEARER)
    if keys is None:
        raise refused
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = next(key for key in keys.keys if key.key_id == kid)
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],  # pinned: the provider signs with RS256, and a token cannot choose otherwise
            audience=settings.oidc_audience,
            issuer=settings.oidc_issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except (jwt.InvalidTokenError, StopIteration):
        raise refused from None
    return claims


def get_provider_claims(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials, Depends(provider_bearer)]
) -> dict[str, Any]:
    return read_provider_token(request.app.state.provider_keys, request.app.state.settings, credentials.credentials)


ProviderClaims = Annotated[dict[str, Any], Depends(get_provider_claims)]


def realm_roles(claims: dict[str, Any]) -> list[str]:
    """Keycloak lists a user's realm roles under ``realm_access.roles``."""
    access = claims.get("realm_access")
    roles = access.get("roles") if isinstance(access, dict) else None
    return [role for role in roles if isinstance(role, str)] if isinstance(roles, list) else []
