"""Graded checks for lesson 07: Bookly users, passwords, JWT access tokens, bearer and cookie transports.

Every check talks to the app over HTTP. Where a check must know how tokens are signed, it
gives the app its own secret (``BOOKLY_SECRET_KEY``) or RSA key pair (``BOOKLY_JWT_*``), then
reads the tokens the app issues, and forges the tokens an attacker would send. The stored
password hash is read from outside: the check gives the app an empty database of its own
(``BOOKLY_DATABASE_URL``) and reads its ``users`` table once the app has stopped. Cookies
are sent back only over https, so the cookie checks call ``https://testserver/...``.

Most checks give the app a cheap Argon2 (``BOOKLY_FAST_PASSWORD_HASH``), as test suites do, so
that hashing does not take their time; the check of the stored hash keeps the recommended one.
The work of a login is read from the log the app's password hasher writes (``BOOKLY_PASSWORD_LOG``)
into a directory the check reads while the app runs.
"""

import base64
import functools
import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import anyio.to_thread
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from httpx import AsyncClient
from pwdlib import PasswordHash
from sqlalchemy import text

from course.harness import SharedDirectory, outside_engine
from course.pytest_plugin import LabFactory
from course.resources import get_resources

from .expect import describe, expect_json, expect_status, isolated_settings

hermetic_settings = isolated_settings("BOOKLY_")

# The check's own secret: long enough for HS256 (32 bytes and more), and known to the check.
CHECK_SECRET = "check-secret-of-lesson-07-0123456789-abcdefghijklmnop"
PASSWORD = "correct horse battery staple"
HTTPS = "https://testserver"  # Secure cookies come back only over https
JTI = re.compile(r"[0-9a-f]{32}")
# The file, in the check's shared directory, where the app's password hasher logs its work.
PASSWORD_LOG = "passwords.log"
NEEDS_7_1 = "registering and logging in are exercise 7.1, which this check needs"


def bookly(lab: LabFactory, **env: str) -> AbstractAsyncContextManager[AsyncClient]:
    """The lab with the check's secret key, a cheap Argon2 (hashing is not what most checks are about), and ``env``."""
    return lab(env={"BOOKLY_SECRET_KEY": CHECK_SECRET, "BOOKLY_FAST_PASSWORD_HASH": "true", **env})


@pytest.fixture
async def client(lab: LabFactory) -> AsyncIterator[AsyncClient]:
    """A fresh app as `bookly` opens it (this module's own `client`)."""
    async with bookly(lab) as opened:
        yield opened


async def register(client: AsyncClient, email: str, full_name: str = "Check User", **extra: Any) -> dict[str, Any]:
    """Register a user with PASSWORD; the created user as JSON."""
    body = {"email": email, "full_name": full_name, "password": PASSWORD, **extra}
    response = await client.post("/auth/register", json=body)
    user = expect_json(response, 201, f"(a new user; {NEEDS_7_1})")
    assert isinstance(user, dict) and isinstance(user.get("id"), int), (
        f"{describe(response)}; expected the new user with its `id`"
    )
    return user


async def token_response(client: AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/auth/token", data={"username": email, "password": password})


async def log_in(client: AsyncClient, email: str, password: str = PASSWORD) -> str:
    """The access token of a password-flow login."""
    response = await token_response(client, email, password)
    body = expect_json(response, 200, f"(a token for the right email and password; {NEEDS_7_1})")
    token = body.get("access_token") if isinstance(body, dict) else None
    assert isinstance(token, str) and token, f"{describe(response)}; expected an `access_token` string"
    return token


async def register_and_log_in(client: AsyncClient, email: str) -> tuple[dict[str, Any], str]:
    return await register(client, email), await log_in(client, email)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parts_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a JWT, read without checking it (anyone can)."""
    pieces = token.split(".")
    assert len(pieces) == 3, f"expected a JWT, three base64url parts joined by dots; got {token!r}"
    try:
        return json.loads(unb64(pieces[0])), json.loads(unb64(pieces[1]))
    except ValueError:
        raise AssertionError(f"expected a JWT whose header and claims are base64url JSON; got {token!r}") from None


def hs256(header: Mapping[str, Any], claims: Mapping[str, Any], key: bytes) -> str:
    """A JWT signed with HMAC-SHA256 under ``key``, whatever the key is (PyJWT refuses to use a PEM key)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def claims_for(user_id: Any, seconds: int = 600, **changes: Any) -> dict[str, Any]:
    """Claims like the app's own, for ``user_id``; a change to None leaves that claim out."""
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + seconds, "jti": "c" * 32, **changes}
    return {name: value for name, value in claims.items() if value is not None}


def forged(claims: Mapping[str, Any], key: str = CHECK_SECRET) -> str:
    """A token signed with the check's secret, as only the app (or someone holding its secret) can sign."""
    return jwt.encode(dict(claims), key, algorithm="HS256")


