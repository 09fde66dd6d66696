"""The Prefect adapters a process that runs flows may apply (the runner's, later a worker's).

Three small changes to Prefect's behaviour, each with a fallback to Prefect's own code when the
function it wraps changes: a sync flow stops its heartbeat thread on exit without waiting ~1 s
for it; the runner starts flow processes by forking a server that has Prefect imported; and a
process builds the TLS context of its Prefect API clients once, not once per client. Nothing is
patched when a flow module is imported: `python -m flows.serve` calls
`install(forked_starts=True)`, and each forked flow process installs the other two.
`PATTERNLAB_TUNING=off` turns them off; outside VERIFIED_PREFECT they stay off. The runner logs
each adapter that is off once (`report_off`) and publishes their states in a Prefect Variable
(`publish`), which the lab's backend status, pages and benchmark read. Figures:
docs/performance.md.
"""

from __future__ import annotations

import functools
import inspect
import logging
import multiprocessing
import os
import runpy
import socket
import ssl
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from flows.settings import FlowSettings, get_flow_settings

_log = logging.getLogger("flows.adapters")
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


# --- adapters -------------------------------------------------------------------------------

# The Prefect versions these adapters were verified on (tests/test_tuning.py): each wraps a
# private function, which any release may change. Outside this range both stay off and
# Prefect's own code runs. Widen it only after the tests pass on the new version.
VERIFIED_PREFECT = "==3.9.1"
ADAPTERS = ("heartbeat_exit", "forked_starts", "shared_tls")
RUNNER_VARIABLE = "patternlab-runner"  # the Prefect Variable the runner publishes itself in

_installed: dict[str, bool] = {}
_off_reasons: dict[str, str] = {}
_reported: set[str] = set()
_install_lock = threading.Lock()


def install(
    settings: FlowSettings | None = None, *, forked_starts: bool = False
) -> dict[str, bool]:
    """Install the adapters in this process (once each); say which ones are active.

    forked_starts: this process starts flow processes (a runner): fork them from a preloaded
    server. The heartbeat adapter applies to the flows this process runs itself.
    """
    s = settings or get_flow_settings()
    with _install_lock:
        if not s.tuning:
            return {}
        wanted = {"heartbeat_exit": _patch_heartbeat_exit, "shared_tls": _patch_client_tls}
        if forked_starts:
            wanted["forked_starts"] = _patch_engine_starts
        for name, patch in wanted.items():
            if name in _installed:
                continue
            reason = _version_reason() or patch()
            _installed[name] = reason is None
            if reason is not None:
                _off_reasons[name] = reason
        return dict(_installed)


def _prefect_version() -> str:
    """Return the installed Prefect's version."""
    from importlib.metadata import version

    return version("prefect")


def _version_reason() -> str | None:
    """Say why the adapters must stay off for this Prefect version (None when verified)."""
    from packaging.specifiers import SpecifierSet

    found = _prefect_version()
    if found in SpecifierSet(VERIFIED_PREFECT):
        return None
    return f"Prefect {found} is not a version these adapters were verified on ({VERIFIED_PREFECT})"


def status(settings: FlowSettings | None = None) -> dict[str, str]:
    """Return each adapter's state in this process: "active", or "off: <why>"."""
    s = settings or get_flow_settings()
    out = {}
    for name in ADAPTERS:
        if not s.tuning:
            out[name] = "off: PATTERNLAB_TUNING=off (Prefect's defaults on purpose)"
        elif _installed.get(name):
            out[name] = "active"
        else:
            out[name] = f"off: {_off_reasons.get(name, 'not installed in this process')}"
    return out


def report_off(log: logging.Logger | None = None) -> list[str]:
    """Log, once per process, each adapter that fell back to Prefect's own code; return them."""
    lines = []
    for name, reason in sorted(_off_reasons.items()):
        if name in _reported:
            continue
        _reported.add(name)
        lines.append(f"Prefect adapter {name} is off: {reason}; Prefect's own code runs instead")
        (log or _log).warning(lines[-1])
    return lines


def publish(**facts: Any) -> dict[str, Any]:
    """Write this runner's adapters and settings to a Prefect Variable the lab reads back.

    flows/ cannot import the lab, and the lab cannot see into the runner's process: the
    Prefect server both talk to carries it. Returns what was written.
    """
    from prefect.variables import Variable

    value = {
        "adapters": status(),
        "prefect": _prefect_version(),
        "verified_prefect": VERIFIED_PREFECT,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        **facts,
    }
    Variable.set(RUNNER_VARIABLE, value, overwrite=True)
    return value


