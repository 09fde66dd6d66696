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
import statistics
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
from patternlab.bench.config import read_config
from patternlab.launch import PATTERNS
from patternlab.settings import LabSettings, get_settings

DEFAULT_REPO = "PrefectHQ/prefect"
START_SAMPLES = 3  # warm and cold `streamlit run`: the median of this many
DEFAULT_BACKENDS = ("plain", "stock", "tuned")  # add "pool": the lab's deployments on workers
Progress = Callable[[str], None]
# Never handed to a backend that is not remote: they would pull it away from its own server.
_PREFECT_PROCESS_VARS = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_HOME")


format_table = report.format_table  # the CLI prints the result with it


class BenchError(RuntimeError):
    """A benchmark step failed; the message says which and where its log is."""


class Worker:
    """A `python -m patternlab.bench.worker` process serving one backend."""

    def __init__(
        self,
        name: str,
        settings: LabSettings,
        log: Path,
        module: str = "patternlab.bench.worker",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.name, self.log, self.settings = name, log, settings
        self.status: dict[str, Any] = {}
        env = backend_env(settings) | (extra_env or {})
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
        "PATTERNLAB_EXECUTION": settings.execution,
        "PATTERNLAB_WORKERS": str(settings.workers),
    }
    return env


def stock_settings(home: Path) -> LabSettings:
    """Return the settings of a stock backend: Prefect's defaults, SQLite, in its own home."""
    from patternlab.bench.dashboard import free_port

    return LabSettings(home=home, port=free_port(), db="sqlite", tuning=False, prefect_api_url=None)


def pool_settings(home: Path) -> LabSettings:
    """Return the settings of a pool backend: the tuned lab, its deployments run by 2 workers."""
    from patternlab.bench.dashboard import free_port

    return LabSettings(
        home=home, port=free_port(), execution="pool", workers=2, prefect_api_url=None,
        prefect_ui_url=None,
    )  # fmt: skip


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
def _backends(
    scratch: Path, say: Progress, names: tuple[str, ...] = ("tuned", "stock")
) -> Iterator[dict[str, Worker]]:
    """Start the named backends (tuned, stock, pool) and their workers; stop what was started."""
    chosen = {"tuned": get_settings(), "stock": stock_settings(scratch / "stock-home"),
              "pool": pool_settings(scratch / "pool-home")}  # fmt: skip
    chosen = {name: s for name, s in chosen.items() if name in names}
    workers: dict[str, Worker] = {}
    started_tuned = False
    try:
        for name, s in chosen.items():
            workers[name] = Worker(name, s, scratch / f"{name}-worker.log")
            workers[name].send("up")  # all start at once: start-up is not measured
        say(f"starting the {', '.join(chosen)} backends…")
        for w in workers.values():
            w.status = w.receive()  # the backend as it came up (its adapters among it)
        started_tuned = (
            "tuned" in workers
            and not workers["tuned"].status["was_up"]
            and chosen["tuned"].embedded
        )
        yield workers
    finally:
        for w in workers.values():
            w.close()
        for name in ("stock", "pool"):
            if name in chosen:
                stop_backend(chosen[name])
        if started_tuned:
            stop_backend(chosen["tuned"])


WARMUP = PATTERNS  # one unmeasured run of each pattern on each backend before any timing


def _warm_up(workers: dict[str, Worker], repo: str, say: Progress) -> list[dict[str, Any]]:
    """Give every backend the same unmeasured runs, so none is timed cold (first imports,
    first forks, caches); return what they did, for the record."""
    rows = []
    for pattern in WARMUP:
        for name in workers:
            row = workers[name].ask("run", pattern=pattern, repo=repo)
            rows.append({"pattern": pattern, "backend": name, "completed": row["completed"],
                         "end_to_end_s": row["end_to_end_s"]})  # fmt: skip
            say(f"  warm-up {pattern:<11} {name:<5} {row['end_to_end_s']} s")
    return rows


def _runs(
    workers: dict[str, Worker], repeat: int, repo: str, say: Progress, plain: bool = True
) -> list[dict]:
    """Run every pattern `repeat` times on each backend, interleaved; return one row per run."""
    rows: list[dict[str, Any]] = []
    names = list(workers)
    for i in range(repeat):
        for j, pattern in enumerate(PATTERNS):
            if plain:
                rows.append({"pattern": pattern, "backend": "plain", "repeat": i,
                             **plain_run(repo)})  # fmt: skip
            # Rotate which backend goes first so none always runs on a warmer machine.
            shift = (i + j) % max(len(names), 1)
            for name in names[shift:] + names[:shift]:
                row = workers[name].ask("run", pattern=pattern, repo=repo)
                rows.append({"pattern": pattern, "backend": name, "repeat": i, **row})
                state = "ok" if row["completed"] else row["state"]
                say(f"  {i + 1}/{repeat} {pattern:<11} {name:<5} {row['end_to_end_s']} s {state}")
    return rows


