"""Each tuning does what it says: settings reach the runner, and each adapter changes behaviour."""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from prefect import flow, flow_engine
from prefect.deployments import run_deployment
from prefect.settings.models.runner import RunnerSettings

from flows import adapters
from patternlab import backend
from patternlab.backend import published, tuning
from patternlab.launch import launch, read_launch, wait_for_launch
from patternlab.settings import LabSettings, get_settings
from tests import preload_probe
from tests.helpers import in_fresh_thread, wait_for

ROOT = Path(__file__).resolve().parent.parent


def test_tuned_runner_env_sets_the_fast_polls():
    """The tuned runner polls every second and run_deployment polls its child every 0.25 s."""
    env = tuning.runner_env(LabSettings(runner_poll_s=0.25, child_poll_s=0.25))
    assert env["PREFECT_RUNNER_POLL_FREQUENCY"] == "1"  # Prefect's setting is an int
    assert env["PATTERNLAB_RUNNER_POLL_S"] == "0.25"  # the Runner's query_seconds
    assert env["PATTERNLAB_CHILD_POLL_S"] == "0.25"
    assert env["PATTERNLAB_TUNING"] == "on"


def test_the_embedded_runners_clients_skip_the_version_and_csrf_handshakes(monkeypatch):
    """Tuned against the lab's own server (same installation, CSRF protection off), the runner's
    and its flow processes' clients ask neither for the server's version nor a CSRF token; against
    another server (PREFECT_API_URL), or stock, they keep Prefect's handshakes."""
    keys = ("PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED", "PREFECT_CLIENT_CSRF_SUPPORT_ENABLED")
    monkeypatch.delenv("PREFECT_API_URL")  # the tests' own process points at the test backend
    env = tuning.runner_env(LabSettings())
    assert [env[k] for k in keys] == ["false", "false"]
    assert tuning.worker_env(LabSettings(execution="pool"))[keys[1]] == "false"
    assert tuning.server_env(LabSettings())["PREFECT_SERVER_CSRF_PROTECTION_ENABLED"] == "false"
    remote = LabSettings(prefect_api_url="http://10.1.0.1:4200/api")
    for other in (remote, LabSettings(tuning=False)):
        assert not set(keys) & set(tuning.runner_env(other))


def test_the_lab_server_has_no_csrf_token_to_hand_out(lab_backend):
    """The lab's server answers a CSRF token request as Prefect does with protection off: the
    handshake its clients skip would only have been refused."""
    answer = httpx.get(f"{backend.api_url()}/csrf-token", params={"client": "lab"}, timeout=10)
    assert answer.status_code == 422
    assert answer.json()["detail"] == "CSRF protection is disabled."


def test_stock_runner_env_uses_prefects_own_defaults():
    """With tuning off, the runner and run_deployment get the defaults Prefect itself declares."""
    env = tuning.runner_env(LabSettings(tuning=False))
    assert env["PATTERNLAB_TUNING"] == "off"
    assert env["PREFECT_RUNNER_POLL_FREQUENCY"] == str(
        RunnerSettings.model_fields["poll_frequency"].default
    )
    default = inspect.signature(run_deployment).parameters["poll_interval"].default
    assert float(env["PATTERNLAB_CHILD_POLL_S"]) == float(default)


def test_backend_extension_points_return_the_tunings():
    """backend.server_env and backend.runner_env hand out exactly what tuning decides."""
    for s in (LabSettings(), LabSettings(tuning=False)):
        assert backend.runner_env(s) == tuning.runner_env(s)
        assert backend.server_env(s) == tuning.server_env(s)


def test_tuning_off_installs_no_adapter():
    """With PATTERNLAB_TUNING=off the flows run on Prefect's own code paths."""
    assert adapters.install(LabSettings(tuning=False)) == {}


def test_every_tuning_is_documented():
    """Each tuning names where it applies, why, what it bought and its fallback."""
    for t in tuning.TUNINGS:
        assert all((t.name, t.where, t.why, t.bought, t.fallback)), t


