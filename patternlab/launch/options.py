"""The bounds of a launch's options (no Prefect import: the Launch page's form reads them)."""

from __future__ import annotations

from typing import Literal

Order = Literal["sequential", "together"]
ORDERS: tuple[Order, ...] = ("sequential", "together")
MAX_REPEAT = 10  # runs of each pattern in one launch
MAX_CHILD_LIMIT = 16  # the deployments fan-out's child concurrency limit
