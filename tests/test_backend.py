"""The embedded backend, with real processes: PostgreSQL, a Prefect server and a runner."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from patternlab import backend
from patternlab.backend import BackendError, BackendStatus, embedded, postgres
from patternlab.backend import procs as _procs
from patternlab.settings import LabSettings
from tests.helpers import free_port, gone, listening, wait_for

# Serves only `monoflow/lab`: the backend's runner check needs nothing more, and it starts
# faster than the real flows.serve, which is another module's business.
STANDIN = "tests.standin_serve"


def lab_settings(home: Path, port: int | None = None, **overrides: object) -> LabSettings:
    """Return settings for an embedded backend in `home`, ignoring the caller's environment."""
    values: dict[str, object] = {
        "home": home,
        "port": port or free_port(),
        "db": "postgres",
        "runner_module": STANDIN,
        "runner_poll_s": 1,
        "prefect_api_url": None,
        "prefect_ui_url": None,
    }
    return LabSettings(**(values | overrides))


@dataclass
class Started:
    """The shared backend and what its fresh start looked like."""

    settings: LabSettings
    status: BackendStatus
    seconds: float
    progress: list[str]


@pytest.fixture(scope="module", autouse=True)
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep this process's Prefect away from the user's ~/.prefect and API URL."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
        mp.delenv("PREFECT_API_URL", raising=False)
        yield


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    """Start one PostgreSQL-backed backend for the module; stop it at the end."""
    settings = lab_settings(tmp_path_factory.mktemp("lab"))
    lines: list[str] = []
    begin = time.monotonic()
    try:
        status = backend.ensure_backend(settings, progress=lines.append)
        yield Started(settings, status, time.monotonic() - begin, lines)
    finally:
        backend.stop_backend(settings)


def postmaster(settings: LabSettings) -> int | None:
    """Return the pid of the PostgreSQL serving the lab's home."""
    return postgres.postmaster_pid(settings.home.resolve() / "pgdata", clean=False)


def test_fresh_start_brings_up_postgres_server_and_runner(started: Started) -> None:
    """A first ensure_backend starts PostgreSQL, then the Prefect server, then the runner."""
    status = started.status
    assert started.progress == [
        "Starting PostgreSQL…",
        "Starting Prefect server (first start migrates the database, ~10 s)…",
        "Starting runner…",
    ]
    assert (status.mode, status.server_up, status.runner_up, status.postgres_up) == (
        "embedded",
        True,
        True,
        True,
    )
    assert httpx.get(f"{status.api_url}/health", timeout=5).status_code == 200
    deployment = httpx.get(f"{status.api_url}/deployments/name/monoflow/lab", timeout=5)
    assert deployment.status_code == 200
    assert started.seconds < embedded.SERVER_TIMEOUT_S + embedded.RUNNER_TIMEOUT_S


def test_server_listens_on_loopback_only(started: Started) -> None:
    """The Prefect server's process tree listens on 127.0.0.1:<port> and nowhere else."""
    assert started.status.server_pid is not None
    assert listening(started.status.server_pid) == {("127.0.0.1", started.settings.port)}


def test_server_uses_the_embedded_postgres(started: Started) -> None:
    """The server's database is the unix-socket PostgreSQL in the home, with a prefect database."""
    pid = postmaster(started.settings)
    assert pid is not None
    server_env = Path(f"/proc/{started.status.server_pid}/environ").read_bytes().split(b"\0")
    url = next(v for v in server_env if v.startswith(b"PREFECT_SERVER_DATABASE_CONNECTION_URL="))
    pgdata = started.settings.home.resolve() / "pgdata"
    assert url.decode().endswith(f"=postgresql+asyncpg://postgres@/prefect?host={pgdata}")


def test_an_earlier_labs_postgres_settings_are_replaced_by_todays(tmp_path: Path, monkeypatch):
    """A data folder configured by an earlier lab (other settings under the lab's mark) gets
    today's settings in their place, once; PostgreSQL's own lines are kept."""
    conf = tmp_path / "postgresql.conf"
    conf.write_text(f"max_connections = 100\n\n{postgres.LAB_CONF_MARK}\nio_method = sync\n")
    monkeypatch.setattr(postgres, "LAB_CONF", {"io_method": "sync", "work_mem": "2MB"})
    postgres.configure(tmp_path)
    text = conf.read_text()
    assert text == (
        f"max_connections = 100\n\n{postgres.LAB_CONF_MARK}\nio_method = sync\nwork_mem = 2MB\n"
    )
    postgres.configure(tmp_path)
    assert conf.read_text() == text


def test_postgres_runs_with_the_labs_settings_and_no_io_workers(started: Started) -> None:
    """The lab's PostgreSQL settings are in its postgresql.conf once, and in force: synchronous
    I/O, so none of PostgreSQL 18's I/O worker processes run beside the lab's small database."""
    pgdata = started.settings.home.resolve() / "pgdata"
    text = (pgdata / "postgresql.conf").read_text()
    assert text.count(postgres.LAB_CONF_MARK) == 1
    postgres.configure(pgdata)  # at every start: written once
    assert (pgdata / "postgresql.conf").read_text() == text
    pid = postmaster(started.settings)
    assert pid is not None
    children = [p.cmdline() for p in psutil.Process(pid).children()]
    assert any("checkpointer" in " ".join(c) for c in children)  # its helpers are listed
    assert not any("io worker" in " ".join(c) for c in children), children


