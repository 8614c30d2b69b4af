"""Graded checks for lesson 08: Bookly's token lifecycle and authorization.

Every check talks to the app over HTTP. It reads the claims of the tokens the app hands out, as any
client may (a JWT's payload is only encoded), and the mail the app writes to an outbox directory
(``BOOKLY_OUTBOX_DIR``) from outside. Lifetimes come from settings, so no check waits more than 1.5 s.
Every app hashes with a cheap Argon2 (``BOOKLY_FAST_PASSWORD_HASH``), as test suites do: the checks log in
hundreds of times, and how passwords are stored is lesson 07's.
"""

import base64
import email
import email.policy
import json
import re
import time
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import httpx
import pytest
from httpx import AsyncClient

from course.harness import SharedDirectory
from course.pytest_plugin import LabFactory

from .expect import BODY_LIMIT, isolated_settings

hermetic_settings = isolated_settings("BOOKLY_")


@pytest.fixture
def lab(lab: LabFactory) -> LabFactory:
    """The plugin's ``lab`` (and so ``client``), its apps hashing passwords with a cheap Argon2."""

    def with_fast_hash(env: dict[str, str] | None = None) -> AbstractAsyncContextManager[AsyncClient]:
        return lab(env={"BOOKLY_FAST_PASSWORD_HASH": "true", **(env or {})})

    return with_fast_hash


# The accounts every app starts with: an admin, a verified user, and a user who has not verified her address.
ADA = ("ada@bookly.example", "ada-secret-password")
BEN = ("ben@bookly.example", "ben-secret-password")
CLEO = ("cleo@bookly.example", "cleo-secret-password")
NEW_BOOK = {"title": "Check Book", "author": "Pat Example"}
TOKEN_IN_LINK = re.compile(r"[?&]token=([A-Za-z0-9_.\-]+)")
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


# --- messages: tokens shown by their type and jti, not as 300 characters of base64 ------------------


def _token_name(match: re.Match[str]) -> str:
    try:
        claims = claims_of(match.group())
    except AssertionError:
        return "<a token>"
    return f"<{claims.get('type', 'a')} token {str(claims.get('jti', '?'))[:8]}>"


def readable(text: str) -> str:
    text = JWT.sub(_token_name, text)
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…"


def describe(response: httpx.Response) -> str:
    """``POST /auth/refresh {"refresh_token": "<refresh token 1a2b3c4d>"} → got 200 {...}``."""
    request = response.request
    target = f"{request.method} {request.url.raw_path.decode()}"
    if authorization := request.headers.get("authorization"):
        target += f" [Authorization: {readable(authorization)}]"
    if sent := request.content.decode(errors="replace"):
        target += f" {readable(sent)}"
    return f"{target} → got {response.status_code} {readable(response.text)}"


def expect_status(response: httpx.Response, status: int, what: str = "") -> None:
    assert response.status_code == status, f"{describe(response)}; expected {status}{' ' + what if what else ''}"


def expect_json(response: httpx.Response, status: int = 200, what: str = "") -> Any:
    expect_status(response, status, what)
    try:
        return response.json()
    except ValueError:
        raise AssertionError(f"{describe(response)}; expected a JSON body") from None


# --- helpers --------------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT, read without checking the signature (the app checks it; a client only reads)."""
    try:
        payload = token.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise AssertionError(f"expected a JWT (three dot-separated parts), got {token[:60]!r}") from None
    assert isinstance(decoded, dict), f"expected a JSON object as the JWT payload, got {decoded!r}"
    return decoded


def token_pair(response: httpx.Response, what: str) -> dict[str, str]:
    body = expect_json(response, 200, what)
    for name in ("access_token", "refresh_token"):
        assert isinstance(body, dict) and isinstance(body.get(name), str), (
            f"{describe(response)}; expected 200 with an `access_token` and a `refresh_token` {what}"
        )
    return {"access": body["access_token"], "refresh": body["refresh_token"]}


async def login(client: AsyncClient, account: tuple[str, str], scope: str | None = None) -> dict[str, str]:
    """Sign in with the OAuth2 password form: the access and refresh tokens."""
    form = {"username": account[0], "password": account[1]}
    if scope is not None:
        form["scope"] = scope
    return token_pair(await client.post("/auth/token", data=form), f"(a login of {account[0]})")


