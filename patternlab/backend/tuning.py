"""Every tuning the lab applies to Prefect, why, what it bought, and its fallback.

Settings reach the server and the runner as environment (`server_env`, `runner_env`); flow
processes inherit the runner's. The two adapters live with the flows (flows/adapters.py): the
runner applies them. `PATTERNLAB_TUNING=off` turns all of it off, which is how the benchmark runs
Prefect's defaults. Figures: docs/performance.md.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from patternlab.settings import LabSettings


@dataclass(frozen=True)
class Tuning:
    """One tuning: where it applies, why, what it bought, and what happens without it."""

    name: str
    where: str
    why: str
    bought: str
    fallback: str


TUNINGS: tuple[Tuning, ...] = (
    Tuning(
        "PostgreSQL, not SQLite", "server (PATTERNLAB_DB=postgres)",
        "SQLite serialises writers: concurrent runs get 503 'database is locked', retried later",
        "20 concurrent subflows launches: 0 lock retries, 27.5 s (SQLite: 82 retries, 83.6 s)",
        "PATTERNLAB_DB=sqlite runs Prefect's default database",
    ),
    Tuning(
        "runner poll 1 s", "runner (PREFECT_RUNNER_POLL_FREQUENCY)",
        "Prefect's runner looks for scheduled runs every 10 s; every pick-up waited ~5 s",
        "pick-up (Scheduled -> Pending) 3.5-5.8 s -> 0.3-0.6 s per runner-started run",
        "a supported setting; an unknown name is ignored and Prefect polls every 10 s",
    ),
    Tuning(
        "run_deployment poll 0.25 s", "flows (PATTERNLAB_CHILD_POLL_S)",
        "run_deployment checks its child every 5 s, so the parent noticed the child's end late",
        "deployments: parent ends 3.3 s -> 0.27 s after its child",
        "a documented run_deployment argument",
    ),
    Tuning(
        "no heartbeat wait on exit", "flows (adapter)",
        "a sync flow joins its heartbeat thread on exit, and that thread sleeps in 1 s steps",
        "subflow call 954 ms -> 216-283 ms; up to 1 s off every flow run's exit",
        "if prefect.flow_engine._send_heartbeats loses join_on_exit, Prefect's own is kept",
    ),
    Tuning(
        "flow processes forked from a preloaded server", "runner (adapter)",
        "each flow run was a fresh `python -m prefect.engine` importing Prefect (~1.4 s idle)",
        "process start (Pending -> Running) 1.7-2.2 s -> 0.5-0.7 s for every runner-started run",
        "if the starter's run_process changes, or forking fails, Prefect's own start is used",
    ),
)  # fmt: skip


def server_env(settings: LabSettings) -> dict[str, str]:
    """Return the environment of the embedded Prefect server (tuned or stock alike)."""
    # Not a tuning, an instrument: Prefect 3.9 hides the SQLite lock errors it answers with 503;
    # logged, the benchmark can count them. The reactive trigger acts ~0.1 s after the event
    # with Prefect's defaults (no service loop sits on that path), so nothing else is changed.
    env = {"PREFECT_SERVER_LOG_RETRYABLE_ERRORS": "true"}
    if settings.tuning:
        # A run refused a deployment concurrency slot (the deployments fan-out under its limit)
        # is retried this much later: Prefect's 30 s would leave slots idle between waves.
        env["PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS"] = "1"
    return env


def runner_env(settings: LabSettings) -> dict[str, str]:
    """Return the environment of the embedded runner, inherited by the flow processes it starts."""
    if not settings.tuning:
        # Prefect's own defaults, read from Prefect so a new version's defaults are honoured.
        return {
            "PATTERNLAB_TUNING": "off",
            "PREFECT_RUNNER_POLL_FREQUENCY": str(_prefect_default_poll_s()),
            "PATTERNLAB_CHILD_POLL_S": str(_run_deployment_default_poll_s()),
        }
    return {
        "PATTERNLAB_TUNING": "on",
        # Prefect's default 10 s pick-up would dominate every hand-off the lab measures.
        "PREFECT_RUNNER_POLL_FREQUENCY": str(settings.runner_poll_s),
        "PATTERNLAB_CHILD_POLL_S": str(settings.child_poll_s),
    }


def _prefect_default_poll_s() -> int:
    """Return Prefect's default runner poll interval (10 s when it cannot be read)."""
    try:
        from prefect.settings.models.runner import RunnerSettings

        return int(RunnerSettings.model_fields["poll_frequency"].default)
    except (ImportError, KeyError, TypeError, ValueError):
        return 10


def _run_deployment_default_poll_s() -> float:
    """Return run_deployment's default poll interval (5 s when it cannot be read)."""
    try:
        from prefect.deployments import run_deployment

        default = inspect.signature(run_deployment).parameters["poll_interval"].default
        return float(default)
    except (ImportError, KeyError, TypeError, ValueError):
        return 5.0
