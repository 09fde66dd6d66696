"""What runs where: the backend's status, its URLs, its error type. Nothing is started here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import httpx

from patternlab.backend import postgres, procs
from patternlab.backend.published import adapter_states, read_runner_facts
from patternlab.backend.workers import local_workers
from patternlab.settings import LabSettings, get_settings

HOST = "127.0.0.1"
SERVER_MARKERS = ("prefect", "server")


class BackendError(Exception):
    """The backend cannot be started, reached or stopped; the message says what to do."""


class BackendConfigError(BackendError):
    """The settings ask for something the lab refuses to start (nothing was started)."""


@dataclass(frozen=True)
class BackendStatus:
    """What runs where, as one snapshot."""

    mode: Literal["embedded", "remote"]
    api_url: str
    ui_url: str
    server_up: bool
    runner_up: bool | None  # None when remote: the lab cannot see remote workers
    server_pid: int | None
    runner_pid: int | None
    postgres_up: bool | None  # None when remote or on SQLite
    db: str
    home: str | None
    message: str
    # Each Prefect adapter as the runner published it: "active" or "off: <why>" (None: no runner).
    adapters: dict[str, str] | None = None
    execution: str = "serve"  # serve: the runner; pool: workers on a work pool
    pool: str | None = None
    workers: list[dict[str, Any]] = field(default_factory=list)  # local workers: name, pid, up
    auth: bool = False  # the server requires Prefect's basic auth (the string is never shown)

    def to_dict(self) -> dict[str, Any]:
        """Return the status as a plain dict (JSON-ready)."""
        return asdict(self)


def connect_host(settings: LabSettings) -> str:
    """Return the address the lab reaches its embedded server at (loopback if bound to all)."""
    if settings.bind in ("0.0.0.0", "::"):
        return HOST
    return f"[{settings.bind}]" if ":" in settings.bind else settings.bind


def api_url(settings: LabSettings | None = None) -> str:
    """Return the Prefect API URL the lab talks to."""
    s = settings or get_settings()
    if s.prefect_api_url:
        return s.prefect_api_url.rstrip("/")
    return f"http://{connect_host(s)}:{s.port}/api"


def ui_url(settings: LabSettings | None = None) -> str:
    """Return the Prefect UI's base URL (PREFECT_UI_URL, else the API URL without /api)."""
    s = settings or get_settings()
    return (s.prefect_ui_url or api_url(s).removesuffix("/api")).rstrip("/")


def runner_alive(settings: LabSettings | None = None) -> bool:
    """Say from the runner's pid file alone, with no request, whether the embedded runner lives."""
    s = settings or get_settings()
    home = procs.Home(s.home)
    return procs.owned_pid(home.runner_pid, (s.runner_module,), clean=False) is not None


def backend_status(settings: LabSettings | None = None) -> BackendStatus:
    """Report what runs, quickly: pid checks and one short health request, no changes."""
    s = settings or get_settings()
    if not s.embedded:
        return _remote_status(s, timeout=0.8)
    home = procs.Home(s.home)
    server_pid = procs.owned_pid(home.server_pid, SERVER_MARKERS, clean=False)
    runner_pid = procs.owned_pid(home.runner_pid, (s.runner_module,), clean=False)
    postgres_up = None
    if s.db == "postgres":
        postgres_up = postgres.postmaster_pid(home.pgdata, clean=False) is not None
    server_up = server_pid is not None and _server_healthy(s, timeout=0.5)
    adapters = None
    if server_up and runner_pid is not None:
        adapters = adapter_states(read_runner_facts(api_url(s)), runner_pid)
    workers = local_workers(s, home)
    executor_up: bool | None = runner_pid is not None
    if s.execution == "pool":  # the workers run the flows; none local: they are remote
        executor_up = all(w.up for w in workers) if workers else None
    return BackendStatus(
        mode="embedded",
        api_url=api_url(s),
        ui_url=ui_url(s),
        server_up=server_up,
        runner_up=executor_up,
        server_pid=server_pid,
        runner_pid=runner_pid,
        postgres_up=postgres_up,
        db=s.db,
        home=str(home.root),
        message=_embedded_message(s, server_up, runner_pid, postgres_up),
        adapters=adapters,
        execution=s.execution,
        pool=s.pool if s.execution == "pool" else None,
        workers=[{"name": w.name, "pid": w.pid, "up": w.up} for w in workers],
        auth=s.auth_string() is not None,
    )


