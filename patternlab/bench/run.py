"""The benchmark: each pattern as plain Python, on stock Prefect, and on the lab's tuned backend.

`python -m patternlab bench [--repeat N] [--json]`. Plain calls the same fetch and summarise
functions with no Prefect (the floor for the work). Stock is a second embedded backend in a
temporary home with Prefect's defaults (SQLite, 10 s runner poll, 5 s run_deployment poll, no
adapters). Tuned is the lab's backend as the dashboard uses it. Runs interleave (pattern by
pattern, alternating which backend goes first) so a drift in the machine's speed hits both.
Definitions and the latest figures: docs/performance.md.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

from patternlab.backend import PROJECT_ROOT, stop_backend
from patternlab.bench import report
from patternlab.launch import PATTERNS
from patternlab.settings import LabSettings, get_settings

DEFAULT_REPO = "PrefectHQ/prefect"
Progress = Callable[[str], None]
# Never handed to a backend that is not remote: they would pull it away from its own server.
_PREFECT_PROCESS_VARS = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_HOME")


format_table = report.format_table  # the CLI prints the result with it


class BenchError(RuntimeError):
    """A benchmark step failed; the message says which and where its log is."""


class Worker:
    """A `python -m patternlab.bench.worker` process serving one backend."""

    def __init__(
        self, name: str, env: dict[str, str], log: Path, module: str = "patternlab.bench.worker"
    ) -> None:
        self.name, self.log = name, log
        with open(log, "ab") as err:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", module],
                cwd=PROJECT_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=err, text=True, bufsize=1,
            )  # fmt: skip

    def send(self, op: str, **args: Any) -> None:
        """Send one request."""
        stdin: IO[str] = self._proc.stdin  # type: ignore[assignment]
        stdin.write(json.dumps({"op": op, "args": args}) + "\n")
        stdin.flush()

    def receive(self) -> Any:
        """Wait for the reply to the last request; raise BenchError if it failed."""
        line = self._proc.stdout.readline() if self._proc.stdout else ""
        if not line:
            raise BenchError(f"The {self.name} benchmark worker exited; see {self.log}")
        reply = json.loads(line)
        if not reply["ok"]:
            raise BenchError(f"{self.name}: {reply['error']} (log: {self.log})")
        return reply["result"]

    def ask(self, op: str, **args: Any) -> Any:
        """Send a request and return its reply."""
        self.send(op, **args)
        return self.receive()

    def close(self) -> None:
        """End the worker (closing stdin ends its loop)."""
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


def backend_env(settings: LabSettings) -> dict[str, str]:
    """Return this process's environment pointed at one lab backend (home, port, db, tuning)."""
    env = dict(os.environ)
    if settings.embedded:
        env = {k: v for k, v in env.items() if k not in _PREFECT_PROCESS_VARS}
    env |= {
        "PATTERNLAB_HOME": str(settings.home),
        "PATTERNLAB_PORT": str(settings.port),
        "PATTERNLAB_DB": settings.db,
        "PATTERNLAB_TUNING": "on" if settings.tuning else "off",
    }
    return env


def stock_settings(home: Path) -> LabSettings:
    """Return the settings of a stock backend: Prefect's defaults, SQLite, in its own home."""
    from patternlab.bench.dashboard import free_port

    return LabSettings(home=home, port=free_port(), db="sqlite", tuning=False, prefect_api_url=None)


def plain_run(repo: str) -> dict[str, Any]:
    """Compute the statistics by calling the flows' own task functions as plain Python."""
    from flows import tasks  # the same functions the flows call, without Prefect running them

    started = time.perf_counter()
    info = tasks.fetch_repo.fn(repo, "snapshot")
    people = tasks.fetch_contributors.fn(repo, "snapshot")
    activity = tasks.fetch_commit_activity.fn(repo, "snapshot")
    stats = tasks.summarise_stats.fn(repo, "snapshot", info, people, activity)
    took = round(time.perf_counter() - started, 4)
    return {"completed": stats.get("commits") is not None, "end_to_end_s": took, "work_s": took,
            "queue_s": 0.0, "handoff_s": 0.0, "overhead_s": 0.0}  # fmt: skip


