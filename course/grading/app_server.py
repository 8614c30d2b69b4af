"""Inside a sandbox: load the learner's lab and serve it on a unix socket.

This runs after ``sandbox.enter``, so the learner's code is imported here for the
first time, with no network, no secrets and its own limits.
"""

from __future__ import annotations

import uvicorn

from ..harness import create_app
from ..statements import StatementCounter


def run(lesson: str, socket_path: str) -> None:
    app = StatementCounter(create_app(lesson, fresh=False))
    config = uvicorn.Config(app, uds=socket_path, lifespan="on", log_level="warning", access_log=False)
    uvicorn.Server(config).run()
