"""Accounts and sign-in sessions: functions that take the request's session first.

They add, change and flush, but never commit: the session dependency commits when the route
returns. Redis state (refresh families, the blocklist, login failures) is written at once.
"""

import hashlib

from redis import Redis
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from . import families, ratelimit, revocation
from .config import Settings
from .email_tokens import make_email_token, read_email_token
from .exceptions import Conflict, InvalidLink, NotAuthenticated, UnknownScope
from .mail import Outbox
from .models import User
from .passwords import hash_password, verify_password
from .schemas import TokenPair, UserCreate
from .tokens import SCOPES, Claims, create_token, decode_token, new_token_id

WRONG_CREDENTIALS = "Incorrect email or password"
SESSION_ENDED = "This session has ended; sign in again"


# --- accounts -----------------------------------------------------------------------------------


def user_by_email(session: Session, email: str) -> User | None:
    if "\x00" in email:  # PostgreSQL refuses NUL in text: no account has one
        return None
    return session.exec(select(User).where(User.email == email.lower())).first()


def register(session: Session, outbox: Outbox, settings: Settings, data: UserCreate) -> User:
    """A new, unverified user; a link to verify the address goes to the outbox."""
    email = data.email.lower()
    if user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists")
    user = User(email=email, full_name=data.full_name, hashed_password=hash_password(settings, data.password))
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # registered by another request meanwhile
        raise Conflict("An account with this email already exists") from None
    send_verification(outbox, settings, user)
    return user


def authenticate(session: Session, settings: Settings, email: str, password: str) -> User | None:
    """The user with this email and password, or None. Unknown addresses cost the same hashing work."""
    user = user_by_email(session, email)
    if not verify_password(settings, password, user.hashed_password if user else None):
        return None
    return user


# --- sign-in sessions: tokens -------------------------------------------------------------------


def granted_scopes(requested: list[str]) -> list[str]:
    """The scopes a login asked for, all known ones if it asked for none."""
    for scope in requested:
        if scope not in SCOPES:
            raise UnknownScope(scope)
    return sorted(set(requested)) if requested else list(SCOPES)


def token_pair(settings: Settings, user_id: int, scopes: list[str], family: str, refresh_jti: str) -> TokenPair:
    return TokenPair(
        access_token=create_token(settings, user_id=user_id, token_type="access", scopes=scopes),
        refresh_token=create_token(
            settings, user_id=user_id, token_type="refresh", scopes=scopes, jti=refresh_jti, family=family
        ),
        expires_in=settings.access_token_seconds,
    )


def login(
    session: Session, redis: Redis, settings: Settings, email: str, password: str, scopes: list[str]
) -> TokenPair:
    """Check the password, then start a new refresh family: one per login, so per device."""
    ratelimit.check_login_allowed(redis, settings, email)
    user = authenticate(session, settings, email, password)
    if user is None or user.id is None:
        ratelimit.count_failed_login(redis, settings, email)
        raise NotAuthenticated(WRONG_CREDENTIALS)
    granted = granted_scopes(scopes)
    family, refresh_jti = new_token_id(), new_token_id()
    families.start_family(redis, settings, family, refresh_jti)
    return token_pair(settings, user.id, granted, family, refresh_jti)


def refresh(session: Session, redis: Redis, settings: Settings, refresh_token: str) -> TokenPair:
    """The next token pair of the refresh token's family; NotAuthenticated if that token is not the valid one."""
    claims = decode_token(settings, refresh_token, "refresh")
    assert claims.family is not None  # decode_token refuses a refresh token without one
    next_jti = new_token_id()
    if not families.rotate(redis, settings, claims.family, claims.jti, next_jti):
        raise NotAuthenticated(SESSION_ENDED)
    if session.get(User, claims.user_id) is None:  # deleted since
        families.end_family(redis, settings, claims.family)
        raise NotAuthenticated(SESSION_ENDED)
    return token_pair(settings, claims.user_id, claims.scopes, claims.family, next_jti)


def logout(redis: Redis, settings: Settings, access: Claims, refresh_token: str) -> None:
    """Revoke the access token at once, and end the refresh token's family if it is the same user's."""
    revocation.revoke(redis, settings, access.jti, access.exp)
    try:
        refresh_claims = decode_token(settings, refresh_token, "refresh")
    except NotAuthenticated:
        return  # expired or broken: it refreshes nothing anyway
    if refresh_claims.sub == access.sub and refresh_claims.family is not None:
        families.end_family(redis, settings, refresh_claims.family)


# --- links by mail --------------------------------------------------------------------------------


def password_fingerprint(user: User) -> str:
    """Changes whenever the password does: a reset token that carries it is spent once the password changed."""
    return hashlib.sha256(user.hashed_password.encode()).hexdigest()[:16]


def send_verification(outbox: Outbox, settings: Settings, user: User) -> None:
    token = make_email_token(settings, "verify-email", {"sub": user.id, "email": user.email})
    link = f"{settings.frontend_url}/verify-email?token={token}"
    body = f"Hello {user.full_name},\n\nPlease confirm your address for Bookly:\n{link}\n"
    outbox.send(user.email, "Confirm your email address", body)


def verify_email(session: Session, settings: Settings, token: str) -> User:
    """Mark the user of a verification link as verified."""
    payload = read_email_token(settings, "verify-email", token)
    user = session.get(User, payload.get("sub"))
    if user is None or user.email != payload.get("email"):
        raise InvalidLink()
    user.is_verified = True
    session.flush()
    return user


def request_password_reset(session: Session, outbox: Outbox, settings: Settings, email: str) -> None:
    """Mail a reset link if the address has an account. The caller answers the same either way."""
    user = user_by_email(session, email)
    if user is None:
        return
    token = make_email_token(settings, "reset-password", {"sub": user.id, "pwd": password_fingerprint(user)})
    link = f"{settings.frontend_url}/reset-password?token={token}"
    body = f"Hello {user.full_name},\n\nTo choose a new Bookly password, open:\n{link}\n\nNot you? Ignore this.\n"
    outbox.send(user.email, "Reset your password", body)


def reset_password(session: Session, settings: Settings, token: str, new_password: str) -> None:
    """Set a new password with a reset link: InvalidLink if it is forged, expired, or already used."""
    payload = read_email_token(settings, "reset-password", token)
    user = session.get(User, payload.get("sub"))
    if user is None:
        raise InvalidLink()
    # BEGIN SOLUTION 8.4: A reset link works once: refuse it if the password has changed since it was sent
    if payload.get("pwd") != password_fingerprint(user):
        raise InvalidLink()
    # END SOLUTION
    user.hashed_password = hash_password(settings, new_password)
    session.flush()
