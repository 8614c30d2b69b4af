"""The browser transport: the access token in a cookie, and a CSRF token beside it.

A browser sends cookies with every request to the site, also when another site's page makes
the request: that is cross-site request forgery (CSRF). So a request that changes something
and is authenticated by cookie must also carry the CSRF token in a header. A page of this
site can read the CSRF cookie and copy it into ``X-CSRF-Token``; a page of another site cannot
(the double-submit cookie pattern).
"""

import secrets

from fastapi import Response

SESSION_COOKIE = "bookly_session"
CSRF_COOKIE = "bookly_csrf"
CSRF_HEADER = "X-CSRF-Token"
# Methods that change nothing: they need no CSRF token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def set_session_cookies(response: Response, token: str, max_age: int) -> None:
    """Put the access token in the session cookie, and a new CSRF token in a cookie a script may read."""
    # Exercise 7.4: Set the session cookie (HttpOnly, Secure, SameSite) and a CSRF cookie scripts can read
    raise NotImplementedError('Exercise 7.4: Set the session cookie (HttpOnly, Secure, SameSite) and a CSRF cookie scripts can read')


def clear_session_cookies(response: Response) -> None:
    """Tell the browser to drop both cookies."""
    response.delete_cookie(SESSION_COOKIE, httponly=True, secure=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, secure=True, samesite="lax")