def test_second_ensure_reuses_everything_quickly(started: Started) -> None:
    """A second ensure_backend starts nothing and returns the same pids within two seconds."""
    lines: list[str] = []
    begin = time.monotonic()
    status = backend.ensure_backend(started.settings, progress=lines.append)
    elapsed = time.monotonic() - begin
    assert lines == []
    assert (status.server_pid, status.runner_pid) == (
        started.status.server_pid,
        started.status.runner_pid,
    )
    assert elapsed < 2.0


def test_status_is_fast_and_complete(started: Started) -> None:
    """backend_status answers in under a second with one line a human can read."""
    begin = time.monotonic()
    status = backend.backend_status(started.settings)
    assert time.monotonic() - begin < 1.0
    assert (status.server_up, status.runner_up, status.postgres_up) == (True, True, True)
    assert status.message.startswith("Embedded backend up")
    assert "\n" not in status.message
    assert status.to_dict()["home"] == str(started.settings.home.resolve())
    assert status.ui_url == f"http://127.0.0.1:{started.settings.port}"


def test_wait_for_api_uses_prefects_client(started: Started) -> None:
    """The runner's wait answers at once for a live server and names the error for a dead one."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.serve import wait_for_api

    with temporary_settings({PREFECT_API_URL: started.status.api_url}):
        assert wait_for_api(5.0) is None
    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        begin = time.monotonic()
        error = wait_for_api(1.0)
    assert isinstance(error, httpx.ConnectError)
    assert time.monotonic() - begin < 5.0


def test_dead_runner_is_restarted_alone(started: Started) -> None:
    """When the runner dies, ensure_backend starts a new one and keeps the server and database."""
    before = backend.backend_status(started.settings)
    pg = postmaster(started.settings)
    assert before.runner_pid is not None
    os.kill(before.runner_pid, signal.SIGKILL)
    wait_for(lambda: not backend.backend_status(started.settings).runner_up, what="runner death")
    lines: list[str] = []
    after = backend.ensure_backend(started.settings, progress=lines.append)
    assert lines == ["Starting runner…"]
    assert after.runner_up
    assert after.runner_pid != before.runner_pid
    assert after.server_pid == before.server_pid
    assert postmaster(started.settings) == pg


def test_remote_status_checks_only_the_server(started: Started, tmp_path: Path) -> None:
    """With PREFECT_API_URL set, status reports the remote server's health and nothing local."""
    remote = LabSettings(home=tmp_path, prefect_api_url=started.status.api_url)
    status = backend.backend_status(remote)
    assert (status.mode, status.server_up, status.runner_up) == ("remote", True, None)
    assert (status.server_pid, status.runner_pid, status.postgres_up, status.home) == (None,) * 4
    assert backend.ensure_backend(remote).server_up
    assert backend.stop_backend(remote) == []
    assert not (tmp_path / "run").exists()


def test_port_taken_by_another_program_fails_fast(tmp_path: Path) -> None:
    """A port held by another listener gives a BackendError naming it before PostgreSQL starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        begin = time.monotonic()
        with pytest.raises(BackendError, match=rf"Port {port} .*PATTERNLAB_PORT"):
            backend.ensure_backend(lab_settings(tmp_path, port))
        assert time.monotonic() - begin < 5.0
    assert not (tmp_path / "pgdata").exists()
    assert not (tmp_path / "run" / "server.pid").exists()


def test_stale_pid_files_are_cleaned_and_racing_callers_share_one_sqlite_backend(
    tmp_path: Path,
) -> None:
    """Stale pid files are replaced, and two callers racing on one home get one backend (SQLite)."""
    settings = lab_settings(tmp_path, db="sqlite")
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "server.pid").write_text(f"{dead.pid}\n")
    (tmp_path / "run" / "runner.pid").write_text(f"{os.getpid()}\n")  # alive, but pytest
    lines: list[list[str]] = [[], []]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [
                pool.submit(backend.ensure_backend, settings, progress=lines[i].append)
                for i in range(2)
            ]
            status, other = (future.result(timeout=120) for future in futures)
        assert (status.server_pid, status.runner_pid) == (other.server_pid, other.runner_pid)
        assert sorted(len(caller) for caller in lines) == [0, 2]  # one started, one reused
        assert (status.server_up, status.runner_up) == (True, True)
        assert status.server_pid not in (None, dead.pid)
        assert status.runner_pid not in (None, os.getpid())
        assert (status.db, status.postgres_up) == ("sqlite", None)
        assert (tmp_path / "prefect" / "prefect.db").exists()
        assert not (tmp_path / "pgdata").exists()
        assert (tmp_path / "run" / "server.pid").read_text().strip() == str(status.server_pid)
    finally:
        backend.stop_backend(settings)


def test_a_server_that_never_answers_leaves_no_runner_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner starts beside a starting server; if the server fails, the runner is stopped."""
    settings = lab_settings(tmp_path, db="sqlite")
    monkeypatch.setattr(embedded, "_server_healthy", lambda *_args, **_kw: False)
    monkeypatch.setattr(embedded, "SQLITE_SERVER_TIMEOUT_S", 3.0)
    lines: list[str] = []
    runner: list[int] = []
    real_start = embedded._start_runner

    def start_runner(*args: object) -> _procs.Starting:
        started = real_start(*args)
        runner.append(started.pid)
        return started

    monkeypatch.setattr(embedded, "_start_runner", start_runner)
    try:
        with pytest.raises(BackendError, match=r"Prefect server was not ready after 3 s"):
            backend.ensure_backend(settings, progress=lines.append)
        assert lines[-1] == "Starting runner…"  # started while the server was still starting
        assert len(runner) == 1
        assert gone(runner[0])
        assert not (tmp_path / "run" / "runner.pid").exists()
        assert not (tmp_path / "run" / "server.pid").exists()
    finally:
        backend.stop_backend(settings)


