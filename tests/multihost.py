"""The lab spread over hosts made of network namespaces (used by tests/test_multihost.py).

Host a runs the lab's embedded backend in pool mode, bound to a's address with Prefect's basic
auth (`python -m patternlab backend up`, no local workers); hosts b and c each run a worker
(`python -m flows.worker`); host d is where a user launches (`python -m patternlab launch`).
Every process gets an environment built here from scratch (`ip netns exec` would pass the test
process's own through), and every request goes from a host: the root namespace would route a
192.0.2.x address out through the real network.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.netns import Proc
from tests.netns_lab import NetnsLab

ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
PORT = 4200
POOL = "lab-process"
ZOMBIE_WINDOW_S = 45  # the automation's window here (Prefect's docs: 90 s; heartbeats every 30 s)


class Cluster:
    """The lab on four namespace hosts: server on a, workers on b and c, the user on d."""

    def __init__(self, lab: NetnsLab) -> None:
        self.lab = lab
        self.root = lab.workdir
        self.auth = f"lab:{secrets.token_hex(12)}"  # a fresh secret: searched for in every output
        self.api_url = f"http://{lab.subnet}.1:{PORT}/api"  # host a, the first one added
        self.workers: dict[str, Proc] = {}
        self.worker_started: dict[str, float] = {}
        self.timings: dict[str, float] = {}

    # -- environments and processes ---------------------------------------------------------

    def env(self, host: str, **extra: str) -> dict[str, str]:
        """Return a fresh environment for the lab's processes on `host`."""
        home = self.root / host
        (home / "prefect-home").mkdir(parents=True, exist_ok=True)
        system = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        return {
            "PATH": f"{PYTHON.parent}:{system}", "HOME": str(home), "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1", "PREFECT_HOME": str(home / "prefect-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_API_AUTH_STRING": self.auth,
            "PATTERNLAB_SOURCE": "snapshot", "PATTERNLAB_POOL": POOL,
            "PATTERNLAB_ZOMBIE_WINDOW_S": str(ZOMBIE_WINDOW_S),
        } | extra  # fmt: skip

    def server_env(self) -> dict[str, str]:
        """Return host a's environment: the embedded backend, pool mode, bound to a, no workers."""
        return self.env(
            "a", PATTERNLAB_HOME=str(self.root / "a" / "home"), PATTERNLAB_PORT=str(PORT),
            PATTERNLAB_BIND=self.lab.hosts["a"].address, PATTERNLAB_EXECUTION="pool",
            PATTERNLAB_WORKERS="0",
        )  # fmt: skip

    def client_env(self, host: str = "d", **extra: str) -> dict[str, str]:
        """Return the environment of a lab process that talks to a's server (remote mode)."""
        return self.env(host, PREFECT_API_URL=self.api_url, PATTERNLAB_EXECUTION="pool", **extra)

    def start_worker(self, host: str) -> Proc:
        """Start `python -m flows.worker` on `host` (named `<host>-1`); its runs are slowed a
        little (snapshot latency) so a fault can hit a run while it executes."""
        env = self.client_env(host, PATTERNLAB_SNAPSHOT_LATENCY_MS="700")
        self.worker_started[host] = time.time()
        proc = self.lab.spawn(host, [str(PYTHON), "-m", "flows.worker", "--pool", POOL], env=env,
                              log=self.root / host / "worker.log", cwd=ROOT)  # fmt: skip
        self.workers[host] = proc
        return proc

    def lab_cli(self, host: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run `python -m patternlab ARGS` on `host` (a: the backend; others: a client)."""
        env = self.server_env() if host == "a" else self.client_env(host)
        done = self.lab.run(host, [str(PYTHON), "-m", "patternlab", *args], env=env, cwd=ROOT,
                            timeout=timeout, check=False)  # fmt: skip
        with (self.root / host / "cli.log").open("a") as log:
            log.write(done.stdout + done.stderr)
        return done

    def launch(self, *args: str, timeout: float = 300) -> dict[str, Any]:
        """Launch from host d and return the JSON report."""
        done = self.lab_cli(
            "d",
            "launch",
            "--repo",
            "PrefectHQ/prefect",
            "--source",
            "snapshot",
            "--json",
            "--timeout",
            str(timeout - 60),
            *args,
            timeout=timeout,
        )
        assert done.stdout.strip(), done.stderr[-3000:]
        return json.loads(done.stdout)

    def launch_in_background(self, *args: str) -> tuple[Proc, Path]:
        """Start a launch on host d without waiting; return it and the file its JSON goes to."""
        out = self.root / "d" / f"launch-{len(self.lab.procs)}.json"
        argv = [str(PYTHON), "-m", "patternlab", "launch", "--repo", "PrefectHQ/prefect",
                "--source", "snapshot", "--json", "--timeout", "400", *args]  # fmt: skip
        proc = self.lab.spawn("d", argv, env=self.client_env(), cwd=ROOT, stdout=out,
                              log=out.with_suffix(".log"))  # fmt: skip
        return proc, out

    # -- the API, from host d -----------------------------------------------------------------

    def http(self, method: str, path: str, *, host: str = "d", auth: bool = True,
             **kwargs: Any) -> httpx.Response:  # fmt: skip
        """Send one request to a's API from `host` (with the basic auth unless told not to)."""

        def call() -> httpx.Response:
            # trust_env=False: a proxy from the environment must never see a lab address.
            credentials = tuple(self.auth.split(":", 1)) if auth else None
            with httpx.Client(timeout=10, trust_env=False, auth=credentials) as client:
                return client.request(method, f"{self.api_url}{path}", **kwargs)

        return self.lab.call_in(host, call, timeout=30)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call a's API from d (authenticated) and return the decoded JSON."""
        answer = self.http(method, path, **kwargs)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def runs_of(self, launch_id: str) -> list[dict[str, Any]]:
        """Return the flow runs of a launch as Prefect has them."""
        body = {"flow_runs": {"tags": {"all_": [f"launch:{launch_id}"]}}, "limit": 200}
        return self.api("POST", "/flow_runs/filter", json=body)

    def wait(self, check: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
        """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if value := check():
                    return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(every)

    def worker_online(self, host: str) -> bool:
        """Say whether host's worker has sent a heartbeat since it was (re)started."""
        for worker in self.api("POST", f"/work_pools/{POOL}/workers/filter", json={}):
            beat = worker.get("last_heartbeat_time")
            if worker["name"] == f"{host}-1" and beat:
                return datetime.fromisoformat(beat).timestamp() >= self.worker_started[host] - 1
        return False

    # -- the whole cluster --------------------------------------------------------------------

    def start(self) -> None:
        """Build the hosts, start the workers, bring the backend up on a, wait for the workers."""
        t0 = time.monotonic()
        for name in ("a", "b", "c", "d"):
            self.lab.add_host(name)
        for host in ("b", "c"):  # they import Prefect while a's server starts, then wait for it
            self.start_worker(host)
        up = self.lab_cli("a", "backend", "up", timeout=400)
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-3000:]
        self.timings["backend_up_s"] = time.monotonic() - t0
        for host in ("b", "c"):
            self.wait(lambda h=host: self.worker_online(h), 180, f"worker {host}-1 online")
        self.timings["cluster_ready_s"] = time.monotonic() - t0

    def close(self) -> list[str]:
        """Stop the backend on a (PostgreSQL cleanly), then everything in every namespace."""
        with contextlib.suppress(Exception):
            self.lab_cli("a", "backend", "down", timeout=120)
        return self.lab.close()

    def outputs(self) -> str:
        """Return every log and output file the cluster's processes wrote (for leak checks)."""
        texts = []
        for path in self.root.rglob("*"):
            if (
                path.is_file()
                and path.suffix in {".log", ".json", ".1"}
                and "pgdata" not in str(path)
            ):
                texts.append(path.read_text(errors="replace"))
        return "\n".join(texts)
