"""Run the lab's own Prefect backend: PostgreSQL, the Prefect server and the runner."""

from __future__ import annotations

import contextlib
import functools
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import httpx

from flows.catalog import ENTRY_DEPLOYMENTS
from patternlab.backend import pool, postgres, procs
from patternlab.backend.parts import PROJECT_ROOT, await_part, launch_part
from patternlab.backend.status import (
    SERVER_MARKERS,
    BackendConfigError,
    BackendError,
    BackendStatus,
    _get,
    _remote_status,
    _server_healthy,
    api_url,
    backend_status,
    connect_host,
)
from patternlab.backend.tuning import runner_env, server_env
from patternlab.settings import LabSettings, get_settings

__all__ = ["PROJECT_ROOT", "ensure_backend", "stop_backend"]
# A runner counts as registered once it has re-applied this deployment since its start, then polled.
PROBE_DEPLOYMENT = ENTRY_DEPLOYMENTS["monoflow"]
SERVER_TIMEOUT_S = 60.0  # a fresh database migrates for ~7 s; a loaded machine needs slack
SQLITE_SERVER_TIMEOUT_S = 120.0  # SQLite migrates slower: 14-43 s measured on a busy machine
RUNNER_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
LOCK_TIMEOUT_S = 120.0  # longer than a full start, so a waiting caller sees the other one finish

Progress = Callable[[str], None]


def ensure_backend(
    settings: LabSettings | None = None, *, progress: Progress | None = None
) -> BackendStatus:
    """Start what the embedded backend is missing, or check that the remote server answers."""
    s = settings or get_settings()
    say = progress or (lambda _line: None)
    if not s.embedded:
        status = _remote_status(s, timeout=5.0)
        if not status.server_up:
            raise BackendError(status.message)
        return status
    _check_exposure(s)  # before anything: a server open to other hosts needs auth
    home = procs.Home(s.home)
    home.create()
    with _locked(home):
        # Check the port first: failing before PostgreSQL starts leaves nothing behind.
        if procs.owned_pid(home.server_pid, SERVER_MARKERS) is None:
            _check_port_free(s)
        if s.db == "postgres":
            _ensure_postgres(home, say)
        server = _ensure_server(s, home, say)
        if s.execution == "pool":
            _stop_runner(s, home)  # it would run the pool's deployments too
            pool.ensure_pool_execution(s, home, say, server)
        else:
            pool.stop_workers(s, home)  # switched back from pool mode
            if server is None:  # reused: it answers
                _ensure_runner(s, home, say)
            else:
                _start_server_and_runner(s, home, server, say)
    return backend_status(s)


def _check_exposure(s: LabSettings) -> None:
    """Refuse to open the embedded server to other hosts without Prefect's basic auth."""
    if s.embedded and not s.loopback_only and s.auth_string() is None:
        raise BackendConfigError(
            f"PATTERNLAB_BIND={s.bind} would let other hosts reach the lab's Prefect server, "
            "which then needs a password: set PREFECT_API_AUTH_STRING=user:password (Prefect's "
            "basic auth; workers and the lab send the same string). Nothing was started."
        )


def _stop_runner(s: LabSettings, home: procs.Home) -> None:
    """Stop the runner if it runs (pool mode: workers run the deployments instead)."""
    pid = procs.owned_pid(home.runner_pid, (s.runner_module,))
    if pid is not None:
        procs.terminate_group(pid, STOP_TIMEOUT_S)
    home.runner_pid.unlink(missing_ok=True)


def _start_server_and_runner(
    s: LabSettings, home: procs.Home, server: procs.Starting, say: Progress
) -> None:
    """Wait for a starting server, with the runner's interpreter starting alongside it.

    A fresh server migrates its database for seconds: the runner's imports (~3 s) overlap that,
    and the runner waits for the API to answer before it registers (flows/serve.py).
    """
    runner = None
    if procs.owned_pid(home.runner_pid, (s.runner_module,)) is None:
        runner = _start_runner(s, home, say)
    try:
        await_part(server)
    except BackendError:
        if runner is not None:
            runner.abort(STOP_TIMEOUT_S)  # nothing half-started is left behind
        raise
    if runner is None:
        _ensure_runner(s, home, say)
        return
    try:
        await_part(runner)
    except BackendError:
        # A runner module that does not wait for the API may have given up before the server
        # answered: start it once more, now that the server does.
        await_part(_start_runner(s, home, lambda _line: None))


def stop_backend(settings: LabSettings | None = None) -> list[str]:
    """Stop the runner, the Prefect server and PostgreSQL, and say which ones were running."""
    s = settings or get_settings()
    home = procs.Home(s.home)
    if not s.embedded or not home.root.is_dir():
        return []
    stopped: list[str] = []
    with _locked(home):
        parts = (("runner", home.runner_pid, (s.runner_module,)),)
        parts += pool.worker_parts(home)
        parts += (("Prefect server", home.server_pid, SERVER_MARKERS),)
        for name, pid_file, markers in parts:
            pid = procs.owned_pid(pid_file, markers)
            if pid is not None:
                procs.terminate_group(pid, STOP_TIMEOUT_S)
                stopped.append(f"{name} (pid {pid})")
            pid_file.unlink(missing_ok=True)
        # Whatever the db setting says now: a PostgreSQL started earlier must not be left behind.
        pg_pid = postgres.stop_postgres(home.pgdata, STOP_TIMEOUT_S)
        if pg_pid is not None:
            stopped.append(f"PostgreSQL (pid {pg_pid})")
    return stopped