def new_key_pair() -> tuple[str, str]:
    """A new RSA key pair, as PEM text: (private, public)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@functools.cache
def key_pair() -> tuple[str, str]:
    """The app's key pair in the RS256 checks."""
    return new_key_pair()


@functools.cache
def other_key_pair() -> tuple[str, str]:
    """An attacker's key pair: not the app's."""
    return new_key_pair()


def rs256_settings() -> dict[str, str]:
    private, public = key_pair()
    return {"BOOKLY_JWT_ALGORITHM": "RS256", "BOOKLY_JWT_PRIVATE_KEY": private, "BOOKLY_JWT_PUBLIC_KEY": public}


async def expect_refused(client: AsyncClient, token: str, what: str) -> None:
    """GET /users/me with this bearer token → 401, with `WWW-Authenticate: Bearer` and a JSON `detail`."""
    response = await client.get("/users/me", headers=bearer(token))
    hint = ""
    if response.status_code == 500:
        hint = " A 500 means an exception escaped get_current_user: turn every token problem into a 401."
    elif response.status_code == 200:
        hint = " The app accepted it as a valid token."
    assert response.status_code == 401, f"{describe(response)}; expected 401 for {what}.{hint}"
    expect_unauthorized(response, what)


def expect_unauthorized(response: httpx.Response, what: str) -> None:
    """401 with `WWW-Authenticate: Bearer` and a JSON `detail` string."""
    body = expect_json(response, 401, f"for {what}")
    assert isinstance(body, dict) and isinstance(body.get("detail"), str), (
        f'{describe(response)}; expected {{"detail": "..."}} for {what}'
    )
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.split(" ")[0].lower() == "bearer", (
        f"{describe(response)}; expected the header `WWW-Authenticate: Bearer` with the 401 for {what},"
        f" got {challenge!r}: it tells the client which kind of credentials to send"
    )