def test_stale_postmaster_pid_is_dropped(tmp_path: Path) -> None:
    """A postmaster.pid naming a live process that is not our PostgreSQL counts as stale."""
    pid_file = tmp_path / "postmaster.pid"
    pid_file.write_text(f"{os.getpid()}\n{tmp_path}\n")  # after a reboot the pid may be reused
    assert postgres.postmaster_pid(tmp_path, clean=False) is None
    assert pid_file.exists()
    assert postgres.postmaster_pid(tmp_path) is None
    assert not pid_file.exists()


def test_remote_server_that_does_not_answer_is_an_error(tmp_path: Path) -> None:
    """With PREFECT_API_URL pointing at nothing, ensure_backend says so and starts nothing."""
    url = f"http://127.0.0.1:{free_port()}/api"
    remote = LabSettings(home=tmp_path, prefect_api_url=url)
    with pytest.raises(BackendError, match=f"Prefect server at {url} is not answering"):
        backend.ensure_backend(remote)
    assert not backend.backend_status(remote).server_up
    assert list(tmp_path.iterdir()) == []


def test_urls_follow_the_settings(tmp_path: Path) -> None:
    """api_url and ui_url come from PREFECT_API_URL / PREFECT_UI_URL, else from the port."""
    assert backend.api_url(lab_settings(tmp_path, 4321)) == "http://127.0.0.1:4321/api"
    assert backend.ui_url(lab_settings(tmp_path, 4321)) == "http://127.0.0.1:4321"
    remote = LabSettings(home=tmp_path, prefect_api_url="https://prefect.example/api/")
    assert (backend.api_url(remote), backend.ui_url(remote)) == (
        "https://prefect.example/api",
        "https://prefect.example",
    )
    ui = LabSettings(home=tmp_path, prefect_api_url="http://a/api", prefect_ui_url="http://b/")
    assert backend.ui_url(ui) == "http://b"


def test_lab_client_finds_its_server_whatever_the_environment_says(
    started: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lab's Prefect client talks to the lab's server even when this process's Prefect was
    imported with another PREFECT_API_URL: no import-order trick, no environment written."""
    from prefect.settings import PREFECT_API_URL

    from patternlab.backend import client

    monkeypatch.setattr(client, "_CLIENTS", {})
    monkeypatch.setattr(client, "get_settings", lambda: started.settings)
    monkeypatch.setattr("patternlab.backend.status.get_settings", lambda: started.settings)
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    with client.prefect_settings():
        assert PREFECT_API_URL.value() == started.status.api_url
    with client.prefect_client() as prefect:
        assert prefect.api_healthcheck() is None
        assert str(prefect._client.base_url).rstrip("/") == started.status.api_url
    assert os.environ["PREFECT_API_URL"] != started.status.api_url


def test_stop_backend_stops_everything(started: Started) -> None:
    """stop_backend ends the runner, the server and PostgreSQL; a second call finds nothing."""
    before = backend.backend_status(started.settings)
    pg = postmaster(started.settings)
    assert None not in (before.server_pid, before.runner_pid, pg)
    stopped = backend.stop_backend(started.settings)
    assert stopped == [
        f"runner (pid {before.runner_pid})",
        f"Prefect server (pid {before.server_pid})",
        f"PostgreSQL (pid {pg})",
    ]
    for pid in (before.runner_pid, before.server_pid, pg):
        wait_for(lambda pid=pid: gone(pid), timeout=5, what=f"pid {pid} to end")
    after = backend.backend_status(started.settings)
    assert (after.server_up, after.runner_up, after.postgres_up) == (False, False, False)
    assert "not running" in after.message
    assert not (started.settings.home / "pgdata" / "postmaster.pid").exists()
    assert backend.stop_backend(started.settings) == []