def _joins_of_heartbeat_threads(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    """Record every join of a flow heartbeat thread from now on."""
    joined: list[threading.Thread] = []
    original = threading.Thread.join

    def join(self: threading.Thread, timeout: float | None = None) -> None:
        target = (getattr(self, "_args", None) or (None,))[0]
        if getattr(target, "__name__", "") == "heartbeat_loop":
            joined.append(self)
        original(self, timeout)

    monkeypatch.setattr(threading.Thread, "join", join)
    return joined


@flow(name="tuning-probe")
def _probe() -> list[threading.Thread]:
    """Return the heartbeat threads alive while this flow runs."""
    return [t for t in threading.enumerate() if "heartbeat_loop" in repr(getattr(t, "_args", ""))]


def test_flow_exit_does_not_wait_for_the_heartbeat_thread(lab_backend, monkeypatch):
    """With the adapter a sync flow returns without joining its heartbeat thread, which then
    stops by itself at its next 1 s tick."""
    assert adapters.install(get_settings()).get("heartbeat_exit") is True
    joined = _joins_of_heartbeat_threads(monkeypatch)
    beating = _probe()
    assert beating, "Prefect started no heartbeat thread: the adapter has nothing to remove"
    assert joined == []
    wait_for(lambda: not any(t.is_alive() for t in beating), timeout=5, what="heartbeat stop")


def test_without_the_adapter_prefect_joins_the_heartbeat_thread(lab_backend, monkeypatch):
    """Prefect's own exit path joins the heartbeat thread (the ~1 s wait the adapter removes)."""
    adapters.install(get_settings())
    monkeypatch.setattr(flow_engine, "_send_heartbeats", flow_engine._send_heartbeats.__wrapped__)
    joined = _joins_of_heartbeat_threads(monkeypatch)
    _probe()
    assert len(joined) == 1


def test_heartbeat_adapter_falls_back_when_prefect_changes(monkeypatch):
    """If _send_heartbeats no longer takes join_on_exit, Prefect's function is left alone."""

    def changed(engine: Any) -> None:
        """Stand in for a future Prefect's heartbeat context."""

    monkeypatch.setattr(flow_engine, "_send_heartbeats", changed)
    assert adapters._patch_heartbeat_exit() == (
        "prefect.flow_engine._send_heartbeats no longer takes join_on_exit"
    )
    assert flow_engine._send_heartbeats is changed


def test_prefect_clients_share_one_tls_context_built_as_prefect_builds_it(tmp_path, monkeypatch):
    """With the adapter every Prefect client of a process gets the same SSLContext (one certifi
    bundle load, not one per client); a client given its own `verify` keeps it; a changed
    certificate setting builds a new context from that file."""
    import ssl

    import certifi
    from prefect.client.orchestration import PrefectClient, SyncPrefectClient, get_client
    from prefect.settings import PREFECT_API_SSL_CERT_FILE, PREFECT_API_URL, temporary_settings

    def context(client: Any) -> ssl.SSLContext:
        """Return the SSLContext a Prefect client's connection pool uses."""
        return client._client._transport._pool._ssl_context

    assert adapters.install(LabSettings()).get("shared_tls") is True
    assert SyncPrefectClient.__init__._patternlab
    assert PrefectClient.__init__._patternlab
    loaded: list[str | None] = []
    original = ssl.create_default_context

    def counting(*args: Any, cafile: str | None = None, **kwargs: Any) -> ssl.SSLContext:
        loaded.append(cafile)
        return original(*args, cafile=cafile, **kwargs)

    adapters._tls_context.cache_clear()
    monkeypatch.setattr(ssl, "create_default_context", counting)
    bundle = tmp_path / "ca.pem"
    bundle.write_text(Path(certifi.where()).read_text())
    with temporary_settings({PREFECT_API_URL: "https://127.0.0.1:9/api"}):
        clients = [get_client(sync_client=True), get_client(), get_client(sync_client=True)]
        assert len({id(context(c)) for c in clients}) == 1
        assert loaded == [PREFECT_API_SSL_CERT_FILE.value() or certifi.where()]
        own = original()
        assert context(get_client(httpx_settings={"verify": own})) is own
        with temporary_settings({PREFECT_API_SSL_CERT_FILE: str(bundle)}):
            other = get_client(sync_client=True)
    assert context(other) is not context(clients[0])
    assert loaded[1:] == [str(bundle)]


def test_tls_adapter_falls_back_when_prefect_changes(monkeypatch):
    """If Prefect's clients no longer take httpx_settings, their constructors are left alone."""
    from prefect.client import orchestration

    class Changed:
        def __init__(self, api: str) -> None:
            """Stand in for a future Prefect client."""

    monkeypatch.setattr(orchestration, "PrefectClient", Changed)
    assert adapters._patch_client_tls() == "Changed no longer takes httpx_settings"
    assert not hasattr(Changed.__init__, "_patternlab")


def test_run_process_passes_other_commands_to_prefect():
    """Commands other than the engine's go to Prefect's own run_process untouched."""
    calls: list[list[str]] = []

    async def original(command: list[str], **kwargs: Any) -> str:
        calls.append(command)
        return "prefect"

    wrapped = adapters.make_run_process(original)
    assert in_fresh_thread(asyncio.run, wrapped(["uv", "run", "x"], env={})) == "prefect"
    assert calls == [["uv", "run", "x"]]


def test_run_process_falls_back_when_forking_fails(monkeypatch):
    """If the fork server cannot start a run, Prefect starts it the usual way."""
    calls: list[list[str]] = []

    async def original(command: list[str], **kwargs: Any) -> str:
        calls.append(command)
        return "prefect"

    def broken() -> Any:
        raise OSError("no fork server here")

    monkeypatch.setattr(adapters, "_forkserver", broken)
    command = ["python", "-m", adapters.ENGINE_MODULE]
    run = adapters.make_run_process(original)(command, env={})
    assert in_fresh_thread(asyncio.run, run) == "prefect"
    assert calls == [command]


def _runner_tree() -> list[psutil.Process]:
    """Return the lab runner's process and its descendants."""
    runner = psutil.Process(backend.backend_status().runner_pid)
    return [runner, *runner.children(recursive=True)]


def _forked_run_processes() -> list[psutil.Process]:
    """Return the runner's flow processes that were forked by its fork server."""
    servers = [p for p in _runner_tree() if "multiprocessing.forkserver" in " ".join(p.cmdline())]
    return [c for s in servers for c in s.children()]


def test_runner_forks_flow_processes_instead_of_starting_python(lab_backend):
    """A runner-started flow run runs in a process forked from the preloaded fork server, and no
    `python -m prefect.engine` interpreter is started for it."""
    launch_id = launch(["events"], "PrefectHQ/prefect", "snapshot", hold_s=4)

    def upstream_running() -> bool:
        runs = read_launch(launch_id).patterns[0].flow_runs
        return any(r.role == "entry" and r.status == "running" for r in runs)

    wait_for(upstream_running, timeout=60, interval=0.2, what="the held upstream to run")
    assert _forked_run_processes()
    engines = [p for p in _runner_tree() if p.cmdline()[1:3] == ["-m", adapters.ENGINE_MODULE]]
    assert engines == []
    report = wait_for_launch(launch_id, timeout_s=120)
    assert report.patterns[0].state == "Completed", report.patterns[0].errors


def test_fork_server_children_start_with_prefects_lazy_imports_loaded():
    """A forked flow process finds the modules Prefect imports on first use already loaded."""
    ctx = adapters._forkserver()
    queue = ctx.SimpleQueue()
    process = ctx.Process(target=preload_probe.loaded, args=(queue, list(adapters.PRELOADED)))
    process.start()
    process.join(timeout=120)
    assert process.exitcode == 0
    assert queue.get() == dict.fromkeys(adapters.PRELOADED, True)
    assert "fastapi.encoders" in adapters.PRELOADED  # ~90 ms at a flow process's first subflow


def test_server_logs_the_lock_errors_it_answers_with_503():
    """Both backends log the retryable errors Prefect hides by default, so they can be counted."""
    for s in (LabSettings(), LabSettings(tuning=False)):
        assert tuning.server_env(s)["PREFECT_SERVER_LOG_RETRYABLE_ERRORS"] == "true"


def test_the_tuned_server_keeps_enough_database_connections_for_a_fan_out():
    """Tuned on PostgreSQL: a pool of SERVER_DB_POOL connections, so a fan-out's bursts reuse
    them rather than open and close new PostgreSQL backends; stock, and SQLite, keep Prefect's
    default."""
    key = "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE"
    assert tuning.server_env(LabSettings())[key] == str(tuning.SERVER_DB_POOL) == "6"
    assert key not in tuning.server_env(LabSettings(tuning=False))
    assert key not in tuning.server_env(LabSettings(db="sqlite"))


def test_adapters_stay_off_outside_the_verified_prefect_versions(monkeypatch, caplog):
    """On a Prefect the adapters were not verified on, all stay off, say why, and the runner's
    log says so once per adapter."""
    for name, fresh in (("_installed", {}), ("_off_reasons", {}), ("_reported", set())):
        monkeypatch.setattr(adapters, name, fresh)
    monkeypatch.setattr(adapters, "_prefect_version", lambda: "3.10.0")
    before = flow_engine._send_heartbeats
    assert adapters.install(LabSettings(), forked_starts=True) == {
        "heartbeat_exit": False, "shared_tls": False, "forked_starts": False,
    }  # fmt: skip
    assert flow_engine._send_heartbeats is before
    states = adapters.status(LabSettings())
    assert all(s.startswith("off: Prefect 3.10.0 is not a version") for s in states.values())
    caplog.set_level("WARNING", logger="flows.adapters")
    adapters.report_off()
    adapters.report_off()
    assert len([r for r in caplog.records if "is off" in r.getMessage()]) == len(adapters.ADAPTERS)


def test_the_runner_publishes_its_adapters_and_the_lab_shows_them(lab_backend):
    """The running runner's adapters reach `backend status`, the backend status the pages and the
    benchmark read, and a previous runner's leftovers do not count."""
    status = backend.backend_status()
    assert status.adapters == {
        "heartbeat_exit": "active", "forked_starts": "active", "shared_tls": "active",
    }  # fmt: skip
    # The lab's embedded backend as the CLI sees it (not "remote" at the URL the tests set).
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    done = subprocess.run([sys.executable, "-m", "patternlab", "backend", "status"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert (
        "adapters     heartbeat_exit: active; forked_starts: active; shared_tls: active"
        in done.stdout
    )
    facts = published.read_runner_facts(backend.api_url())
    assert facts["pid"] == status.runner_pid
    assert facts["prefect"] == "3.9.1"
    stale = published.adapter_states(facts, status.runner_pid + 1)
    assert set(stale.values()) == {published.UNKNOWN}


def test_the_runner_polls_at_the_sub_second_interval_it_is_given(lab_backend):
    """The lab's runner hands its float poll to Prefect's Runner and says so; Prefect's own
    integer setting stays a valid int."""
    facts = published.read_runner_facts(backend.api_url())
    assert facts["query_seconds"] == get_settings().runner_poll_s == 0.2
    env = tuning.runner_env(get_settings())
    assert env["PREFECT_RUNNER_POLL_FREQUENCY"] == "1"