def _patch_heartbeat_exit() -> str | None:
    """Make sync flows stop their heartbeat thread on exit without joining it (no ~1 s wait).

    Returns None when the adapter is active, else why it is off.
    """
    try:
        from prefect import flow_engine
    except ImportError:
        return "prefect.flow_engine cannot be imported"
    original = getattr(flow_engine, "_send_heartbeats", None)
    if original is None:
        return "prefect.flow_engine._send_heartbeats no longer exists"
    if getattr(original, "_patternlab", False):
        return None
    try:
        if "join_on_exit" not in inspect.signature(original).parameters:
            return "prefect.flow_engine._send_heartbeats no longer takes join_on_exit"
    except (TypeError, ValueError):
        return "prefect.flow_engine._send_heartbeats has no readable signature"

    def _send_heartbeats(engine: Any, join_on_exit: bool = True) -> Any:
        # Prefect's async engine already skips the join; the thread is a daemon, stops at its
        # next 1 s tick and never beats for a final run, so skipping it is safe for sync too.
        return original(engine, join_on_exit=False)

    _send_heartbeats._patternlab = True  # type: ignore[attr-defined]
    _send_heartbeats.__wrapped__ = original  # type: ignore[attr-defined]
    flow_engine._send_heartbeats = _send_heartbeats
    return None


def _patch_client_tls() -> str | None:
    """Give every Prefect API client of this process one TLS context, built as Prefect builds it.

    Prefect's clients each build their own (`ssl.create_default_context` loading certifi's
    bundle, ~25 ms of CPU), and a flow process opens about ten: a third of a short flow
    process's CPU (py-spy, docs/performance.md). Prefect takes a ready SSLContext through the
    clients' documented `httpx_settings["verify"]`; the context is built from the same settings
    (PREFECT_API_TLS_INSECURE_SKIP_VERIFY, PREFECT_API_SSL_CERT_FILE or certifi), read again at
    each client, so a changed setting builds a new one. Returns None when active, else why not.
    """
    try:
        from prefect.client import orchestration
    except ImportError:
        return "prefect.client.orchestration cannot be imported"
    for cls in (orchestration.PrefectClient, orchestration.SyncPrefectClient):
        init = cls.__init__
        if getattr(init, "_patternlab", False):
            continue
        try:
            if "httpx_settings" not in inspect.signature(init).parameters:
                return f"{cls.__name__} no longer takes httpx_settings"
        except (TypeError, ValueError):
            return f"{cls.__name__}.__init__ has no readable signature"
        cls.__init__ = _with_shared_tls(init)
    return None


def _with_shared_tls(init: Any) -> Any:
    """Wrap a Prefect client's __init__: pass the process's TLS context unless one was given."""

    def __init__(self: Any, *args: Any, httpx_settings: dict | None = None, **kwargs: Any) -> None:
        settings = dict(httpx_settings or {})
        settings.setdefault("verify", client_tls_context())
        init(self, *args, httpx_settings=settings, **kwargs)

    __init__._patternlab = True  # type: ignore[attr-defined]
    __init__.__wrapped__ = init  # type: ignore[attr-defined]
    return __init__


def client_tls_context() -> ssl.SSLContext:
    """Return this process's TLS context for Prefect's API, from Prefect's settings now."""
    from prefect.settings import PREFECT_API_SSL_CERT_FILE, PREFECT_API_TLS_INSECURE_SKIP_VERIFY

    insecure = bool(PREFECT_API_TLS_INSECURE_SKIP_VERIFY.value())
    return _tls_context(insecure, None if insecure else PREFECT_API_SSL_CERT_FILE.value())


@functools.cache
def _tls_context(insecure: bool, cert_file: str | None) -> ssl.SSLContext:
    """Build the context exactly as Prefect's clients do (prefect/client/orchestration)."""
    if insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    import certifi

    return ssl.create_default_context(cafile=cert_file or certifi.where())


def _patch_engine_starts() -> str | None:
    """Start the runner's flow processes by forking a server that has Prefect imported.

    Returns None when the adapter is active, else why it is off.
    """
    try:
        from prefect.runner import _starter_engine
    except ImportError:
        return "prefect.runner._starter_engine cannot be imported"
    original = getattr(_starter_engine, "run_process", None)
    if original is None or not inspect.iscoroutinefunction(original):
        return "prefect.runner._starter_engine.run_process is gone or no longer a coroutine"
    # Prefect documents this module attribute as the way to override how runs start.
    _starter_engine.run_process = make_run_process(original)
    # Start the server now, in the background, so the first flow run does not pay for it.
    threading.Thread(target=_warm_forkserver, name="patternlab-forkserver", daemon=True).start()
    return None


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
    get_flow_settings.cache_clear()
    # This process runs a flow: no ~1 s wait for its heartbeat thread on exit, one TLS context.
    install()
    sys.argv = [ENGINE_MODULE]
    # run_path, not run_module: the module is loaded already, which run_module warns about.
    runpy.run_path(sys.modules[ENGINE_MODULE].__file__, run_name="__main__")


def active() -> dict[str, bool]:
    """Return the adapters installed in this process and whether each is active."""
    return dict(_installed)
