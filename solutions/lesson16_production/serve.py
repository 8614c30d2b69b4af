"""Serve the API with several worker processes: ``python -m labs.lesson16_production.serve --workers 2``.

What must happen before the workers start, happens here, once:

- ``PROMETHEUS_MULTIPROC_DIR`` is set (the workers inherit it) and emptied: files left by the
  previous run would be added to this run's counts;
- each worker then runs the app's lifespan, and marks itself dead as it stops.
"""

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import uvicorn


def prepare_metrics_directory() -> Path:
    """The multiprocess directory, new and empty; from PROMETHEUS_MULTIPROC_DIR if set."""
    directory = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or Path(tempfile.gettempdir()) / "store-metrics")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--uds", default=None, help="a unix socket to listen on instead of host:port")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--graceful-seconds", type=float, default=10)
    options = parser.parse_args()
    prepare_metrics_directory()
    uvicorn.run(
        "labs.lesson16_production.app:create_app",
        factory=True,
        host=options.host,
        port=options.port,
        uds=options.uds,
        workers=options.workers,
        # On SIGTERM: stop accepting, let requests in flight finish for this long, then run the lifespan's end.
        timeout_graceful_shutdown=options.graceful_seconds,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