@contextmanager
def _backends(scratch: Path, say: Progress) -> Iterator[dict[str, Worker]]:
    """Start the tuned and stock workers and backends; stop what the benchmark started."""
    tuned_s, stock_s = get_settings(), stock_settings(scratch / "stock-home")
    workers: dict[str, Worker] = {}
    started_tuned = False
    try:
        for name, s in (("tuned", tuned_s), ("stock", stock_s)):
            workers[name] = Worker(name, backend_env(s), scratch / f"{name}-worker.log")
            workers[name].send("up")  # both start at once: start-up is not measured
        say("starting the tuned and the stock (SQLite, Prefect defaults) backends…")
        ups = {name: w.receive() for name, w in workers.items()}
        started_tuned = not ups["tuned"]["was_up"] and tuned_s.embedded
        yield workers
    finally:
        for w in workers.values():
            w.close()
        stop_backend(stock_s)
        if started_tuned:
            stop_backend(tuned_s)


def _runs(workers: dict[str, Worker], repeat: int, repo: str, say: Progress) -> list[dict]:
    """Run every pattern `repeat` times on each backend, interleaved; return one row per run."""
    rows: list[dict[str, Any]] = []
    for i in range(repeat):
        for j, pattern in enumerate(PATTERNS):
            rows.append({"pattern": pattern, "backend": "plain", "repeat": i, **plain_run(repo)})
            # Alternate which backend goes first so neither always runs on a warmer machine.
            order = ("tuned", "stock") if (i + j) % 2 == 0 else ("stock", "tuned")
            for name in order:
                row = workers[name].ask("run", pattern=pattern, repo=repo)
                rows.append({"pattern": pattern, "backend": name, "repeat": i, **row})
                state = "ok" if row["completed"] else row["state"]
                say(f"  {i + 1}/{repeat} {pattern:<11} {name:<5} {row['end_to_end_s']} s {state}")
    return rows


def _dashboard(workers: dict[str, Worker], repo: str, scratch: Path, say: Progress) -> dict:
    """Measure the dashboard: one poll, warm and cold `streamlit run`, resident memory."""
    from patternlab.bench import dashboard as dash

    say("dashboard: timing a poll of a running launch…")
    out: dict[str, Any] = workers["tuned"].ask("poll", repo=repo)
    tuned_s = get_settings()
    say("dashboard: streamlit run app.py with the backend up (warm)…")
    proc, warm = dash.start_app(backend_env(tuned_s), scratch / "app-warm.log")
    try:
        out |= {"warm_start_s": warm["usable_s"], "warm": warm}
        out |= {"memory": dash.resident_mb(proc.pid, tuned_s)}
        out["rss_mb"] = out["memory"]["rss_mb"]
    finally:
        dash.stop_app(proc)
    say("dashboard: streamlit run app.py on a fresh home (cold: database created and migrated)…")
    cold_s = LabSettings(home=scratch / "cold-home", port=dash.free_port(), prefect_api_url=None)
    try:
        proc, cold = dash.start_app(backend_env(cold_s), scratch / "app-cold.log")
        dash.stop_app(proc)
        out |= {"cold_start_s": cold["usable_s"], "cold": cold}
    finally:
        stop_backend(cold_s)
    out["measured"] = dash.__doc__.split("\n\n")[1].replace("\n", " ")
    return out


def _recorded(step: Callable[[], dict[str, Any]], say: Progress) -> dict[str, Any]:
    """Run a benchmark step; a failure becomes part of the result instead of ending the run."""
    try:
        return step()
    except Exception as exc:  # noqa: BLE001 - reported in the result and the table
        say(f"  failed: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"}


def run_bench(
    repeat: int = 5,
    repo: str = DEFAULT_REPO,
    *,
    concurrent_n: int = 20,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the whole benchmark and return its result (the `--json` shape)."""
    say = progress or (lambda _line: None)
    started = time.monotonic()
    load_before = os.getloadavg()
    with ExitStack() as stack:
        scratch = Path(tempfile.mkdtemp(prefix="patternlab-bench-"))
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        workers = stack.enter_context(_backends(scratch, say))
        rows = _runs(workers, repeat, repo, say)
        dashboard = _recorded(lambda: _dashboard(workers, repo, scratch, say), say)
        concurrency = {}
        for name in ("tuned", "stock"):
            say(f"concurrency: {concurrent_n} subflows launches at once on {name}…")
            ask = workers[name].ask
            concurrency[name] = _recorded(
                lambda a=ask: a("concurrent", repo=repo, n=concurrent_n), say
            )
    result = report.assemble(rows, dashboard, concurrency)
    result["machine"] = {
        "cpus": os.cpu_count(), "python": platform.python_version(), "prefect": _prefect_version(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "repeat": repeat, "repo": repo, "source": "snapshot",
        "took_s": round(time.monotonic() - started, 1),
    }  # fmt: skip
    return result


def _prefect_version() -> str:
    """Return the installed Prefect version."""
    from importlib.metadata import version

    return version("prefect")
