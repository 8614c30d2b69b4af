"""The access log: one JSON line per request, to a file or to the ``trading.access`` logger.

A JSON line is easy to search and to ship: a log platform reads each field without a parser
of its own. A real deployment writes to standard output and lets the platform collect it;
the course writes to a file (TRADING_ACCESS_LOG) that the lesson and the checks read.
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger("trading.access")


@dataclass(frozen=True)
class AccessLog:
    path: Path | None = None

    def write(self, entry: dict[str, Any]) -> None:
        """Append ``entry`` as one line of JSON."""
        line = json.dumps(entry, separators=(",", ":"))
        if self.path is None:
            logger.info(line)
            return
        # One short append per request; the file is opened in append mode, so lines never interleave mid-line.
        with self.path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")