def _remote_status(s: LabSettings, timeout: float) -> BackendStatus:
    """Check the server at PREFECT_API_URL answers; start nothing."""
    url = api_url(s)
    answer = _get(f"{url}/health", timeout, local=False, settings=s)
    # Any answer below 500 is a live server (one behind auth may say 401 to an anonymous GET).
    up = isinstance(answer, httpx.Response) and answer.status_code < 500
    reason = f"HTTP {answer.status_code}" if isinstance(answer, httpx.Response) else answer
    message = (
        f"Using the Prefect server at {url} (PREFECT_API_URL)."
        if up
        else f"Prefect server at {url} is not answering ({reason}). Start it, or unset "
        "PREFECT_API_URL so the lab runs its own."
    )
    facts = read_runner_facts(url, timeout, local=False) if up else None
    return BackendStatus(
        mode="remote",
        api_url=url,
        ui_url=ui_url(s),
        server_up=up,
        runner_up=None,
        server_pid=None,
        runner_pid=None,
        postgres_up=None,
        db="remote",
        home=None,
        message=message,
        adapters=adapter_states(facts, None) if facts else None,
        execution=s.execution,
        pool=s.pool if s.execution == "pool" else None,
        auth=s.auth_string() is not None,
    )


def _request(
    method: str,
    url: str,
    timeout: float,
    *,
    local: bool = True,
    settings: LabSettings | None = None,
    **kwargs: Any,
) -> httpx.Response | str:
    """Send one request (with the lab's basic auth); return the response or a short reason."""
    secret = (settings or get_settings()).auth_string()
    auth = tuple(secret.split(":", 1)) if secret and ":" in secret else None
    try:
        # Loopback requests must not go through a proxy from the environment; remote ones may.
        return httpx.request(method, url, timeout=timeout, trust_env=not local, auth=auth, **kwargs)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _get(
    url: str, timeout: float, *, local: bool = True, settings: LabSettings | None = None
) -> httpx.Response | str:
    """GET a URL; return the response, or a short reason when there was none."""
    return _request("GET", url, timeout, local=local, settings=settings)


def _embedded_message(
    s: LabSettings, server_up: bool, runner_pid: int | None, postgres_up: bool | None
) -> str:
    """Say in one line how the embedded backend is doing."""
    if not server_up:
        return (
            "The lab's Prefect server is not running: `python -m patternlab backend up` starts it."
        )
    if postgres_up is False:
        return f"Prefect server at {api_url(s)} answers, but PostgreSQL is not running."
    db = "PostgreSQL" if s.db == "postgres" else "SQLite"
    if s.execution == "pool":
        workers = local_workers(s)
        down = [w.name for w in workers if not w.up]
        if down:
            return f"Prefect server at {api_url(s)} is up; worker(s) {', '.join(down)} stopped."
        where = f"{len(workers)} local worker(s)" if workers else "workers on other hosts"
        return (
            f"Embedded backend up: Prefect server at {api_url(s)} on {db}, work pool {s.pool} "
            f"run by {where}."
        )
    if runner_pid is None:
        return f"Prefect server at {api_url(s)} is up; the runner is not running, so runs wait."
    return f"Embedded backend up: Prefect server at {api_url(s)} on {db}, runner pid {runner_pid}."


def _server_healthy(s: LabSettings, timeout: float = 1.0) -> bool:
    """Say whether the lab's Prefect server answers its health check."""
    answer = _get(f"{api_url(s)}/health", timeout, settings=s)
    return isinstance(answer, httpx.Response) and answer.status_code == 200


def backend_pids(settings: LabSettings | None = None) -> dict[str, int | None]:
    """Return the pids of the embedded backend's parts, read from their pid files (no checks)."""
    s = settings or get_settings()
    home = procs.Home(s.home)
    return {
        "server": procs.read_pid(home.server_pid),
        "runner": procs.read_pid(home.runner_pid),
        "postgres": procs.read_pid(home.pgdata / "postmaster.pid"),
        **{f"worker-{n}": procs.read_pid(home.worker_pid(n)) for n in home.worker_numbers()},
    }
