"""Run Prefect's own process worker on the lab's work pool, with the lab's adapters applied.

python -m flows.worker [--pool NAME] [--name NAME] [other `prefect worker start` options]

A thin wrapper around `prefect worker start --type process`: it runs the flows' adapters in the
worker (flow processes forked from a preloaded server; no heartbeat wait on exit), makes the
flow processes send heartbeats every 30 s (the pool's zombie automation watches them), sets the
worker's poll (PATTERNLAB_WORKER_POLL_S -> Prefect's PREFECT_WORKER_QUERY_SECONDS), waits for
the API, and creates the pool if it is missing. Needs PREFECT_API_URL (and
PREFECT_API_AUTH_STRING for a server with basic auth) and this project importable: run it from
the project's folder, or with the project on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from pathlib import Path

from flows.settings import FlowSettings, get_flow_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the folder holding flows/
HEARTBEAT_S = "30"  # Prefect's minimum; the zombie automation allows 90 s (docs) of silence


def default_name(n: int = 1) -> str:
    """Return a worker name that says which host it runs on (Prefect records no host)."""
    return f"{socket.gethostname()}-{n}".replace("/", "-").replace("%", "-")


def prepare_environment(settings: FlowSettings, env: dict[str, str] | None = None) -> None:
    """Set what the worker and its flow processes read, before Prefect is imported."""
    env = os.environ if env is None else env
    # `python -m prefect.engine` (the pool's command) must be this interpreter, and `flows`
    # importable from the flow process's temporary working folder.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", HEARTBEAT_S)
    if settings.tuning:  # Prefect's default poll is 10 s: every pick-up would wait ~5 s
        env.setdefault("PREFECT_WORKER_QUERY_SECONDS", str(settings.worker_poll_s))


def _arguments(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """Parse our options; everything else goes to `prefect worker start`."""
    settings = get_flow_settings()
    parser = argparse.ArgumentParser(
        prog="python -m flows.worker", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--pool", default=settings.pool, help="work pool (PATTERNLAB_POOL)")
    parser.add_argument("--name", default=default_name(), help="worker name (<hostname>-1)")
    parser.add_argument("--api-wait-s", type=float, default=180.0, help="wait for the API (s)")
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start Prefect's process worker on the pool (until SIGTERM or Ctrl-C)."""
    args, extra = _arguments(argv)
    # Started as a background job, a process inherits SIGINT ignored; Prefect stops its worker
    # on SIGTERM by sending itself SIGINT, which would then be ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    prepare_environment(get_flow_settings())
    from prefect.cli import app
    from prefect.client.orchestration import get_client

    from flows import adapters
    from flows.pool import ensure_pool  # imports the flows: the fork server preloads them
    from flows.serve import wait_for_api

    adapters.install(forked_starts=True)  # this process starts the flow processes
    adapters.report_off()  # an adapter Prefect's changes turned off says so, once
    error = wait_for_api(args.api_wait_s)
    if error is not None:
        raise SystemExit(f"The Prefect API did not answer within {args.api_wait_s:.0f} s "
                         f"({type(error).__name__}: {error}).")  # fmt: skip
    with get_client(sync_client=True) as client:
        ensure_pool(client, args.pool)  # with the engine command, not Prefect's stock template
    sys.argv = ["prefect", "worker", "start", "--pool", args.pool, "--type", "process",
                "--name", args.name, *extra]  # fmt: skip
    app()


if __name__ == "__main__":
    main()