def _dashboard(
    workers: dict[str, Worker], repo: str, scratch: Path, samples: int, say: Progress
) -> dict:
    """Measure the dashboard: one poll, warm and cold `streamlit run` (medians), memory."""
    from patternlab.bench import dashboard as dash

    say("dashboard: timing a poll of a running launch…")
    out: dict[str, Any] = _recorded(lambda: workers["tuned"].ask("poll", repo=repo), say)
    tuned_s = get_settings()
    say(f"dashboard: streamlit run app.py with the backend up (warm), {samples}×…")
    counter = iter(range(samples))

    def warm() -> dict[str, Any]:
        proc, timing = dash.start_app(
            backend_env(tuned_s), scratch / f"app-warm-{next(counter)}.log"
        )
        try:
            if "memory" not in out:  # resident memory once, idle after the first warm start
                out["memory"] = _recorded(lambda: dash.resident_mb(proc.pid, tuned_s), say)
        finally:
            dash.stop_app(proc)
        return timing

    out["warm"] = dash.median_of(samples, warm, "usable_s")
    out["warm_start_s"] = out["warm"]["median"]
    out["rss_mb"] = out["memory"].get("rss_mb")
    out["measured"] = dash.__doc__.split("\n\n")[1].replace("\n", " ")
    return out


def _cold_starts(scratch: Path, samples: int, say: Progress) -> dict[str, Any]:
    """Time `streamlit run app.py` on fresh homes (medians): the page, then a working Launch.

    Run before any other backend starts: a fresh machine runs nothing else of the lab, and
    two idle backends beside it (their runners poll) would slow what is measured.
    """
    from patternlab.bench import dashboard as dash

    load = [round(x, 2) for x in os.getloadavg()]
    out: dict[str, Any] = {}
    say(f"dashboard: streamlit run app.py on a fresh home (cold), {samples}×, nothing else up…")
    homes = iter(range(samples))

    def cold() -> dict[str, Any]:
        n = next(homes)
        cold_s = LabSettings(home=scratch / f"cold-home-{n}", port=dash.free_port(),
                             prefect_api_url=None)  # fmt: skip
        try:
            started = time.monotonic()
            proc, timing = dash.start_app(backend_env(cold_s), scratch / f"app-cold-{n}.log")
            try:  # Home drew its patterns (first script run over); now the backend it starts
                timing["launch_ready_s"] = dash.time_until_ready(cold_s, started)
            finally:
                dash.stop_app(proc)
        finally:
            stop_backend(cold_s)
        return timing

    out["cold"] = dash.median_of(samples, cold, "usable_s")
    out["cold_start_s"] = out["cold"]["median"]
    ready = statistics.median(t["launch_ready_s"] for t in out["cold"]["runs"])
    out["cold_launch_ready_s"] = round(ready, 2)
    out["cold_loadavg"] = {"before": load, "after": [round(x, 2) for x in os.getloadavg()]}
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
    backends: tuple[str, ...] = DEFAULT_BACKENDS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the whole benchmark and return its result (the `--json` shape).

    The dashboard checks need the tuned backend, the concurrency checks tuned or stock: each
    runs when its backend is among `backends`.
    """
    say = progress or (lambda _line: None)
    started = time.monotonic()
    load_before = os.getloadavg()
    prefect_backends = tuple(b for b in ("tuned", "stock", "pool") if b in backends)
    with ExitStack() as stack:
        scratch = Path(tempfile.mkdtemp(prefix="patternlab-bench-"))
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        samples = START_SAMPLES if repeat > 1 else 1  # `--repeat 1`, the smoke test: one
        cold = _recorded(lambda: _cold_starts(scratch, samples, say), say) if (
            "tuned" in backends) else {}  # fmt: skip
        workers = stack.enter_context(_backends(scratch, say, prefect_backends))
        configs = {name: _recorded(lambda n=name: read_config(workers[n].settings), say)
                   for name in workers}  # fmt: skip
        say(f"warm-up: one unmeasured run of each pattern on {', '.join(workers)}…")
        warmup = _warm_up(workers, repo, say)
        rows = _runs(workers, repeat, repo, say, plain="plain" in backends)
        steps: dict[str, Any] = {}
        dashboard: dict[str, Any] = {}
        if "tuned" in workers:
            say("floor: pricing each step Prefect requires on the tuned backend…")
            steps = _recorded(lambda: workers["tuned"].ask("floor"), say)
            dashboard = _recorded(lambda: _dashboard(workers, repo, scratch, samples, say), say)
            dashboard |= {("cold_error" if k == "error" else k): v for k, v in cold.items()}
        concurrency = {}
        for name in (n for n in ("tuned", "stock") if n in workers):
            say(f"concurrency: {concurrent_n} subflows launches at once on {name}…")
            ask = workers[name].ask
            concurrency[name] = _recorded(
                lambda a=ask: a("concurrent", repo=repo, n=concurrent_n), say
            )
        adapters = {name: w.status.get("adapters") for name, w in workers.items()}
    result = report.assemble(rows, dashboard, concurrency, steps)
    result["adapters"] = adapters  # as each backend's runner published them
    result["backends"] = configs  # each backend's configuration, read back from it
    result["warmup"] = warmup
    result["machine"] = {
        "cpus": os.cpu_count(), "python": platform.python_version(), "prefect": _prefect_version(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "repeat": repeat, "repo": repo, "source": "snapshot", "backends": list(backends),
        "took_s": round(time.monotonic() - started, 1),
    }  # fmt: skip
    return result


def _prefect_version() -> str:
    """Return the installed Prefect version."""
    from importlib.metadata import version

    return version("prefect")
