"""Which pages of other origins may call this API from a browser: the options of CORSMiddleware.

An origin is ``scheme://host[:port]``: ``http://localhost:5173`` and ``http://localhost:8000``
are two origins. A browser lets a page's script read a response from another origin only
if the response names the page's origin in ``Access-Control-Allow-Origin``; before a request
that a plain HTML form could not send (JSON, DELETE, a custom header), it asks first with a
*preflight*: ``OPTIONS`` with ``Origin``, ``Access-Control-Request-Method`` and
``Access-Control-Request-Headers``.
"""

from typing import Any

from .config import Settings
from .middleware import PROCESS_TIME_HEADER, REQUEST_ID_HEADER

# What the desk's web page uses: reads, new operations, deletions; JSON bodies and its own request ids.
ALLOWED_METHODS = ["GET", "POST", "DELETE"]
ALLOWED_HEADERS = ["Content-Type", REQUEST_ID_HEADER]
# Response headers a page's script may read besides the few safelisted ones (Content-Type, ...).
EXPOSED_HEADERS = [REQUEST_ID_HEADER, PROCESS_TIME_HEADER]


def cors_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``CORSMiddleware``: the origins from the settings, cookies included."""
    # BEGIN SOLUTION 12.2: Allow the configured origins, with credentials, only these methods and headers
    return {
        "allow_origins": settings.cors_origins,
        "allow_credentials": True,
        "allow_methods": ALLOWED_METHODS,
        "allow_headers": ALLOWED_HEADERS,
        "expose_headers": EXPOSED_HEADERS,
        "max_age": 600,
    }
    # STUB
    # return {}
    # END SOLUTION