async def try_login(client: AsyncClient, email_address: str, password: str) -> httpx.Response:
    return await client.post("/auth/token", data={"username": email_address, "password": password})


async def refresh(client: AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refresh_token": refresh_token})


async def refreshed(client: AsyncClient, refresh_token: str, what: str) -> dict[str, str]:
    return token_pair(await refresh(client, refresh_token), what)


async def me(client: AsyncClient, access_token: str) -> httpx.Response:
    return await client.get("/users/me", headers=bearer(access_token))


def expect_401(response: httpx.Response, what: str) -> None:
    expect_status(response, 401, what)
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.lower().startswith("bearer"), (
        f"{describe(response)}; expected a 401 with `WWW-Authenticate: Bearer` {what}, got the header {challenge!r}"
    )


async def expect_refused_refresh(client: AsyncClient, token: str, what: str) -> None:
    expect_401(await refresh(client, token), what)


async def expect_me(client: AsyncClient, access_token: str, user_id: int, what: str) -> None:
    response = await me(client, access_token)
    body = expect_json(response, 200, what)
    assert isinstance(body, dict) and body.get("id") == user_id, f"{describe(response)}; expected user {user_id} {what}"


async def book_ids(client: AsyncClient) -> list[Any]:
    books = expect_json(await client.get("/books"), 200)
    assert isinstance(books, list), f"GET /books → expected a JSON list, got {books!r}"
    return [book.get("id") for book in books if isinstance(book, dict)]


# --- 8.1: refresh tokens rotate, and a replayed one ends its family -------------------------------


@pytest.mark.exercise("8.1", points=2)
async def test_each_refresh_hands_out_a_new_pair_and_spends_the_old_refresh_token(client: AsyncClient) -> None:
    """POST /auth/refresh {"refresh_token": R1} (R1 from POST /auth/token) → 200 with a new access token and a new
    refresh token R2; the new access token works on GET /users/me, and R2 refreshes in turn (R3). R1 is then spent:
    presenting it again → 401 with `WWW-Authenticate: Bearer`."""
    first = await login(client, BEN)
    second = await refreshed(client, first["refresh"], "(the first refresh of a fresh login)")
    assert second["refresh"] != first["refresh"] and second["access"] != first["access"], (
        "POST /auth/refresh → expected a new access token and a new refresh token, got the same ones back"
    )
    await expect_me(client, second["access"], 2, "(with the access token the refresh handed out)")
    await refreshed(client, second["refresh"], "(the refresh token R2 that the first refresh handed out)")
    await expect_refused_refresh(client, first["refresh"], "(R1 was rotated: each refresh token works once)")


@pytest.mark.exercise("8.1", points=2)
async def test_a_replayed_refresh_token_ends_the_session_for_user_and_thief(client: AsyncClient) -> None:
    """The thief replays a stolen refresh token after the user rotated it: user refreshes R1 → R2 (200); the thief
    presents R1 → 401, and that ends the whole family: the user's R2 → 401 too. Nobody can tell which copy was
    the thief's, so both sign in again; a new login works (200) and refreshes (200)."""
    stolen = await login(client, BEN)
    user = await refreshed(client, stolen["refresh"], "(the user's own refresh)")
    await expect_refused_refresh(client, stolen["refresh"], "(the thief replays R1, which the user already rotated)")
    await expect_refused_refresh(
        client, user["refresh"], "(the user's R2: R1 was replayed, so its whole family must have ended)"
    )
    again = await login(client, BEN)
    await refreshed(client, again["refresh"], "(a new login starts a new family)")


@pytest.mark.exercise("8.1", points=2)
async def test_a_thief_who_refreshes_first_is_locked_out_as_soon_as_the_user_comes_back(client: AsyncClient) -> None:
    """The thief refreshes the stolen R1 first → 200 with T2. When the user then presents R1 → 401, the family
    ends: the thief's T2 → 401 as well, and the thief is out. The user signs in again (200) and refreshes (200)."""
    stolen = await login(client, BEN)
    thief = await refreshed(client, stolen["refresh"], "(the thief refreshes the stolen token first)")
    await expect_refused_refresh(client, stolen["refresh"], "(the user presents R1, which the thief rotated)")
    await expect_refused_refresh(client, thief["refresh"], "(the thief's T2: R1 was replayed, so its family ended)")
    again = await login(client, BEN)
    await refreshed(client, again["refresh"], "(the user's new login)")


@pytest.mark.exercise("8.1", points=2)
async def test_each_login_is_a_family_of_its_own(client: AsyncClient) -> None:
    """Two logins of one user (a laptop and a phone) rotate independently: each refreshes twice (200). Replaying
    the laptop's first refresh token → 401 ends the laptop's family only (its newest token → 401); the phone's
    newest refresh token → 200, and its new access token works on GET /users/me."""
    laptop, phone = await login(client, BEN), await login(client, BEN)
    laptop_2 = await refreshed(client, laptop["refresh"], "(the laptop's first refresh)")
    phone_2 = await refreshed(client, phone["refresh"], "(the phone's first refresh, after another login's)")
    laptop_3 = await refreshed(client, laptop_2["refresh"], "(the laptop's second refresh)")
    phone_3 = await refreshed(client, phone_2["refresh"], "(the phone's second refresh)")
    await expect_refused_refresh(client, laptop["refresh"], "(the laptop's first refresh token, replayed)")
    await expect_refused_refresh(client, laptop_3["refresh"], "(the laptop's family ended with the replay)")
    phone_4 = await refreshed(client, phone_3["refresh"], "(the phone's session is another family: it goes on)")
    await expect_me(client, phone_4["access"], 2, "(the phone's new access token)")


# --- 8.2: logout revokes, through a blocklist in Redis ---------------------------------------------


async def logout(client: AsyncClient, tokens: dict[str, str], what: str) -> None:
    response = await client.post(
        "/auth/logout", headers=bearer(tokens["access"]), json={"refresh_token": tokens["refresh"]}
    )
    expect_status(response, 204, what)


async def revocation(client: AsyncClient, jti: str) -> httpx.Response:
    """GET /admin/revocations/{jti}, as ada, with a fresh token of hers."""
    admin = await login(client, ADA)
    return await client.get(f"/admin/revocations/{jti}", headers=bearer(admin["access"]))


# Wider than any login → logout can take (the check times out first), far narrower than a refresh lifetime.
BLOCKLIST_SLACK_SECONDS = 60


async def blocklist_seconds(client: AsyncClient, token: str) -> tuple[float, float, float]:
    """``expires_in`` of the blocklist entry of ``token``, and the clock just before and after asking."""
    jti = claims_of(token).get("jti")
    admin = await login(client, ADA)
    before = time.time()
    response = await client.get(f"/admin/revocations/{jti}", headers=bearer(admin["access"]))
    after = time.time()
    body = expect_json(response, 200, "(the token was revoked by a logout: it is on the blocklist)")
    seconds = body.get("expires_in") if isinstance(body, dict) else None
    assert isinstance(seconds, int | float) and body.get("jti") == jti, (
        f"{describe(response)}; expected {{'jti': {jti!r}, 'expires_in': <seconds>}}"
    )
    return float(seconds), before, after


@pytest.mark.exercise("8.2", points=2)
async def test_logout_revokes_the_access_token_and_ends_the_session(client: AsyncClient) -> None:
    """POST /auth/logout with the access token as Bearer and {"refresh_token": ...} → 204. From then on that access
    token → 401 with `WWW-Authenticate: Bearer` on GET /users/me, long before it expires, and the refresh token →
    401 on POST /auth/refresh. Another login of the same user (another device) keeps working: 200 on both."""
    laptop, phone = await login(client, BEN), await login(client, BEN)
    await expect_me(client, laptop["access"], 2, "(before the logout)")
    await logout(client, laptop, "(logging out the laptop's session)")
    expect_401(await me(client, laptop["access"]), "(the access token of a session that logged out is revoked)")
    await expect_refused_refresh(client, laptop["refresh"], "(the refresh token of a session that logged out)")
    await expect_me(client, phone["access"], 2, "(the phone did not log out)")
    await refreshed(client, phone["refresh"], "(the phone's refresh token: it did not log out)")


@pytest.mark.exercise("8.2", points=2)
async def test_every_instance_of_the_app_sees_a_revocation(lab: LabFactory) -> None:
    """Two instances of the app, as behind a load balancer, share Redis and the database: a token from instance A
    works on B (200); after POST /auth/logout on A, the access token → 401 on B and the refresh token → 401 on B.
    A blocklist kept in one process's memory fails this."""
    async with lab() as first, lab() as second:
        tokens = await login(first, BEN)
        await expect_me(second, tokens["access"], 2, "(instance B, with a token from instance A)")
        await logout(first, tokens, "(logging out on instance A)")
        expect_401(await me(second, tokens["access"]), "(instance B, after the logout on A: the token is revoked)")
        await expect_refused_refresh(second, tokens["refresh"], "(instance B, after the logout on A)")


@pytest.mark.exercise("8.2", points=2)
async def test_a_revoked_token_stays_on_the_blocklist_until_it_expires(client: AsyncClient) -> None:
    """After a logout, GET /admin/revocations/{jti} (as the admin ada) with the access token's `jti` → 200
    {"jti": ..., "expires_in": <seconds>}: the entry lasts as long as the token has left (its `exp`), never less
    (give or take a second), and is never kept for good (-1) nor for the refresh token's lifetime. A `jti` that was
    never revoked → 404. How close to `exp` the entry ends is the next check's job: here the slack above is wide, so
    that how long login → logout took on a busy machine never decides the verdict."""
    tokens, other = await login(client, BEN), await login(client, BEN)
    await logout(client, tokens, "(logging out, so the access token goes on the blocklist)")
    expires = claims_of(tokens["access"]).get("exp")
    assert isinstance(expires, int), f"expected an integer `exp` claim in the access token, got {expires!r}"
    seconds, before, after = await blocklist_seconds(client, tokens["access"])
    assert expires - after - 1 <= seconds <= expires - before + BLOCKLIST_SLACK_SECONDS, (
        f"GET /admin/revocations/{{jti}} → expires_in {seconds}; expected the token's remaining lifetime, about"
        f" {expires - after:.1f} s (its exp {expires} minus now)"
    )
    response = await revocation(client, claims_of(other["access"])["jti"])
    expect_status(response, 404, "(this token was never revoked: the other session did not log out)")


LONG_LIFETIME = 30  # seconds: no slow request on a busy machine sees the token expire during the check
LOGOUT_AGE = 2.5  # seconds between login and logout: far more than the blocklist check's one-second give


@pytest.mark.exercise("8.2", points=2)
async def test_the_blocklist_counts_what_is_left_of_the_token_not_a_whole_lifetime(lab: LabFactory) -> None:
    """With BOOKLY_ACCESS_TOKEN_SECONDS=30, a token logged out 2.5 s after login is on the blocklist only until
    its own `exp` (give or take a second): `expires_in` is what is left of its life, not a whole lifetime from
    the logout."""
    async with lab(env={"BOOKLY_ACCESS_TOKEN_SECONDS": str(LONG_LIFETIME)}) as client:
        tokens = await login(client, BEN)
        await anyio.sleep(LOGOUT_AGE)
        await logout(client, tokens, f"(logging out a token {LOGOUT_AGE} s old, of a {LONG_LIFETIME} s lifetime)")
        expires = claims_of(tokens["access"])["exp"]
        seconds, before, after = await blocklist_seconds(client, tokens["access"])
        assert expires - after - 1 <= seconds <= expires - before + 1, (
            f"GET /admin/revocations/{{jti}} → expires_in {seconds}; expected what is left of the token's life,"
            f" about {expires - after:.1f} s (its exp minus now), within a second; {LONG_LIFETIME} s from the logout"
            " keeps it blocked after it expired"
        )


# --- 8.3: scopes and roles; 401 is not 403 ----------------------------------------------------------


@pytest.mark.exercise("8.3", points=2)
async def test_no_token_is_401_a_token_without_the_scope_is_403(client: AsyncClient) -> None:
    """POST /books without a token, or with a forged one → 401 with `WWW-Authenticate: Bearer`. With ben's token
    of scope `profile` only → 403, and a `WWW-Authenticate` header naming `insufficient_scope` and the scope
    `books:write` (RFC 6750); with scope `books:write` → 201. GET /users/me with a `books:write`-only token → 403;
    with `profile` → 200."""
    expect_401(await client.post("/books", json=NEW_BOOK), "(no token)")
    forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyIn0.c2lnbmF0dXJl"
    expect_401(await client.post("/books", json=NEW_BOOK, headers=bearer(forged)), "(a forged token)")
    profile_only = await login(client, BEN, scope="profile")
    response = await client.post("/books", json=NEW_BOOK, headers=bearer(profile_only["access"]))
    expect_status(response, 403, "(a valid token without the scope books:write: authenticated, not allowed)")
    challenge = response.headers.get("www-authenticate", "")
    assert "insufficient_scope" in challenge and "books:write" in challenge, (
        f"{describe(response)}; expected `WWW-Authenticate` to name insufficient_scope and books:write,"
        f" got {challenge!r}"
    )
    writer = await login(client, BEN, scope="books:write")
    response = await client.post("/books", json=NEW_BOOK, headers=bearer(writer["access"]))
    expect_status(response, 201, "(ben is verified and his token has the scope books:write)")
    expect_status(await me(client, writer["access"]), 403, "(a token without the scope profile)")
    await expect_me(client, profile_only["access"], 2, "(a token with the scope profile)")


@pytest.mark.exercise("8.3", points=2)
async def test_only_verified_users_add_books(client: AsyncClient) -> None:
    """cleo has not verified her address: POST /books with her token (all scopes) → 403, and nothing is added;
    she still reads her account (GET /users/me → 200). ben, verified → 201."""
    before = await book_ids(client)
    cleo = await login(client, CLEO)
    response = await client.post("/books", json=NEW_BOOK, headers=bearer(cleo["access"]))
    expect_status(response, 403, "(cleo is signed in, but her address is not verified)")
    assert await book_ids(client) == before, f"{describe(response)}; expected no new book after the 403"
    await expect_me(client, cleo["access"], 3, "(an unverified user still reads her own account)")
    ben = await login(client, BEN)
    expect_status(await client.post("/books", json=NEW_BOOK, headers=bearer(ben["access"])), 201, "(ben is verified)")


@pytest.mark.exercise("8.3", points=2)
async def test_only_admins_delete_books(client: AsyncClient) -> None:
    """DELETE /books/1 without a token → 401; as ben (role user, scope books:write) → 403 and the book stays; as
    ada (role admin) with a `profile`-only token → 403; as ada with `books:write` → 204, and again → 404."""
    expect_401(await client.delete("/books/1"), "(no token)")
    ben = await login(client, BEN)
    expect_status(await client.delete("/books/1", headers=bearer(ben["access"])), 403, "(ben's role is user)")
    assert 1 in await book_ids(client), "DELETE /books/1 as ben → 403 expected, and book 1 kept; it is gone"
    ada_profile = await login(client, ADA, scope="profile")
    response = await client.delete("/books/1", headers=bearer(ada_profile["access"]))
    expect_status(response, 403, "(ada is an admin, but this token lacks the scope books:write)")
    ada = await login(client, ADA, scope="books:write")
    expect_status(await client.delete("/books/1", headers=bearer(ada["access"])), 204, "(ada is an admin)")
    expect_status(await client.delete("/books/1", headers=bearer(ada["access"])), 404, "(book 1 is gone)")


# --- 8.4: links by mail: verify an address, reset a password ----------------------------------------


def mails_to(outbox: SharedDirectory, address: str, seen: set[str]) -> list[str]:
    """The bodies of the messages to ``address`` that appeared since ``seen`` (names), oldest first; updates seen."""
    found = []
    for name, data in outbox.files().items():
        if name in seen or not name.endswith(".eml"):
            continue
        seen.add(name)
        message = email.message_from_bytes(data, policy=email.policy.default)
        if address in str(message.get("To", "")):
            body = message.get_body(preferencelist=("plain",))
            found.append(body.get_content() if body is not None else "")
    return found


def link_token(outbox: SharedDirectory, address: str, seen: set[str], what: str) -> str:
    """The token of the one new message to ``address``: the `token=` of the link in its body."""
    bodies = mails_to(outbox, address, seen)
    assert len(bodies) == 1, (
        f"expected one new message to {address} in the outbox {what}, found {len(bodies)};"
        f" the outbox holds {sorted(outbox.files())}"
    )
    match = TOKEN_IN_LINK.search(bodies[0])
    assert match, f"expected a link with ?token=... in the message to {address} {what}, got {bodies[0][:300]!r}"
    return match.group(1)


async def register(client: AsyncClient, address: str, password: str) -> None:
    body = {"email": address, "full_name": "Nia Check", "password": password}
    created = expect_json(await client.post("/auth/register", json=body), 201, "(a new account)")
    assert isinstance(created, dict) and created.get("is_verified") is False, (
        f"POST /auth/register → expected a new account with is_verified false, got {created!r}"
    )


async def expect_verified(client: AsyncClient, account: tuple[str, str], verified: bool, what: str) -> None:
    tokens = await login(client, account)
    response = await me(client, tokens["access"])
    body = expect_json(response, 200)
    assert isinstance(body, dict) and body.get("is_verified") is verified, (
        f"{describe(response)}; expected is_verified {str(verified).lower()} {what}"
    )


def outbox_env(outbox: SharedDirectory) -> dict[str, str]:
    return {"BOOKLY_OUTBOX_DIR": outbox.path}


@pytest.mark.exercise("8.4", points=2)
async def test_registration_mails_a_link_that_verifies_the_address(
    lab: LabFactory, shared_directory: SharedDirectory
) -> None:
    """POST /auth/register → 201 with is_verified false, and one message to the new address in the outbox
    (BOOKLY_OUTBOX_DIR, one .eml file per message) with a link `...?token=<token>`. POST /auth/verify-email
    {"token": <token>} → 200 with the account, is_verified true; GET /users/me says so too, and the new user may
    now add a book (201)."""
    account, seen = ("nia@example.com", "nia-check-password"), set[str]()
    async with lab(env=outbox_env(shared_directory)) as client:
        await register(client, *account)
        token = link_token(shared_directory, account[0], seen, "(after registering)")
        response = await client.post("/auth/verify-email", json={"token": token})
        body = expect_json(response, 200, "(the token of the link mailed at registration)")
        assert isinstance(body, dict) and body.get("is_verified") is True and body.get("email") == account[0], (
            f"{describe(response)}; expected the account of {account[0]} with is_verified true"
        )
        await expect_verified(client, account, True, "(after following the link)")
        tokens = await login(client, account)
        response = await client.post("/books", json=NEW_BOOK, headers=bearer(tokens["access"]))
        expect_status(response, 201, "(a verified user with the scope books:write)")


@pytest.mark.exercise("8.4", points=2)
async def test_a_forged_or_misdirected_link_is_refused(lab: LabFactory, shared_directory: SharedDirectory) -> None:
    """A verification token with one character changed → 400 from POST /auth/verify-email, and the account stays
    unverified. A password-reset token → 400 from POST /auth/verify-email, and a verification token → 400 from
    POST /auth/password-reset/confirm, the password unchanged: each token serves only its own purpose."""
    account, seen = ("omar@example.com", "omar-check-password"), set[str]()
    async with lab(env=outbox_env(shared_directory)) as client:
        await register(client, *account)
        verify = link_token(shared_directory, account[0], seen, "(after registering)")
        middle = len(verify) // 3  # inside the payload: the signature no longer matches
        forged = verify[:middle] + ("A" if verify[middle] != "A" else "B") + verify[middle + 1 :]
        expect_status(await client.post("/auth/verify-email", json={"token": forged}), 400, "(a forged token)")
        expect_status(await client.post("/auth/password-reset", json={"email": account[0]}), 202)
        reset = link_token(shared_directory, account[0], seen, "(after asking for a password reset)")
        response = await client.post("/auth/verify-email", json={"token": reset})
        expect_status(response, 400, "(a password-reset token is no verification token)")
        response = await client.post(
            "/auth/password-reset/confirm", json={"token": verify, "new_password": "omar-new-password"}
        )
        expect_status(response, 400, "(a verification token is no password-reset token)")
        await expect_verified(client, account, False, "(no valid verification link was used)")


@pytest.mark.exercise("8.4", points=2)
async def test_a_reset_link_sets_a_new_password_once(lab: LabFactory, shared_directory: SharedDirectory) -> None:
    """POST /auth/password-reset {"email": "ben@bookly.example"} → 202, and a message to ben with a link
    `...?token=<token>`. POST /auth/password-reset/confirm {"token", "new_password"} → 204: the new password signs
    in (200), the old one → 401. The same token again, with yet another password → 400, and that password does not
    sign in. An address without an account → the same 202 body, and no message."""
    seen: set[str] = set()
    async with lab(env=outbox_env(shared_directory)) as client:
        known = await client.post("/auth/password-reset", json={"email": BEN[0]})
        expect_status(known, 202, "(ben has an account)")
        token = link_token(shared_directory, BEN[0], seen, "(after asking for a password reset)")
        unknown = await client.post("/auth/password-reset", json={"email": "nobody@example.com"})
        assert (unknown.status_code, unknown.text) == (known.status_code, known.text), (
            f"{describe(unknown)}; expected the same answer as for ben, {known.status_code} {known.text}: the answer"
            " must not tell which addresses have accounts"
        )
        assert not mails_to(shared_directory, "nobody@example.com", seen), "expected no message to nobody@example.com"
        confirm = {"token": token, "new_password": "ben-brand-new-password"}
        expect_status(await client.post("/auth/password-reset/confirm", json=confirm), 204, "(a fresh reset link)")
        await login(client, (BEN[0], "ben-brand-new-password"))
        expect_401(await try_login(client, *BEN), "(the old password, after the reset)")
        again = {"token": token, "new_password": "ben-second-new-password"}
        response = await client.post("/auth/password-reset/confirm", json=again)
        expect_status(response, 400, "(the same reset link a second time: it works once)")
        expect_401(await try_login(client, BEN[0], again["new_password"]), "(the password of the refused reset)")
        await login(client, (BEN[0], "ben-brand-new-password"))


# --- 8.5 (stretch): rate-limited login ----------------------------------------------------------------


def retry_after(response: httpx.Response, window: int) -> int:
    value = response.headers.get("retry-after", "")
    assert value.isdigit() and 1 <= int(value) <= window, (
        f"{describe(response)}; expected a `Retry-After` header with the seconds left in the {window} s window"
        f" (1 to {window}), got {value!r}"
    )
    return int(value)


async def fail_logins(client: AsyncClient, address: str, count: int) -> None:
    for attempt in range(1, count + 1):
        expect_401(await try_login(client, address, "wrong-password-1"), f"(failed login {attempt} of {count})")


@pytest.mark.exercise("8.5", points=2)
async def test_too_many_failed_logins_answer_429_with_retry_after(lab: LabFactory) -> None:
    """With BOOKLY_LOGIN_ATTEMPTS=3: three wrong passwords for ben → 401 each; the next login for his address, even
    with the right password and in other letter case (BEN@BOOKLY.EXAMPLE) → 429 with `Retry-After`, the seconds
    left in the BOOKLY_LOGIN_WINDOW_SECONDS=60 window (1 to 60). ada, another address, still signs in (200)."""
    async with lab(env={"BOOKLY_LOGIN_ATTEMPTS": "3", "BOOKLY_LOGIN_WINDOW_SECONDS": "60"}) as client:
        await fail_logins(client, BEN[0], 3)
        for address in (BEN[0], BEN[0].upper()):
            response = await try_login(client, address, BEN[1])
            expect_status(response, 429, "(3 failed logins for this address in the window: the limit)")
            retry_after(response, 60)
        await login(client, ADA)


@pytest.mark.exercise("8.5", points=2)
async def test_the_limit_lifts_when_the_window_ends(lab: LabFactory) -> None:
    """With BOOKLY_LOGIN_ATTEMPTS=1 and BOOKLY_LOGIN_WINDOW_SECONDS=1: a wrong password → 401, then the right one →
    429 with `Retry-After: 1`; once the window has passed (1.1 s later), the right password → 200."""
    async with lab(env={"BOOKLY_LOGIN_ATTEMPTS": "1", "BOOKLY_LOGIN_WINDOW_SECONDS": "1"}) as client:
        await fail_logins(client, BEN[0], 1)
        response = await try_login(client, *BEN)
        expect_status(response, 429, "(1 failed login in the window, the limit)")
        retry_after(response, 1)
        await anyio.sleep(1.1)
        await login(client, BEN)


@pytest.mark.exercise("8.5", points=1)
async def test_failures_count_for_any_address_across_instances(lab: LabFactory) -> None:
    """With BOOKLY_LOGIN_ATTEMPTS=3, failed logins count per address whether it has an account or not, and on every
    instance of the app together: two failures for nobody@example.com on instance A and one on B → the next
    attempt on A → 429, the same answer a registered address gets."""
    env = {"BOOKLY_LOGIN_ATTEMPTS": "3", "BOOKLY_LOGIN_WINDOW_SECONDS": "60"}
    async with lab(env=env) as first, lab(env=env) as second:
        await fail_logins(first, "nobody@example.com", 2)
        await fail_logins(second, "nobody@example.com", 1)
        response = await try_login(first, "nobody@example.com", "wrong-password-1")
        expect_status(response, 429, "(3 failed logins for this address, on two instances)")
        retry_after(response, 60)
