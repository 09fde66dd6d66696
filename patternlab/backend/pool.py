"""Pool mode of the embedded backend: the pool's deployments (flows.pool) and the local workers.

Prefect's server, work pool and workers are the engine; this only starts, checks and stops the
processes: `python -m flows.pool` (one-shot: create the pool, deploy, keep the zombie
automation) and `PATTERNLAB_WORKERS` x `python -m flows.worker` (Prefect's process worker).
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx

from flows.catalog import ENTRY_DEPLOYMENTS
from patternlab.backend import procs
from patternlab.backend.parts import PROJECT_ROOT, auth_env, await_part, launch_part
from patternlab.backend.status import BackendError, _get, _request, api_url
from patternlab.backend.tuning import worker_env
from patternlab.backend.workers import WORKER_MODULE, local_workers, markers, stray_workers
from patternlab.backend.workers import worker_name as name_of
from patternlab.settings import LabSettings

DEPLOY_TIMEOUT_S = 240.0  # the deployer waits for the API (a fresh server migrates), then deploys
WORKER_TIMEOUT_S = 60.0  # after the server answers: a worker imports Prefect, then heartbeats
STOP_TIMEOUT_S = 10.0
Progress = Callable[[str], None]


def worker_parts(home: procs.Home) -> tuple[tuple[str, Path, tuple[str, ...]], ...]:
    """Return every worker of the home that has a pid file, as (label, pid file, markers)."""
    return tuple(
        (f"worker {name_of(n)}", home.worker_pid(n), markers(n)) for n in home.worker_numbers()
    )


def stop_workers(s: LabSettings, home: procs.Home) -> list[str]:
    """Stop the workers beyond PATTERNLAB_WORKERS (every one in serve mode); say which."""
    stopped = []
    for n, pid in stray_workers(s, home):
        procs.terminate_group(pid, STOP_TIMEOUT_S)
        home.worker_pid(n).unlink(missing_ok=True)
        stopped.append(f"worker {name_of(n)} (pid {pid})")
    return stopped


def ensure_pool_execution(
    s: LabSettings, home: procs.Home, say: Progress, server: procs.Starting | None
) -> None:
    """Start the missing workers and deploy to the pool when needed, alongside a starting server.

    The workers' and the deployer's interpreters import Prefect and the flows while the server
    still migrates; both wait for the API themselves.
    """
    stop_workers(s, home)
    workers = local_workers(s, home, clean=True)
    # Deploy with a fresh server or fresh workers (code may have changed); otherwise only when
    # the deployments are not on the pool (with no local workers: every `backend up` asks).
    fresh = server is not None or (bool(workers) and not any(w.up for w in workers))
    starting = [start_worker(s, home, w.n) for w in workers if not w.up]
    if starting:
        say(f"Starting {len(starting)} worker(s) on work pool {s.pool}…")
    deployer = _start_deployer(s, home, say) if fresh else None
    try:
        if server is not None:
            await_part(server)
        if deployer is None and not deployed_on_pool(s):
            deployer = _start_deployer(s, home, say)
        if deployer is not None:
            _await_deployer(deployer, home, s.pool)
        for worker in starting:
            await_part(worker)
    except BackendError:
        for part in starting:
            part.abort(STOP_TIMEOUT_S)  # nothing half-started is left behind
        raise


def start_worker(s: LabSettings, home: procs.Home, n: int) -> procs.Starting:
    """Start local worker n (`python -m flows.worker`); it is ready once it has heartbeated."""
    name = name_of(n)
    env = {
        "PREFECT_API_URL": api_url(s),
        # The flows read the lab's settings too: give them this backend's, not the shell's.
        "PATTERNLAB_HOME": str(home.root),
        "PATTERNLAB_PORT": str(s.port),
        "PATTERNLAB_DB": s.db,
    } | worker_env(s)
    ready = functools.partial(worker_ready, s, name, time.time())
    # --name last: its pid-file marker ends with a space, so worker 1 never matches worker 10.
    argv = ["-m", WORKER_MODULE, "--pool", s.pool, "--name", name]
    return launch_part(s, home, f"worker-{n}", argv, env, ready, WORKER_TIMEOUT_S)


def worker_ready(s: LabSettings, name: str, since: float) -> bool:
    """Say whether the named worker has sent a heartbeat since `since` (a restarted worker's
    old record still reads ONLINE for 90 s)."""
    url = f"{api_url(s)}/work_pools/{s.pool}/workers/filter"
    answer = _request("POST", url, 2.0, settings=s, json={})
    if not isinstance(answer, httpx.Response) or answer.status_code != 200:
        return False
    for worker in answer.json():
        if worker.get("name") == name and worker.get("last_heartbeat_time"):
            beat = datetime.fromisoformat(worker["last_heartbeat_time"]).timestamp()
            return beat >= since - 1.0
    return False


def deployed_on_pool(s: LabSettings) -> bool:
    """Say whether the lab's deployments sit on the pool (not on a runner from serve mode)."""
    answer = _get(f"{api_url(s)}/deployments/name/{ENTRY_DEPLOYMENTS['monoflow']}", 2.0, settings=s)
    if not isinstance(answer, httpx.Response) or answer.status_code != 200:
        return False
    return answer.json().get("work_pool_name") == s.pool


def _start_deployer(s: LabSettings, home: procs.Home, say: Progress) -> int:
    """Start `python -m flows.pool` (create the pool, deploy, the zombie automation)."""
    say(f"Deploying the lab's flows to work pool {s.pool}…")
    # The user's own Prefect server, profile and secrets stay out: only this backend's.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GITHUB_TOKEN"))}
    env |= {"PREFECT_API_URL": api_url(s), "PREFECT_HOME": str(home.prefect)}
    env |= {"PATTERNLAB_POOL": s.pool, "PATTERNLAB_ALERT_WINDOW_S": str(s.alert_window_s)}
    env |= {"PATTERNLAB_ZOMBIE_WINDOW_S": str(s.zombie_window_s)} | auth_env(s, "deployer")
    argv = [sys.executable, "-m", "flows.pool", "--pool", s.pool]
    return procs.spawn(argv, env, PROJECT_ROOT, home.logs / "deploy.log")


def _await_deployer(pid: int, home: procs.Home, pool: str) -> None:
    """Wait for the deployer to finish; fail with its log when it did not succeed."""
    log = home.logs / "deploy.log"
    # Popen's own wait status, not /proc: a process just exiting can look gone before it is.
    if not procs.poll_until(lambda: procs.exit_code(pid) is not None, DEPLOY_TIMEOUT_S, 0.2):
        procs.terminate_group(pid, STOP_TIMEOUT_S)
        why = f"did not finish within {DEPLOY_TIMEOUT_S:.0f} s"
    elif procs.exit_code(pid) == 0:
        return
    else:
        why = f"failed (exit code {procs.exit_code(pid)})"
    raise BackendError(
        f"Deploying the lab's flows to work pool {pool} {why}. Last lines of {log}:\n"
        f"{procs.log_tail(log)}"
    )
