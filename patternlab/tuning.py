"""Every tuning the lab applies to Prefect, why, what it bought, and its fallback.

Settings reach the server and the runner as environment (`server_env`, `runner_env`); flow
processes inherit the runner's. Two small adapters load in the runner and its flow processes
through `install_adapters()` (called by flows/tasks.py). `PATTERNLAB_TUNING=off` turns all of it
off, which is how the benchmark runs Prefect's defaults. Figures: docs/performance.md.
"""

from __future__ import annotations

import inspect
import logging
import multiprocessing
import os
import runpy
import sys
import threading
from dataclasses import dataclass
from typing import Any

from patternlab.settings import LabSettings, get_settings

_log = logging.getLogger("patternlab.tuning")
ENGINE_MODULE = "prefect.engine"  # the runner starts each flow run as `python -m prefect.engine`
# Imported once in the fork server, not in every flow process. Besides the engines, what Prefect
# imports lazily on first use (py-spy in the flow processes, docs/performance.md): fastapi's
# encoder when a subflow's parameters are serialised (~0.2 s), the visualisation tracker at a
# subflow call, the task engine at the first task call.
PRELOADED = (
    ENGINE_MODULE,
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.utilities.visualization",
    "fastapi.encoders",
)


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
    return {"PREFECT_SERVER_LOG_RETRYABLE_ERRORS": "true"}


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


# --- adapters -------------------------------------------------------------------------------

_installed: dict[str, bool] = {}
_install_lock = threading.Lock()


def install_adapters(settings: LabSettings | None = None) -> dict[str, bool]:
    """Install the lab's Prefect adapters in this process (once); say which ones are active."""
    s = settings or get_settings()
    with _install_lock:
        if not s.tuning:
            return {}
        if "heartbeat_exit" not in _installed:
            _installed["heartbeat_exit"] = _patch_heartbeat_exit()
        if "forked_starts" not in _installed and _is_lab_runner(s):
            _installed["forked_starts"] = _patch_engine_starts()
        return dict(_installed)


def _is_lab_runner(s: LabSettings) -> bool:
    """Say whether this process is the lab's runner (`python -m <runner_module>`)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == s.runner_module


def _patch_heartbeat_exit() -> bool:
    """Make sync flows stop their heartbeat thread on exit without joining it (no ~1 s wait)."""
    try:
        from prefect import flow_engine
    except ImportError:
        return False
    original = getattr(flow_engine, "_send_heartbeats", None)
    if original is None or getattr(original, "_patternlab", False):
        return original is not None
    try:
        if "join_on_exit" not in inspect.signature(original).parameters:
            return False
    except (TypeError, ValueError):
        return False

    def _send_heartbeats(engine: Any, join_on_exit: bool = True) -> Any:
        # Prefect's async engine already skips the join; the thread is a daemon, stops at its
        # next 1 s tick and never beats for a final run, so skipping it is safe for sync too.
        return original(engine, join_on_exit=False)

    _send_heartbeats._patternlab = True  # type: ignore[attr-defined]
    _send_heartbeats.__wrapped__ = original  # type: ignore[attr-defined]
    flow_engine._send_heartbeats = _send_heartbeats
    return True


def _patch_engine_starts() -> bool:
    """Start the runner's flow processes by forking a server that has Prefect imported."""
    try:
        from prefect.runner import _starter_engine
    except ImportError:
        return False
    original = getattr(_starter_engine, "run_process", None)
    if original is None or not inspect.iscoroutinefunction(original):
        return False
    # Prefect documents this module attribute as the way to override how runs start.
    _starter_engine.run_process = make_run_process(original)
    # Start the server now, in the background, so the first flow run does not pay for it.
    threading.Thread(target=_warm_forkserver, name="patternlab-forkserver", daemon=True).start()
    return True


def make_run_process(original: Any) -> Any:
    """Wrap Prefect's run_process: fork the engine command, pass anything else through."""

    async def run_process(command: list[str], *args: Any, **kwargs: Any) -> Any:
        if args or not _is_engine_command(command) or set(kwargs) - _FORKABLE_KWARGS:
            return await original(command, *args, **kwargs)
        return await _run_forked(original, command, **kwargs)

    run_process.__wrapped__ = original  # type: ignore[attr-defined]
    return run_process


_FORKABLE_KWARGS = frozenset({"stream_output", "task_status", "task_status_handler", "env", "cwd"})


def _is_engine_command(command: list[str]) -> bool:
    """Say whether a command is the runner's `<python> -m prefect.engine`."""
    return len(command) == 3 and command[1:] == ["-m", ENGINE_MODULE]


def _forkserver() -> Any:
    """Return the forkserver context, preloading Prefect's engine and the served flows' modules."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([*PRELOADED, __name__, *_flow_modules()])
    return ctx


def _flow_modules() -> list[str]:
    """Return the modules the runner's main module imported from its own package."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    main = getattr(spec, "name", None) or ""
    package = main.partition(".")[0]
    # Not the main module itself: each child runs it afresh as __mp_main__ (cheap once its
    # imports are loaded), and a preloaded copy would make runpy warn in every child.
    return sorted(
        n for n in list(sys.modules) if package and n.startswith(package + ".") and n != main
    )


def _warm_forkserver() -> None:
    """Start the fork server (imports happen there once, not in every flow process)."""
    try:
        from multiprocessing import forkserver

        _forkserver()
        forkserver.ensure_running()
    except Exception:  # noqa: BLE001 - the first run starts it instead, or falls back
        _log.warning("Could not start the fork server ahead of time", exc_info=True)


async def _run_forked(original: Any, command: list[str], **kwargs: Any) -> Any:
    """Run the engine in a forked process; fall back to Prefect's own start if forking fails."""
    import anyio

    env = {k: v for k, v in (kwargs.get("env") or os.environ).items() if v is not None}
    cwd = str(kwargs.get("cwd") or os.getcwd())
    try:
        process = _forkserver().Process(target=engine_main, args=(env, cwd), name="flow-run")
        await anyio.to_thread.run_sync(process.start)
    except Exception:  # noqa: BLE001 - any failure to fork: start the usual way
        _log.warning("Forked start failed; starting %s the usual way", ENGINE_MODULE, exc_info=True)
        return await original(command, **kwargs)
    handler = kwargs.get("task_status_handler")
    task_status = kwargs.get("task_status")
    if task_status is not None:
        task_status.started(handler(process) if handler else process)
    await anyio.to_thread.run_sync(process.join)
    return process


def engine_main(env: dict[str, str], cwd: str) -> None:
    """Run what `python -m prefect.engine` runs, in this (forked) process, with the given env."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    import prefect.engine  # noqa: F401 - preloaded by the fork server; imported if not
    from prefect.context import refresh_global_settings_context

    # Settings were read when the fork server imported Prefect: read them again from this env.
    refresh_global_settings_context()
    get_settings.cache_clear()
    sys.argv = [ENGINE_MODULE]
    # run_path, not run_module: the module is loaded already, which run_module warns about.
    runpy.run_path(sys.modules[ENGINE_MODULE].__file__, run_name="__main__")


def active_adapters() -> dict[str, bool]:
    """Return the adapters installed in this process and whether each is active."""
    return dict(_installed)
