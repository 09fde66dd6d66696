"""The flows' own settings, read from the environment of the process that runs them.

A runner or worker host needs only these; the lab's settings (patternlab/settings.py) build on
them, so the one set of variable names serves both.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.catalog import Source


class FlowSettings(BaseSettings):
    """What the flows read: GitHub, the snapshot, polls and windows (names in the README)."""

    model_config = SettingsConfigDict(env_prefix="PATTERNLAB_", extra="ignore")

    source: Source = "auto"
    snapshot_latency_ms: int = Field(default=0, ge=0, le=60_000)
    github_timeout_s: float = Field(default=10.0, gt=0, le=120)
    github_api_url: str = Field(
        default="https://api.github.com",
        validation_alias=AliasChoices("GITHUB_API_URL", "github_api_url"),
    )
    github_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GITHUB_TOKEN", "github_token")
    )
    child_poll_s: float = Field(default=0.25, gt=0, le=30)
    # The runner's poll for scheduled runs, in seconds (a float: Prefect's Runner takes one);
    # None: Prefect's own PREFECT_RUNNER_POLL_FREQUENCY (an int, 10 s by default).
    runner_poll_s: float | None = Field(default=None, ge=0.05, le=60)
    # An existing Dask scheduler for monoflow's Dask variant; empty: a LocalCluster per run.
    dask_address: str = Field(default="", pattern=r"^$|^(tcp|tls)://[A-Za-z0-9.\[\]:-]+:[0-9]+$")
    alert_window_s: int = Field(default=10, ge=10, le=3600)
    # Off: Prefect's defaults everywhere, adapters included (the benchmark's "stock" backend).
    tuning: bool = True
    # Pool execution (flows/pool.py, flows/worker.py): the work pool, the workers' poll (Prefect's
    # PREFECT_WORKER_QUERY_SECONDS, default 10 s), and how long a Running run may go without a
    # heartbeat before the zombie automation marks it Crashed (Prefect's docs use 90 s).
    pool: str = Field(default="lab-process", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")
    worker_poll_s: float = Field(default=0.5, gt=0, le=60)
    zombie_window_s: int = Field(default=90, ge=45, le=3600)

    def token(self) -> str | None:
        """Return the GitHub token (read from this process's environment; never a parameter)."""
        return self.github_token.get_secret_value() if self.github_token else None


@lru_cache(maxsize=1)
def get_flow_settings() -> FlowSettings:
    """Return this process's flow settings (read once)."""
    return FlowSettings()