# --- embedded: shared -----------------------------------------------------------------------


@contextlib.contextmanager
def _locked(home: procs.Home) -> Iterator[None]:
    """Hold the home's backend lock, so one process at a time starts or stops the backend."""
    with procs.file_lock(home.lock, LOCK_TIMEOUT_S) as got:
        if not got:
            raise BackendError(
                f"Another Pattern Lab process has been starting or stopping the backend in "
                f"{home.root} for {LOCK_TIMEOUT_S:.0f} s; try again when it has finished."
            )
        yield


# --- embedded: PostgreSQL -------------------------------------------------------------------


def _ensure_postgres(home: procs.Home, say: Progress) -> None:
    """Start PostgreSQL on the home's data folder unless it runs; create the prefect database."""
    if postgres.postmaster_pid(home.pgdata) is not None:
        return
    say("Starting PostgreSQL…")
    try:
        postgres.start_postgres(home.pgdata, "prefect")
    except (OSError, subprocess.SubprocessError, AssertionError) as exc:
        log = home.pgdata / "log"
        raise BackendError(
            f"PostgreSQL did not start in {home.pgdata} ({exc}). Last lines of {log}:\n"
            f"{procs.log_tail(log)}"
        ) from exc


# --- embedded: Prefect server and runner ----------------------------------------------------


def _check_port_free(s: LabSettings) -> None:
    """Fail fast when something that is not the lab's server holds the port."""
    host = connect_host(s).strip("[]")
    if procs.port_in_use(s.port, host):
        raise BackendError(
            f"Port {s.port} on {host} is in use by another program (not this lab's Prefect "
            f"server). Stop that program, or set PATTERNLAB_PORT to a free port."
        )


def _ensure_server(s: LabSettings, home: procs.Home, say: Progress) -> procs.Starting | None:
    """Reuse the lab's Prefect server when it answers (None); otherwise start it."""
    pid = procs.owned_pid(home.server_pid, SERVER_MARKERS)
    if pid is not None:
        if procs.poll_until(lambda: _server_healthy(s), 10.0, interval=0.25):
            return None
        # Ours but not answering (hung, or moved to another port): start it afresh.
        procs.terminate_group(pid, STOP_TIMEOUT_S)
        _check_port_free(s)
    say("Starting Prefect server (first start migrates the database, ~10 s)…")
    if s.db == "postgres":
        db_url = f"postgresql+asyncpg://postgres@/prefect?host={postgres.socket_dir(home.pgdata)}"
    else:
        db_url = f"sqlite+aiosqlite:///{home.prefect / 'prefect.db'}"
    env = {
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": db_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": s.bind,
        "PREFECT_SERVER_API_PORT": str(s.port),
    }
    argv = f"-m prefect server start --host {s.bind} --port {s.port}".split()
    ready = functools.partial(_server_healthy, s)
    timeout = SERVER_TIMEOUT_S if s.db == "postgres" else SQLITE_SERVER_TIMEOUT_S
    return launch_part(s, home, "server", argv, env | server_env(s), ready, timeout)


def _runner_ready(s: LabSettings, since: float) -> bool:
    """Say whether a runner started at `since` has registered the probe deployment and polled."""
    answer = _get(f"{api_url(s)}/deployments/name/{PROBE_DEPLOYMENT}", 2.0, settings=s)
    if not isinstance(answer, httpx.Response) or answer.status_code != 200:
        return False
    # The deployment outlives its runner in the database, and the previous runner's last poll
    # can be a moment old: only a (re-)registration since the start, then a poll, count.
    found = answer.json()
    if not found.get("last_polled"):
        return False
    updated = datetime.fromisoformat(found["updated"]).timestamp()
    return updated >= since and datetime.fromisoformat(found["last_polled"]).timestamp() >= updated


def _ensure_runner(s: LabSettings, home: procs.Home, say: Progress) -> int:
    """Reuse the runner when it runs and has registered; otherwise (re)start it."""
    pid = procs.owned_pid(home.runner_pid, (s.runner_module,))
    if pid is not None:
        since = home.runner_pid.stat().st_mtime
        # Someone else re-applying the deployment resets the check until the runner's next poll.
        if procs.poll_until(lambda: _runner_ready(s, since), 2.0 * s.runner_poll_s + 2.0, 0.25):
            return pid
        # Alive but never registered: a start that was abandoned half-way, or a stuck runner.
        procs.terminate_group(pid, STOP_TIMEOUT_S)
    return await_part(_start_runner(s, home, say))


def _start_runner(s: LabSettings, home: procs.Home, say: Progress) -> procs.Starting:
    """Start the runner (`python -m <runner_module>`); it is ready once it has registered."""
    say("Starting runner…")
    env = {
        "PREFECT_API_URL": api_url(s),
        # The flows read the lab's settings too: give them this backend's, not the shell's.
        "PATTERNLAB_HOME": str(home.root),
        "PATTERNLAB_PORT": str(s.port),
        "PATTERNLAB_DB": s.db,
    }
    started = time.time()
    ready = functools.partial(_runner_ready, s, started)
    return launch_part(
        s, home, "runner", ["-m", s.runner_module], env | runner_env(s), ready, RUNNER_TIMEOUT_S
    )
