"""The base of every model in this app: one place to decide how values look on the wire."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, field_validator


class TradingModel(BaseModel):
    """Shared behaviour for request, response and stored models."""

    # Exercise 2.3: Make every datetime UTC with an explicit offset; naive ones are UTC already
