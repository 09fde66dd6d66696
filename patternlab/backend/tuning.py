"""Every tuning the lab applies to Prefect, why, what it bought, and its fallback.

Settings reach the server and the runner as environment (`server_env`, `runner_env`); flow
processes inherit the runner's. The three adapters live with the flows (flows/adapters.py): the
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
        "runner poll 0.2 s", "runner (PATTERNLAB_RUNNER_POLL_S -> Runner(query_seconds=))",
        "Prefect's runner looks for scheduled runs every 10 s; every pick-up waited ~5 s",
        "pick-up (Scheduled -> Pending) 3.5-5.8 s -> 0.10 s median (0.64 s at a 1 s poll); "
        "costs 4.6 poll requests/s and ~13 % of a core on the server at idle (1/s, ~5 % at 1 s)",
        "a documented Runner argument (a float); PREFECT_RUNNER_POLL_FREQUENCY is an int",
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
        "one TLS context per process", "flows, runner, workers (adapter)",
        "each Prefect client loads certifi's CA bundle into a new SSLContext (~25 ms of CPU), and "
        "a flow process opens about ten: a third of a deployment child's CPU (py-spy)",
        "deployment children's CPU 32.0 -> 26.7 s for 64 (fan-out at limit 4)",
        "built from Prefect's own TLS settings; if the clients lose httpx_settings, Prefect's kept",
    ),
    Tuning(
        "flow processes forked from a preloaded server", "runner (adapter)",
        "each flow run was a fresh `python -m prefect.engine` importing Prefect (~1.4 s idle)",
        "process start (Pending -> Running) 1.7-2.2 s -> 0.5-0.7 s for every runner-started run",
        "if the starter's run_process changes, or forking fails, Prefect's own start is used",
    ),
    Tuning(
        "6 database connections kept", "server (PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE)",
        "with 3, a fan-out's bursts opened and closed PostgreSQL backends (type introspection, "
        "cold statement caches); each kept one is a process, so shared_buffers is 32 MB",
        "PostgreSQL CPU for 64 deployment children 19.9 -> 5.3 s; lab RSS 885.8 MB",
        "a documented Prefect setting; bursts still open up to 10 more connections",
    ),
    Tuning(
        "no version or CSRF handshake per client", "runner, flow processes (embedded server only)",
        "each new Prefect client asked the lab's own server for its version and a CSRF token",
        "~5 of a deployment child's ~33 requests gone (82 of 746 for 16 children)",
        "PREFECT_CLIENT_* settings; against PREFECT_API_URL, Prefect's handshakes are kept",
    ),
    Tuning(
        "worker poll 0.5 s", "pool workers (PREFECT_WORKER_QUERY_SECONDS)",
        "Prefect's worker asks for scheduled runs every 10 s; every pool pick-up waited ~5 s",
        "pick-up (Scheduled -> Pending) 0.2-1.2 s at a 0.5 s poll, for 1.5-1.9 API requests/s idle",
        "a supported float setting; Prefect's 10 s poll without it",
    ),
    Tuning(
        "pool flow processes forked, no workspace supervisor", "pool workers (adapter + command)",
        "a stock process worker starts a supervisor, then execs a second interpreter (~5-10 s)",
        "process start (Pending -> Running) 9.95 s -> 1.99 s stock vs forked, same worker and load",
        "the pool's `command` is `python -m prefect.engine`; without the adapter it just runs it",
    ),
)  # fmt: skip


SERVER_DB_POOL = 6  # database connections the tuned server keeps open (Prefect: 5; 3 churned)
# The clients of the embedded runner and its flow processes talk to the lab's own server, started
# from the same installation with CSRF protection off: each new client would otherwise ask it for
# its version and for a CSRF token first (~5 of a deployment child's ~33 requests).
EMBEDDED_CLIENT_ENV = {
    "PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED": "false",
    "PREFECT_CLIENT_CSRF_SUPPORT_ENABLED": "false",
}


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
        env["PREFECT_SERVER_CSRF_PROTECTION_ENABLED"] = "false"  # its clients ask no token
        if settings.db == "postgres":
            # 3 kept connections made a fan-out open and close PostgreSQL backends all the time
            # (PostgreSQL 19.9 -> 5.3 CPU-s for 64 children with more); 6, with 32 MB of shared
            # buffers, keeps the lab's RSS at 885.8 MB (8: 927.7). docs/performance.md.
            env["PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE"] = str(SERVER_DB_POOL)
    return env


def runner_env(settings: LabSettings) -> dict[str, str]:
    """Return the environment of the embedded runner, inherited by the flow processes it starts."""
    if not settings.tuning:
        # Prefect's own defaults, read from Prefect so a new version's defaults are honoured.
        default_poll = _prefect_default_poll_s()
        return {
            "PATTERNLAB_TUNING": "off",
            "PREFECT_RUNNER_POLL_FREQUENCY": str(default_poll),
            "PATTERNLAB_RUNNER_POLL_S": str(default_poll),
            "PATTERNLAB_CHILD_POLL_S": str(_run_deployment_default_poll_s()),
        }
    env = {
        "PATTERNLAB_TUNING": "on",
        # Prefect's default 10 s pick-up would dominate every hand-off the lab measures. The
        # setting is an int; flows/serve.py hands the float to the Runner as query_seconds.
        "PREFECT_RUNNER_POLL_FREQUENCY": str(max(1, round(settings.runner_poll_s))),
        "PATTERNLAB_RUNNER_POLL_S": f"{settings.runner_poll_s:g}",
        "PATTERNLAB_CHILD_POLL_S": str(settings.child_poll_s),
    }
    if settings.embedded:
        env |= EMBEDDED_CLIENT_ENV
    return env


def worker_env(settings: LabSettings) -> dict[str, str]:
    """Return the environment of the embedded pool workers (and so of their flow processes)."""
    env = runner_env(settings) | {"PATTERNLAB_POOL": settings.pool}
    del env["PREFECT_RUNNER_POLL_FREQUENCY"]  # a runner setting: workers have their own poll
    if settings.tuning:
        env["PREFECT_WORKER_QUERY_SECONDS"] = str(settings.worker_poll_s)
    return env


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
