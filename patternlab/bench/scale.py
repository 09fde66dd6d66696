"""`python -m patternlab bench --scale 1,8,32,128`: each pattern's cost as the work grows.

Runs on a backend of its own (a temporary home: PostgreSQL, the Prefect server and the runner,
tuned as the lab's), so the user's lab is neither disturbed nor counted, and so its server can log
every request it answers (uvicorn's access log): that is how the Prefect API calls of a run are
counted. Each variant of each pattern runs over the first N repositories of the synthetic
organisation, one run at a time (never two at once). The result is saved where the Scale page
reads it: `$PATTERNLAB_HOME/bench/scale.json`. Definitions: docs/performance.md.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from patternlab.backend import stop_backend
from patternlab.bench import scale_report
from patternlab.bench.run import BenchError, Worker
from patternlab.settings import LabSettings, get_settings

Progress = Callable[[str], None]
MAX_SIZE = 256


def parse_sizes(text: str) -> list[int]:
    """Return the sizes of "1,8,32,128" (each 1 to 256, ascending, once), or raise ValueError."""
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise ValueError(
            f"--scale takes numbers separated by commas, e.g. 1,8,32 (got {text!r})"
        ) from None
    if not sizes or sizes[0] < 1 or sizes[-1] > MAX_SIZE:
        raise ValueError(f"--scale sizes must be from 1 to {MAX_SIZE} (got {text!r})")
    return sizes


def result_path(settings: LabSettings | None = None) -> Path:
    """Return where the latest scale result is kept (the Scale page reads it)."""
    return Path((settings or get_settings()).home).expanduser() / "bench" / "scale.json"


def latest_scale(settings: LabSettings | None = None) -> dict[str, Any] | None:
    """Return the latest saved scale result, or None when there is none (or it is unreadable)."""
    try:
        return json.loads(result_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_scale(
    sizes: list[int],
    variants: list[str] | None = None,
    repeat: int = 1,
    *,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the scale benchmark; return (and save) its result: the --json shape."""
    say = progress or (lambda _line: None)
    chosen = variants or list(scale_report.VARIANTS)
    unknown = [v for v in chosen if v not in scale_report.VARIANTS]
    if unknown:
        raise BenchError(f"Unknown variants {unknown}; known: {', '.join(scale_report.VARIANTS)}")
    started, load_before = time.monotonic(), os.getloadavg()
    scratch = Path(tempfile.mkdtemp(prefix="patternlab-scale-"))
    settings = _settings(scratch / "home")
    worker, kept, ok = None, None, False
    try:
        # The server logs each request it answers: the count of a run's API calls.
        worker = Worker(
            "scale", settings, scratch / "worker.log", "patternlab.bench.scale_worker",
            extra_env={"PREFECT_SERVER_LOGGING_LEVEL": "INFO"},
        )  # fmt: skip
        say("starting the scale benchmark's own backend (PostgreSQL, server, runner)…")
        worker.ask("up")
        limits = worker.ask("limits")
        rows = _runs(worker, sizes, chosen, repeat, say)
        say(f"dashboard: polls of a running {sizes[-1]}-repository subflows launch…")
        quiet = worker.ask("quiet_poll", n=sizes[-1])
        ok = all(r["completed"] for r in rows)
    finally:
        if worker is not None:
            worker.close()
        stop_backend(settings)
        if not ok:  # a run that did not complete, or a failed step: keep what the backend logged
            kept = keep_logs(scratch, result_path().parent, say)
        shutil.rmtree(scratch, ignore_errors=True)
    machine = {"loadavg_before": [round(x, 2) for x in load_before], "sizes": sizes,
               "repeat": repeat, "took_s": round(time.monotonic() - started, 1),
               "logs_kept": kept}  # fmt: skip
    result = assemble(rows, quiet, limits, machine)
    _save(result)
    return result


def keep_logs(scratch: Path, into: Path, say: Progress) -> str | None:
    """Copy the benchmark backend's logs (server, runner, worker) where a failure can be read."""
    target = into / f"scale-logs-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    try:
        shutil.copytree(scratch / "home" / "logs", target)
        shutil.copy2(scratch / "worker.log", target / "worker.log")
    except OSError as exc:
        say(f"could not keep the logs of the runs that did not complete: {exc}")
        return None
    say(f"a run did not complete: the backend's logs are kept in {target}")
    return str(target)


def assemble(
    rows: list[dict], quiet: dict, limits: dict, machine: dict[str, Any]
) -> dict[str, Any]:
    """Build the result: curves, saturation notes, targets, and where it was measured."""
    points = scale_report.curves(rows)
    machine |= {"cpus": os.cpu_count(), "python": platform.python_version(),
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
                "source": "snapshot (synthetic)",
                "finished": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    return {
        "curves": points, "runs": rows, "quiet_poll": quiet, "limits": limits,
        "saturation": scale_report.saturation(points, limits),
        "targets": scale_report.targets(points, quiet), "machine": machine,
    }  # fmt: skip


def _settings(home: Path) -> LabSettings:
    """Return the settings of the benchmark's own tuned backend."""
    from patternlab.bench.dashboard import free_port

    port = free_port()
    return LabSettings(home=home, port=port, db="postgres", tuning=True, prefect_api_url=None)


def _runs(
    worker: Worker, sizes: list[int], variants: list[str], repeat: int, say: Progress
) -> list[dict[str, Any]]:
    """Run every variant at every size, smallest first, `repeat` times; one row per run."""
    rows = []
    for i in range(repeat):
        for n in sizes:
            for name in variants:
                pattern, options = scale_report.VARIANTS[name]
                row = worker.ask("run", variant=name, pattern=pattern, n=n, options=options)
                rows.append(row | {"repeat": i})
                state = "ok" if row["completed"] else row["state"]
                say(f"  {i + 1}/{repeat} N={n:<4} {name:<20} {row['end_to_end_s']} s, "
                    f"{row['api_calls']} API calls, {state}")  # fmt: skip
    return rows


def _save(result: dict[str, Any]) -> None:
    """Keep the result where the Scale page reads it (a failure to write is not fatal)."""
    path = result_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    except OSError:
        pass