async def me(client: AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/users/me", headers=bearer(token))
    body = expect_json(response, 200, "(the user of a valid token)")
    assert isinstance(body, dict), f"{describe(response)}; expected the user as a JSON object"
    return body


def password_free(response: httpx.Response, user: Any) -> None:
    """A user as the API shows it: no field about the password, and neither the password nor a hash in it."""
    leaked = [key for key in user if "password" in key.lower()] if isinstance(user, dict) else []
    assert not leaked and PASSWORD not in response.text and "$argon2" not in response.text, (
        f"{describe(response)}; expected a user without its password or password hash"
    )


# --- 7.1: registration and login ---------------------------------------------------------------------


@pytest.mark.exercise("7.1", points=2)
async def test_registration_stores_an_argon2_hash_never_the_password(lab: LabFactory) -> None:
    """On an empty database of its own (given in BOOKLY_DATABASE_URL), POST /auth/register with
    {"email": "Ada.Lovelace@Bookly.Example", "full_name": "Ada Lovelace", "password": "correct horse battery
    staple"} → 201 with the user: its `id`, the email in lower case, the `full_name` and the `role` "user",
    and no password or hash. The `users` table then holds that one user with the email in lower case, the
    role "user", and in `hashed_password` an Argon2 hash of the password ("$argon2..."), never the password."""
    url = await anyio.to_thread.run_sync(get_resources().new_database, "lesson07-users")
    sent = {"email": "Ada.Lovelace@Bookly.Example", "full_name": "Ada Lovelace", "password": PASSWORD}
    async with lab(env={"BOOKLY_DATABASE_URL": url}) as client:
        response = await client.post("/auth/register", json=sent)
        hint = (
            ": on an empty database, a 409 means the new row broke a rule of the database, such as the foreign key"
            " to a role that is not there. The roles must be seeded at start-up."
            if response.status_code == 409
            else ""
        )
        user = expect_json(response, 201, f"(a new user on an empty database{hint})")
    expected = {"email": "ada.lovelace@bookly.example", "full_name": "Ada Lovelace", "role": "user"}
    assert isinstance(user, dict) and isinstance(user.get("id"), int) and user.items() >= expected.items(), (
        f"{describe(response)}; expected the user: an `id` and {expected!r}"
    )
    password_free(response, user)
    rows = await anyio.to_thread.run_sync(stored_users, url)
    assert len(rows) == 1 and rows[0][0] == expected["email"] and rows[0][1] == "user", (
        f"after one registration, the `users` table holds (email, role) {[row[:2] for row in rows]!r};"
        f" expected [({expected['email']!r}, 'user')]"
    )
    stored = rows[0][2]
    assert stored != PASSWORD and PASSWORD not in stored, (
        "`users.hashed_password` holds the password itself: store a hash of it, never the password"
    )
    assert stored.startswith("$argon2"), (
        f"`users.hashed_password` holds {stored[:40]!r}…; expected an Argon2 hash, as `PasswordHash.recommended()`"
        ' of pwdlib makes: "$argon2id$v=19$m=..."'
    )
    checker = PasswordHash.recommended()
    verified = await anyio.to_thread.run_sync(lambda: checker.verify(PASSWORD, stored))
    assert verified, f"`users.hashed_password` holds {stored[:40]!r}…, which is not a hash of the password sent"


def stored_users(url: str) -> list[tuple[str, str, str]]:
    """(email, role, hashed_password) of every row of `users`, read from outside the app."""
    engine = outside_engine(url)
    try:
        with engine.connect() as connection:
            query = text("SELECT email, role, hashed_password FROM users ORDER BY id")
            return [(str(email), str(role), str(hashed)) for email, role, hashed in connection.execute(query)]
    finally:
        engine.dispose()


@pytest.mark.exercise("7.1", points=1)
async def test_an_email_registers_once_whatever_its_case(client: AsyncClient) -> None:
    """POST /auth/register with "ben@bookly.example" → 201; again with "Ben@BOOKLY.example" → 409 with a
    `detail`, as emails compare without regard to case; "bea@bookly.example" → 201."""
    await register(client, "ben@bookly.example")
    again = {"email": "Ben@BOOKLY.example", "full_name": "Ben Again", "password": PASSWORD}
    response = await client.post("/auth/register", json=again)
    body = expect_json(response, 409, "(ben@bookly.example is registered already, in another case)")
    assert isinstance(body, dict) and isinstance(body.get("detail"), str), (
        f'{describe(response)}; expected {{"detail": "..."}}'
    )
    await register(client, "bea@bookly.example")


@pytest.mark.exercise("7.1", points=2)
async def test_the_password_flow_returns_a_bearer_token(client: AsyncClient) -> None:
    """After registering "cleo@bookly.example", POST /auth/token with the form fields `username`
    "CLEO@bookly.example" (any case) and `password` → 200 {"access_token": "<token>", "token_type": "bearer"}."""
    await register(client, "cleo@bookly.example")
    response = await token_response(client, "CLEO@bookly.example")
    body = expect_json(response, 200, "(the right password; the email in another case is the same email)")
    assert isinstance(body, dict) and isinstance(body.get("access_token"), str) and body["access_token"], (
        f"{describe(response)}; expected an `access_token` string"
    )
    assert str(body.get("token_type", "")).lower() == "bearer", f'{describe(response)}; expected "token_type": "bearer"'


@pytest.mark.exercise("7.1", points=1)
async def test_wrong_credentials_get_the_same_401_for_known_and_unknown_emails(client: AsyncClient) -> None:
    """POST /auth/token with a wrong password for a registered email, and with an email nobody registered → both
    401 with `WWW-Authenticate: Bearer` and the very same JSON `detail`, so the answer tells nothing about which
    emails exist; the right password still gets a token."""
    await register(client, "dan@bookly.example")
    wrong = await token_response(client, "dan@bookly.example", "not the password")
    unknown = await token_response(client, "nobody@bookly.example", "not the password")
    for response, what in ((wrong, "a wrong password"), (unknown, "an unknown email")):
        expect_unauthorized(response, what)
    assert wrong.json() == unknown.json(), (
        f"POST /auth/token → {wrong.json()!r} for a wrong password but {unknown.json()!r} for an unknown email;"
        " expected the same answer for both, or the difference tells which emails have accounts"
    )
    await log_in(client, "dan@bookly.example")


def work(shared: SharedDirectory) -> list[str]:
    """The operations the app's password hasher has logged so far: "hash" and "verify", one a line."""
    return shared.files().get(PASSWORD_LOG, b"").decode(errors="replace").split()


@pytest.mark.exercise("7.1", points=2)
async def test_every_failed_login_costs_one_password_verification(
    lab: LabFactory, shared_directory: SharedDirectory
) -> None:
    """With BOOKLY_PASSWORD_LOG naming a file, the app's PasswordHash writes a line to it for each hash ("hash")
    and each verification ("verify"). Every failed POST /auth/token then costs exactly one verification and no
    hash: with a wrong password for a registered email, and with an email nobody registered, which is verified
    against a dummy hash. Both failures do the same work, so the time a login takes tells nothing about which
    emails have accounts."""
    log = f"{shared_directory.path}/{PASSWORD_LOG}"
    async with bookly(lab, BOOKLY_PASSWORD_LOG=log) as client:
        await register(client, "eve@bookly.example")
        for email, what in (
            ("eve@bookly.example", "a wrong password for a registered email"),
            ("nobody@bookly.example", "an email nobody registered"),
            ("eve@bookly.example", "a wrong password, again"),
            ("nobody@bookly.example", "an unknown email, again"),
        ):
            before = len(work(shared_directory))
            response = await token_response(client, email, "not the password")
            expect_status(response, 401, f"({what})")
            done = work(shared_directory)[before:]
            assert done == ["verify"], (
                f"{describe(response)}: the password hasher logged {done!r} for {what}; expected exactly"
                f" ['verify']. {why_not_one_verification(done, email == 'nobody@bookly.example')}"
            )


def why_not_one_verification(done: list[str], unknown: bool) -> str:
    """What a log other than one verification says about the login."""
    if done and "hash" in done:
        return (
            "A hash made during a login doubles its work (a dummy hash made on the spot?): verify against DUMMY_HASH,"
            " made once."
        )
    if not done and unknown:
        return (
            "The unknown email skipped the verification, so it fails faster than a wrong password, and the time"
            " taken tells an attacker which emails have accounts: verify the password against DUMMY_HASH."
        )
    if not done:
        return "Verify passwords with the app's PasswordHash: the `password_hash` that the route passes to the service."
    return "Verify the password once, whatever the email."


# --- 7.2: access tokens ----------------------------------------------------------------------------


def verified_claims(token: str, key: str, algorithm: str) -> dict[str, Any]:
    """The claims of a token the check can verify: signed with ``key`` under ``algorithm``."""
    header, claims = parts_of(token)
    assert header.get("alg") == algorithm, (
        f'the access token\'s header is {header!r}; expected "alg": {algorithm!r}, the algorithm the settings name'
    )
    try:
        # sub and jti are judged below, with messages of their own.
        return jwt.decode(token, key, algorithms=[algorithm], options={"verify_sub": False, "verify_jti": False})
    except jwt.ExpiredSignatureError:
        raise AssertionError(f"the access token has expired already: its claims are {claims!r}") from None
    except jwt.InvalidTokenError as error:
        raise AssertionError(
            f"the access token's signature does not verify with the key of the settings ({error}); its claims:"
            f" {claims!r}"
        ) from None


def expect_claims(claims: dict[str, Any], user_id: int, lifetime: int) -> None:
    """sub, iat, exp and jti as the requirement says."""
    assert claims.get("sub") == str(user_id), (
        f"the access token's claims are {claims!r}; expected \"sub\": {str(user_id)!r}, the user's id as a string"
        " (JWT subjects are strings; PyJWT refuses a number)"
    )
    issued, expires = claims.get("iat"), claims.get("exp")
    assert isinstance(issued, int | float) and isinstance(expires, int | float), (
        f"the access token's claims are {claims!r}; expected `iat` and `exp`, numbers of seconds since 1970 UTC"
    )
    assert abs(issued - time.time()) <= 10, (
        f"the access token's claims are {claims!r}: `iat` is {issued - time.time():+.0f} s from now; expected the"
        " moment of issue, in UTC (a datetime without a time zone is read as UTC by PyJWT)"
    )
    assert abs(expires - issued - lifetime) < 0.01, (
        f"the access token's claims are {claims!r}: it lives {expires - issued:g} s; expected"
        f" BOOKLY_ACCESS_TOKEN_SECONDS, {lifetime} s, from `iat` to `exp`"
    )
    jti = claims.get("jti")
    assert isinstance(jti, str) and JTI.fullmatch(jti), (
        f'the access token\'s claims are {claims!r}; expected "jti": a uuid4 in hex, 32 characters 0-9a-f'
    )


@pytest.mark.exercise("7.2", points=2)
async def test_an_access_token_is_a_jwt_with_sub_iat_exp_and_jti(lab: LabFactory) -> None:
    """With BOOKLY_SECRET_KEY set, the `access_token` of POST /auth/token is a JWT signed with HS256 under that
    secret, whose claims are `sub` (the user's id as a string), `iat` (now), `exp` (900 s after `iat`, the
    default lifetime) and `jti` (a uuid4 in hex: 32 characters 0-9a-f)."""
    async with bookly(lab) as client:
        user, token = await register_and_log_in(client, "fay@bookly.example")
    expect_claims(verified_claims(token, CHECK_SECRET, "HS256"), user["id"], 900)


@pytest.mark.exercise("7.2", points=1)
async def test_the_token_lifetime_comes_from_settings(lab: LabFactory) -> None:
    """With BOOKLY_ACCESS_TOKEN_SECONDS=1 a token's `exp` is 1 s after its `iat`; with 3600, 3600 s after."""
    for lifetime in (1, 3600):
        async with bookly(lab, BOOKLY_ACCESS_TOKEN_SECONDS=str(lifetime)) as client:
            user, token = await register_and_log_in(client, "gil@bookly.example")
            claims = parts_of(token)[1]
        expect_claims(claims, user["id"], lifetime)


@pytest.mark.exercise("7.2", points=1)
async def test_every_token_has_a_jti_of_its_own(lab: LabFactory) -> None:
    """Two logins of the same user, one right after the other, get two different tokens with different `jti`."""
    async with bookly(lab) as client:
        _, first = await register_and_log_in(client, "hal@bookly.example")
        second = await log_in(client, "hal@bookly.example")
    ids = [verified_claims(token, CHECK_SECRET, "HS256").get("jti") for token in (first, second)]
    assert first != second and ids[0] != ids[1], (
        f"two logins got tokens with `jti` {ids[0]!r} and {ids[1]!r}; expected an id of its own for each token,"
        " so that one token can be told apart (and, in lesson 08, revoked) without the other"
    )


@pytest.mark.exercise("7.2", points=1)
async def test_rs256_tokens_are_signed_with_the_private_key(lab: LabFactory) -> None:
    """With BOOKLY_JWT_ALGORITHM=RS256 and a key pair in BOOKLY_JWT_PRIVATE_KEY and BOOKLY_JWT_PUBLIC_KEY (PEM),
    the access token is signed with RS256 under the private key (it verifies with the public key), with the same
    claims: `sub`, `iat`, `exp` (900 s later) and `jti`."""
    async with bookly(lab, **rs256_settings()) as client:
        user, token = await register_and_log_in(client, "ida@bookly.example")
    expect_claims(verified_claims(token, key_pair()[1], "RS256"), user["id"], 900)


async def start_failure(lab: LabFactory, env: dict[str, str]) -> str | None:
    """Why the lab did not start under ``env``; None if it started and answered."""
    try:
        async with lab(env=env) as client:
            response = await client.get("/openapi.json")
    except Exception as error:  # in-process the factory's own error; under the grader, an AssertionError
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    expect_status(response, 200, f"(the app started with {sorted(env)})")
    return None


@pytest.mark.exercise("7.2", points=2)
async def test_production_refuses_the_default_secret_key(lab: LabFactory) -> None:
    """With BOOKLY_ENVIRONMENT=production and no BOOKLY_SECRET_KEY, the app refuses to start (creating it, or
    its start-up, raises); in production with a BOOKLY_SECRET_KEY of its own, it starts and answers."""
    failure = await start_failure(lab, {"BOOKLY_ENVIRONMENT": "production"})
    assert failure is not None, (
        "with BOOKLY_ENVIRONMENT=production and no BOOKLY_SECRET_KEY the app started, signing tokens with the"
        " default secret that anyone can read in config.py; expected it to refuse to start"
    )
    refused = await start_failure(lab, {"BOOKLY_ENVIRONMENT": "production", "BOOKLY_SECRET_KEY": CHECK_SECRET})
    assert refused is None, (
        f"with BOOKLY_ENVIRONMENT=production and a BOOKLY_SECRET_KEY of its own, the app did not start: {refused}"
    )


# --- 7.3: the current user ---------------------------------------------------------------------------


@pytest.mark.exercise("7.3", points=1)
async def test_the_bearer_token_names_the_current_user(lab: LabFactory) -> None:
    """GET /users/me with `Authorization: Bearer <token>` → 200 with the user the token was issued to (its `id`,
    `email`, `full_name` and `role`, no password), for each of two users."""
    async with bookly(lab) as client:
        for email in ("jon@bookly.example", "kim@bookly.example"):
            user, token = await register_and_log_in(client, email)
            response = await client.get("/users/me", headers=bearer(token))
            body = expect_json(response, 200, f"(the user of {email}'s token)")
            wanted = {key: user[key] for key in ("id", "email", "full_name", "role") if key in user}
            assert isinstance(body, dict) and body.items() >= wanted.items(), (
                f"{describe(response)}; expected {email}'s user, {wanted!r}"
            )
            password_free(response, body)


@pytest.mark.exercise("7.3", points=1)
async def test_missing_or_malformed_credentials_are_401_with_www_authenticate(client: AsyncClient) -> None:
    """GET /users/me without credentials, with `Authorization: Basic ...`, with `Bearer not-a-jwt` and with
    `Bearer a.b.c` → 401 with `WWW-Authenticate: Bearer` and a JSON `detail`."""
    response = await client.get("/users/me")
    expect_unauthorized(response, "a request without credentials")
    for header, what in (
        ("Basic ZGFuOnNlY3JldA==", "Basic credentials"),
        ("Bearer not-a-jwt", "a token that is not a JWT"),
        ("Bearer a.b.c", "a token of three parts that are not JSON"),
    ):
        response = await client.get("/users/me", headers={"Authorization": header})
        hint = " A 500 means an exception escaped get_current_user." if response.status_code == 500 else ""
        assert response.status_code == 401, f"{describe(response)}; expected 401 for {what}.{hint}"
        expect_unauthorized(response, what)


@pytest.mark.exercise("7.3", points=1)
async def test_a_tampered_token_is_401(lab: LabFactory) -> None:
    """A valid token changed in any way → 401 on GET /users/me: its `sub` swapped for another user's id (the
    signature kept), one character of its signature changed, or the same claims signed with another secret."""
    async with bookly(lab) as client:
        _, token = await register_and_log_in(client, "lea@bookly.example")
        other = await register(client, "max@bookly.example")
        header, claims = parts_of(token)
        signing_input, signature = token.rsplit(".", 1)
        swapped = f"{b64(json.dumps(header).encode())}.{b64(json.dumps({**claims, 'sub': str(other['id'])}).encode())}"
        flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
        await expect_refused(client, f"{swapped}.{signature}", "a token whose `sub` was changed after signing")
        await expect_refused(client, f"{signing_input}.{flipped}", "a token whose signature was changed")
        await expect_refused(client, forged(claims, CHECK_SECRET[::-1]), "a token signed with another secret")


SHORT_LIFETIME = 2  # seconds: a whole-second `exp` leaves a new token between 1 and 2 s to live
YOUNG_ENOUGH = 1.0  # seconds a token must still have: room for a request on a machine busy grading others


async def young_token(client: AsyncClient, email: str) -> tuple[str, float]:
    """A token of a short lifetime with at least YOUNG_ENOUGH seconds still to live, and its `exp`. A token
    whose login was slow is waited out and another taken: the check always tries a token well before its `exp`,
    however busy the machine."""
    for _ in range(3):
        token = await log_in(client, email)
        expires = parts_of(token)[1].get("exp")
        assert isinstance(expires, int | float), f"the token has no `exp` claim: {parts_of(token)[1]!r}"
        if time.time() < expires - YOUNG_ENOUGH:
            return token, expires
        await anyio.sleep(max(0.0, min(SHORT_LIFETIME + 0.2, expires - time.time())))
    pytest.fail(
        f"three tokens in a row had less than {YOUNG_ENOUGH} s to live with"
        f" BOOKLY_ACCESS_TOKEN_SECONDS={SHORT_LIFETIME}: {token}"
    )


@pytest.mark.exercise("7.3", points=2)
async def test_an_expired_token_is_401(lab: LabFactory) -> None:
    """With BOOKLY_ACCESS_TOKEN_SECONDS=2, the token works before its `exp` and GET /users/me with it → 401 once
    its `exp` has passed; a token whose `exp` is 10 s in the past → 401 too."""
    async with bookly(lab, BOOKLY_ACCESS_TOKEN_SECONDS=str(SHORT_LIFETIME)) as client:
        user = await register(client, "ned@bookly.example")
        token, expires = await young_token(client, "ned@bookly.example")
        await me(client, token)
        await anyio.sleep(max(0.0, min(SHORT_LIFETIME + 0.2, expires - time.time() + 0.05)))
        await expect_refused(client, token, "a token whose `exp` has passed")
        old = claims_for(user["id"], seconds=-10, iat=int(time.time()) - 20)
        await expect_refused(client, forged(old), "a token that expired 10 s ago")


@pytest.mark.exercise("7.3", points=2)
async def test_unsigned_and_wrong_algorithm_tokens_are_401(lab: LabFactory) -> None:
    """Decoding accepts only the algorithm of the settings. HS256 app: a token with `"alg": "none"` and no
    signature → 401, and one signed with RS256 under another key → 401. RS256 app (BOOKLY_JWT_ALGORITHM=RS256
    and a key pair): a token signed with HS256 using the public key as the secret → 401, while one signed with
    RS256 under its private key works."""
    async with bookly(lab) as client:
        user, _ = await register_and_log_in(client, "ola@bookly.example")
        claims = claims_for(user["id"])
        unsigned = f"{b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}."
        await expect_refused(client, unsigned, 'a token with "alg": "none" and no signature')
        attacker_key = other_key_pair()[0]
        await expect_refused(client, jwt.encode(claims, attacker_key, algorithm="RS256"), "an RS256 token")
    private, public = key_pair()
    async with bookly(lab, **rs256_settings()) as client:
        user, _ = await register_and_log_in(client, "pia@bookly.example")
        claims = claims_for(user["id"])
        confused = hs256({"alg": "HS256", "typ": "JWT"}, claims, public.encode())
        await expect_refused(client, confused, "an HS256 token signed with the app's public key as the secret")
        await me(client, jwt.encode(claims, private, algorithm="RS256"))


@pytest.mark.exercise("7.3", points=1)
async def test_a_token_without_its_user_is_401(lab: LabFactory) -> None:
    """Tokens signed with the app's own secret → 401 on GET /users/me when they have no `sub`, no `exp`, or a
    `sub` that is no user's id: "abc", "999999" (nobody), "100000000000000000000" (beyond any id)."""
    async with bookly(lab) as client:
        user, _ = await register_and_log_in(client, "quin@bookly.example")
        cases = (
            (claims_for(user["id"], sub=None), "a token without `sub`"),
            (claims_for(user["id"], exp=None), "a token without `exp`: it would never expire"),
            (claims_for("abc"), 'a token whose `sub` is "abc"'),
            (claims_for(999999), 'a token whose `sub` names nobody, "999999"'),
            (claims_for(10**20), 'a token whose `sub` is beyond any id, "100000000000000000000"'),
        )
        for claims, what in cases:
            await expect_refused(client, forged(claims), what)
        await me(client, forged(claims_for(user["id"])))


@pytest.mark.exercise("7.3", points=1)
async def test_a_deleted_users_token_is_401(lab: LabFactory) -> None:
    """After DELETE /users/me (→ 204) with a user's token, GET /users/me with the same, unexpired token → 401,
    and logging in as that user → 401."""
    async with bookly(lab) as client:
        _, token = await register_and_log_in(client, "ray@bookly.example")
        expect_status(await client.delete("/users/me", headers=bearer(token)), 204, "(the user deletes themselves)")
        await expect_refused(client, token, "the token of a user who no longer exists")
        expect_status(await token_response(client, "ray@bookly.example"), 401, "(that user no longer exists)")


@pytest.mark.exercise("7.3", points=2)
async def test_nobody_chooses_their_own_role(lab: LabFactory) -> None:
    """POST /auth/register with "role": "admin" in the body creates a "user" (or is refused with 422). PATCH
    /users/me with {"full_name": "Sue Admin", "role": "admin"} → 200 with the role still "user", or 422; either
    way GET /users/me then shows the role "user". PATCH /users/me with {"full_name": "Sue Storm"} → 200 with
    that name, and GET /users/me shows it."""
    async with bookly(lab) as client:
        sent = {"email": "sue@bookly.example", "full_name": "Sue", "password": PASSWORD, "role": "admin"}
        response = await client.post("/auth/register", json=sent)
        if response.status_code == 422:
            await register(client, "sue@bookly.example", "Sue")
        else:
            created = expect_json(response, 201, "(a registration that asks for the admin role)")
            assert isinstance(created, dict) and created.get("role") == "user", (
                f'{describe(response)}; expected the role "user": nobody registers as an admin'
            )
        token = await log_in(client, "sue@bookly.example")
        sent = {"full_name": "Sue Admin", "role": "admin"}
        response = await client.patch("/users/me", json=sent, headers=bearer(token))
        if response.status_code != 422:
            changed = expect_json(response, 200, "(or 422: `role` is not the user's to change)")
            assert isinstance(changed, dict) and changed.get("role") == "user", (
                f'{describe(response)}; expected the role to stay "user"'
            )
        now = await me(client, token)
        assert now.get("role") == "user", (
            f'after PATCH /users/me {sent!r}, GET /users/me → {now!r}; expected the role "user"'
        )
        response = await client.patch("/users/me", json={"full_name": "Sue Storm"}, headers=bearer(token))
        renamed = expect_json(response, 200, "(a user may change their own name)")
        assert (
            isinstance(renamed, dict) and renamed.get("full_name") == "Sue Storm" and renamed.get("role") == "user"
        ), f'{describe(response)}; expected the user with the full_name "Sue Storm" and the role "user"'
        now = await me(client, token)
        assert now.get("full_name") == "Sue Storm", f'GET /users/me → {now!r}; expected the full_name "Sue Storm"'


# --- 7.4: the cookie transport ---------------------------------------------------------------------


def set_cookies(response: httpx.Response) -> list[tuple[str, str, dict[str, str]]]:
    """(name, value, attributes) of each Set-Cookie header; attribute names in lower case."""
    cookies = []
    for header in response.headers.get_list("set-cookie"):
        first, *rest = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        attributes = {}
        for part in rest:
            key, _, attribute = part.partition("=")
            attributes[key.strip().lower()] = attribute.strip()
        cookies.append((name.strip(), value.strip().strip('"'), attributes))
    return cookies


async def cookie_login(client: AsyncClient, email: str) -> tuple[httpx.Response, str]:
    """Log in for a browser; the answer, and the value of the CSRF cookie (the one a script may read)."""
    response = await client.post(f"{HTTPS}/auth/login", data={"username": email, "password": PASSWORD})
    assert response.status_code in (200, 204), (
        f"{describe(response)}; expected 200 or 204 with the session and CSRF cookies"
    )
    readable = [value for _, value, attributes in set_cookies(response) if "httponly" not in attributes]
    assert len(readable) == 1 and readable[0], (
        f"{describe(response)} with Set-Cookie {response.headers.get_list('set-cookie')!r}; expected one cookie"
        " without HttpOnly, holding the CSRF token that the site's scripts copy into X-CSRF-Token"
    )
    return response, readable[0]


@pytest.mark.exercise("7.4", points=1)
async def test_cookie_login_sets_a_protected_session_cookie_and_a_csrf_cookie(client: AsyncClient) -> None:
    """POST https://testserver/auth/login with the same form as /auth/token → 200 or 204 with two cookies: the
    session cookie, HttpOnly, Secure and SameSite Lax or Strict; and the CSRF cookie, not HttpOnly (the site's
    scripts read it), Secure and SameSite Lax or Strict, holding a random token. A wrong password → 401 and no
    cookie."""
    await register(client, "tia@bookly.example")
    wrong = await client.post(f"{HTTPS}/auth/login", data={"username": "tia@bookly.example", "password": "nope"})
    expect_status(wrong, 401, "(a wrong password)")
    assert not wrong.headers.get_list("set-cookie"), f"{describe(wrong)}; expected no cookie for a failed login"
    response, csrf = await cookie_login(client, "tia@bookly.example")
    cookies = set_cookies(response)
    sessions = [(name, attributes) for name, _, attributes in cookies if "httponly" in attributes]
    assert len(sessions) == 1, (
        f"{describe(response)} with Set-Cookie {response.headers.get_list('set-cookie')!r}; expected one HttpOnly"
        " cookie holding the session, which no script can read"
    )
    for name, _, attributes in cookies:
        assert "secure" in attributes, f"the cookie {name} is not Secure: it would travel over plain http too"
        same_site = attributes.get("samesite", "").lower()
        assert same_site in ("lax", "strict"), (
            f"the cookie {name} has SameSite={same_site or '(none)'}; expected Lax or Strict, so that the browser"
            " leaves it out of most requests other sites make"
        )
    assert len(csrf) >= 16, f"the CSRF cookie holds {csrf!r}; expected a random token of 16 characters or more"


@pytest.mark.exercise("7.4", points=1)
async def test_the_session_cookie_authenticates_reads(client: AsyncClient) -> None:
    """After the cookie login, GET https://testserver/users/me with the cookies alone (no Authorization header,
    no CSRF header) → 200 with the user."""
    user = await register(client, "uma@bookly.example")
    await cookie_login(client, "uma@bookly.example")
    response = await client.get(f"{HTTPS}/users/me")
    body = expect_json(response, 200, "(the session cookie identifies the user; reading needs no CSRF token)")
    assert isinstance(body, dict) and body.get("id") == user["id"], f"{describe(response)}; expected uma's user"


@pytest.mark.exercise("7.4", points=2)
async def test_a_cross_site_change_without_the_csrf_header_is_refused(client: AsyncClient) -> None:
    """With the session cookies, a request that changes something needs `X-CSRF-Token` equal to the CSRF cookie:
    POST https://testserver/auth/logout from another site's page (Origin: https://evil.example, no header) → 403;
    PATCH /users/me without the header, or with a wrong one → 403; DELETE /users/me without it → 403; nothing
    changes and the session still works. PATCH /users/me with the right header → 200, changed."""
    await register(client, "vic@bookly.example", "Vic")
    _, csrf = await cookie_login(client, "vic@bookly.example")
    evil = {"Origin": "https://evil.example"}
    attempts = (
        ("POST", "/auth/logout", None, evil, "a cross-site POST without X-CSRF-Token"),
        ("PATCH", "/users/me", {"full_name": "Mallory"}, {}, "a PATCH without X-CSRF-Token"),
        ("PATCH", "/users/me", {"full_name": "Mallory"}, {"X-CSRF-Token": "forged-" + csrf}, "a wrong X-CSRF-Token"),
        ("DELETE", "/users/me", None, {}, "a DELETE without X-CSRF-Token"),
    )
    for method, path, body, headers, what in attempts:
        response = await client.request(method, f"{HTTPS}{path}", json=body, headers=headers)
        assert response.status_code == 403, (
            f"{describe(response)}; expected 403 for {what}: with cookies, the browser would send it for any site"
        )
    response = await client.get(f"{HTTPS}/users/me")
    still = expect_json(response, 200, "(the refused requests must not have ended or changed the session)")
    assert isinstance(still, dict) and still.get("full_name") == "Vic", (
        f"{describe(response)}; expected vic's user, unchanged, after the refused requests"
    )
    response = await client.patch(f"{HTTPS}/users/me", json={"full_name": "Vic Vale"}, headers={"X-CSRF-Token": csrf})
    changed = expect_json(response, 200, "(the right X-CSRF-Token)")
    assert isinstance(changed, dict) and changed.get("full_name") == "Vic Vale", (
        f'{describe(response)}; expected the full_name "Vic Vale"'
    )


@pytest.mark.exercise("7.4", points=1)
async def test_logout_clears_the_session_cookies(client: AsyncClient) -> None:
    """POST https://testserver/auth/logout with the cookies and the right `X-CSRF-Token` → 200 or 204, and the
    browser drops the cookies: GET https://testserver/users/me afterwards → 401."""
    await register(client, "wes@bookly.example")
    _, csrf = await cookie_login(client, "wes@bookly.example")
    response = await client.post(f"{HTTPS}/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code in (200, 204), f"{describe(response)}; expected 200 or 204"
    expect_unauthorized(await client.get(f"{HTTPS}/users/me"), "a request after logging out")


@pytest.mark.exercise("7.4", points=1)
async def test_a_bearer_request_needs_no_csrf_token(client: AsyncClient) -> None:
    """PATCH /users/me with `Authorization: Bearer <token>` and no cookie → 200 without any `X-CSRF-Token`: a
    browser never adds that header by itself, so no other site can make such a request."""
    await register(client, "xia@bookly.example", "Xia")
    token = await log_in(client, "xia@bookly.example")
    client.cookies.clear()
    response = await client.patch("/users/me", json={"full_name": "Xia Xu"}, headers=bearer(token))
    changed = expect_json(response, 200, "(a bearer token is no cookie: no CSRF token is needed)")
    assert isinstance(changed, dict) and changed.get("full_name") == "Xia Xu", (
        f'{describe(response)}; expected the full_name "Xia Xu"'
    )
