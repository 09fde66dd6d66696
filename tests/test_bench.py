"""The benchmark: its measures on known timelines, and a real `bench --repeat 1 --json` smoke run.

The smoke run checks the output's shape and that every pattern completed on every backend; it
never checks a timing (benchmarks are not timed tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from patternlab.bench import dashboard, measure, report, run
from patternlab.bench.config import read_config
from patternlab.launch import PATTERNS, FlowRunInfo
from patternlab.settings import LabSettings, get_settings

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ROW_KEYS = {
    "pattern", "backend", "end_to_end_s", "queue_s", "handoff_s", "work_s", "overhead_s",
    "task_call_ms", "subflow_call_ms", "trigger_to_scheduled_s", "trigger_to_running_s",
}  # fmt: skip
DASHBOARD_KEYS = {"poll_ms", "poll_api_calls", "cold_start_s", "warm_start_s", "rss_mb"}


def _at(seconds: float) -> datetime:
    """Return the instant `seconds` after T0."""
    return T0 + timedelta(seconds=seconds)


def _run(id_: str, flow: str, role: str, created: float, start: float, end: float, work=0.0):
    """Build a finished flow run on the T0 timeline."""
    return FlowRunInfo(id=id_, name=id_, flow=flow, role=role, state="Completed",
                       status="completed", created_by="lab", created=_at(created),
                       start=_at(start), end=_at(end), work_s=work)  # fmt: skip


def _span(run_id: str, task: str, pending: float, final: float) -> measure.TaskSpan:
    """Build a task span on the T0 timeline."""
    return measure.TaskSpan(run_id, task, _at(pending), _at(final))


def test_task_call_cost_is_span_minus_work_per_measured_task():
    """Three measured tasks over 0.33 s with 0.3 s of work cost 10 ms each; others are ignored."""
    runs = [_run("m", "monoflow", "entry", 0, 1, 2, work=0.3)]
    spans = [
        _span("m", "fetch_repo", 1.0, 1.1),
        _span("m", "fetch_contributors", 1.11, 1.2),
        _span("m", "summarise_stats", 1.21, 1.33),
        _span("m", "publish_stats", 1.4, 1.9),
    ]
    assert measure.task_call_ms(runs, spans) == pytest.approx(10.0)


def test_subflow_call_cost_is_seen_from_the_parent():
    """A subflow's cost runs from its creation to the parent's next step, minus all its tasks."""
    runs = [
        _run("p", "subflows-parent", "entry", 0, 1, 3.0),
        _run("a", "fetch-repo-data", "subflow", 1.1, 1.15, 1.6),
        _run("b", "calculate-average-commits", "subflow", 1.9, 1.95, 2.5),
    ]
    spans = [
        _span("a", "fetch_repo", 1.2, 1.5),
        _span("b", "summarise_stats", 2.0, 2.4),
        _span("b", "publish_stats", 2.4, 2.6),
    ]
    # a: 1.9 - 1.1 - 0.3 = 0.5 s; b: 3.0 - 1.9 - 0.6 = 0.5 s (all its tasks count as tasks).
    assert measure.subflow_call_ms(runs, spans) == pytest.approx(500.0)


def test_trigger_and_notice_delays_come_from_the_runs():
    """Trigger delays run from the upstream's end; notice from the child's end to the parent's."""
    events = [_run("u", "events-upstream", "entry", 0, 1, 2),
              _run("d", "events-downstream", "triggered", 2.2, 3.5, 4)]  # fmt: skip
    assert measure.trigger_delays(events) == pytest.approx((0.2, 1.5))
    deployments = [_run("p", "deployments-parent", "entry", 0, 1, 5.3),
                   _run("c", "average-commits-child", "deployment-child", 2, 3, 5)]  # fmt: skip
    assert measure.notice_s(deployments) == pytest.approx(0.3)
    assert measure.trigger_delays(deployments) == (None, None)


def test_start_phases_split_polling_from_process_start():
    """Scheduled -> Pending is the poll wait, Pending -> Running the start; both are averaged."""
    histories = {
        "a": [("Scheduled", _at(0)), ("Pending", _at(1)), ("Running", _at(1.5))],
        "b": [
            ("Scheduled", _at(0)),
            ("Late", _at(15)),
            ("Pending", _at(17)),
            ("Running", _at(18.5)),
        ],
    }
    assert measure.start_phases(histories) == {"pickup_s": 9.0, "process_start_s": 1.0}


def test_summary_is_median_min_max_of_known_values():
    """Unknown values are skipped; nothing known gives None."""
    assert measure.summarise([3.0, None, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0}
    assert measure.summarise([None]) is None


def test_targets_report_met_missed_and_unmeasured():
    """Each target is met, missed, or None when the benchmark could not measure it."""
    rows = [{"pattern": "deployments", "backend": b, "runs": 1, "completed": 1,
             "end_to_end_s": {"median": m, "min": m, "max": m}} for b, m in
            (("stock", 30.0), ("tuned", 3.0))]  # fmt: skip
    result = {"rows": rows, "ratios": report.ratios(rows), "concurrency": {},
              "dashboard": {"poll_ms": 80.0}}  # fmt: skip
    targets = {t["target"]: t["met"] for t in report.evaluate(result)}
    assert targets["deployments: stock/tuned end-to-end"] is True
    assert targets["dashboard: one poll of a running launch (ms)"] is False
    assert targets["subflow call (ms)"] is None


def test_the_concurrency_targets_need_the_twenty_launches_they_name():
    """A smaller concurrency check (the smoke test's 4) says nothing about the 20-launch target."""
    for launches, expected in ((4, None), (20, True)):
        check = {"launches": launches, "completed": launches, "lock_retries": 0}
        result = {"rows": [], "ratios": dict.fromkeys(PATTERNS), "concurrency": {"tuned": check},
                  "dashboard": {}}  # fmt: skip
        targets = {t["target"]: t["met"] for t in report.evaluate(result)}
        assert targets["20 concurrent subflows launches: lock retries"] is expected
        assert targets["20 concurrent subflows launches: not completed"] is expected


@pytest.fixture(scope="module")
def smoke(lab_backend) -> dict:
    """Run `python -m patternlab bench --repeat 1 --concurrent 4 --json` on the lab backend.

    Four launches at once show the concurrency check's shape; its 20 (the target's) on the stock
    SQLite backend alone take minutes."""
    # The lab backend as the dashboard sees it: embedded, not "remote" at the URL activate() set.
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    argv = [sys.executable, "-m", "patternlab", "bench", "--repeat", "1", "--concurrent", "4",
            "--json"]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=580)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_bench_smoke_has_the_documented_shape(smoke):
    """The JSON has a row per pattern and backend with every measure, ratios and a dashboard."""
    assert {(r["pattern"], r["backend"]) for r in smoke["rows"]} == {
        (p, b) for p in PATTERNS for b in ("plain", "stock", "tuned")
    }
    for row in smoke["rows"]:
        assert set(row) >= ROW_KEYS
        assert set(row["end_to_end_s"]) == {"median", "min", "max"}
    assert set(smoke["ratios"]) == set(PATTERNS)
    assert set(smoke["dashboard"]) >= DASHBOARD_KEYS, smoke["dashboard"].get("error")
    assert {t["target"] for t in smoke["targets"]} == {t[0] for t in report.TARGETS}
    stock, tuned = smoke["backends"]["stock"], smoke["backends"]["tuned"]
    assert stock["server_env"]["database"].startswith("sqlite+aiosqlite")
    assert stock["runner_env"]["PATTERNLAB_TUNING"] == "off"
    assert all(s.startswith("off: ") for s in stock["runner_published"]["adapters"].values())
    assert stock["runner_published"]["query_seconds"] == 10
    assert tuned["server_env"]["database"].startswith("postgresql+asyncpg")
    assert smoke["adapters"]["tuned"] == {
        "heartbeat_exit": "active", "forked_starts": "active", "shared_tls": "active",
    }  # fmt: skip
    assert len(smoke["warmup"]) == 2 * len(PATTERNS)
    steps = smoke["floor_steps"]
    assert "error" not in steps, steps
    assert all(steps[k] > 0 for k in ("request_s", "flow_s", "process_s", "poll_s")), steps
    for pattern in PATTERNS:  # each pattern's floor sits between plain work and the tuned run
        floor = smoke["floor"][pattern]
        assert floor["plain_s"] < floor["floor_s"], floor


def test_bench_smoke_completed_every_pattern_on_every_backend(smoke):
    """Every pattern ran to Completed once on plain Python, stock Prefect and the tuned lab."""
    for row in smoke["rows"]:
        assert (row["runs"], row["completed"]) == (1, 1), row
    for name in ("tuned", "stock"):
        check = smoke["concurrency"][name]
        assert check.get("launches") == 4, check
    assert smoke["concurrency"]["tuned"]["completed"] == 4


def test_memory_fails_loudly_when_a_pid_file_is_missing(tmp_path):
    """A backend part without a pid file fails the memory measure with a message, not 0 MB."""
    settings = LabSettings(home=tmp_path, prefect_api_url=None)
    with pytest.raises(dashboard.MeasureError, match="server's pid file is missing"):
        dashboard.resident_mb(os.getpid(), settings)


def test_memory_of_a_process_that_cannot_be_read_fails_the_measure():
    """A process that exists but cannot be read fails the measure; one that just ended is 0."""

    class Unreadable:
        pid = 4242

        def memory_info(self):
            raise psutil.AccessDenied(4242)

    class Ended(Unreadable):
        def memory_info(self):
            raise psutil.NoSuchProcess(4242)

    with pytest.raises(dashboard.MeasureError, match="rss of pid 4242 cannot be read"):
        dashboard._mem(psutil, Unreadable(), "rss")
    assert dashboard._mem(psutil, Ended(), "rss") == 0.0


class FakeWorker:
    """Stands in for a benchmark worker: records requests, answers like a completed run."""

    def __init__(self, name: str, calls: list) -> None:
        self.name, self.calls, self.status, self.settings = name, calls, {}, LabSettings()

    def ask(self, op: str, **args):
        self.calls.append((self.name, op, args.get("pattern")))
        return {"completed": True, "state": "Completed", "end_to_end_s": 1.0, "poll_ms": 1.0}


def test_warm_and_cold_starts_are_the_median_of_three_samples(monkeypatch, tmp_path):
    """The dashboard step starts the app three times warm and three times cold (each on a fresh
    home), reports the medians, and reads memory once."""
    started, usable = [], iter([3.0, 9.0, 4.0, 20.0, 12.0, 15.0])
    monkeypatch.setattr(
        dashboard,
        "start_app",
        lambda env, log: (
            started.append(env["PATTERNLAB_HOME"]) or SimpleNamespace(pid=1),
            {"usable_s": next(usable)},
        ),
    )
    monkeypatch.setattr(dashboard, "stop_app", lambda proc: None)
    monkeypatch.setattr(dashboard, "resident_mb", lambda pid, s: {"rss_mb": 800.0})
    ready = iter([30.0, 21.0, 25.0])  # the backend a fresh home's Home started, ready to launch
    monkeypatch.setattr(dashboard, "time_until_ready", lambda s, started: next(ready))
    monkeypatch.setattr(run, "stop_backend", lambda s: [])
    workers = {"tuned": FakeWorker("tuned", [])}
    out = run._dashboard(workers, "o/r", tmp_path, 3, lambda line: None)
    out |= run._cold_starts(tmp_path, 3, lambda line: None)
    assert (out["warm_start_s"], out["warm"]["samples"]) == (4.0, [3.0, 9.0, 4.0])
    assert (out["cold_start_s"], out["cold"]["samples"]) == (15.0, [20.0, 12.0, 15.0])
    assert set(out["cold_loadavg"]) == {"before", "after"}
    assert out["cold_launch_ready_s"] == 25.0
    assert out["rss_mb"] == 800.0
    cold_homes = started[3:]
    assert len(set(cold_homes)) == 3  # every cold start on a home of its own


def test_both_backends_get_the_same_unmeasured_warm_up_first(monkeypatch):
    """Before any measured run, each pattern runs once on each backend, and is not measured;
    the fresh-home starts come before any backend is up (nothing else of the lab running)."""
    calls: list = []
    workers = {name: FakeWorker(name, calls) for name in ("tuned", "stock")}

    @contextmanager
    def fake_backends(scratch, say, names=("tuned", "stock")):
        calls.append(("lab", "backends up", None))
        yield workers

    monkeypatch.setattr(run, "_backends", fake_backends)
    monkeypatch.setattr(run, "read_config", lambda s: {})
    monkeypatch.setattr(run, "_dashboard", lambda *a: {"warm_start_s": 2.0})
    cold = {"cold_start_s": 1.0, "cold_launch_ready_s": 8.0}
    monkeypatch.setattr(run, "_cold_starts",
                        lambda *a: calls.append(("lab", "cold", None)) or cold)  # fmt: skip
    monkeypatch.setattr(run, "plain_run", lambda repo: {"completed": True, "end_to_end_s": 0.1})
    result = run.run_bench(repeat=1, concurrent_n=2)
    runs = [c for c in calls if c[1] == "run"]
    warmup = runs[: 2 * len(PATTERNS)]
    assert sorted((w[0], w[2]) for w in warmup) == sorted(
        (b, p) for b in ("tuned", "stock") for p in PATTERNS
    )
    assert len(result["warmup"]) == 2 * len(PATTERNS)
    assert len([r for r in result["runs"] if r["backend"] != "plain"]) == 2 * len(PATTERNS)
    assert calls[:2] == [("lab", "cold", None), ("lab", "backends up", None)]
    assert result["dashboard"] == {"warm_start_s": 2.0, **cold}


def test_a_running_backends_configuration_is_read_back(lab_backend):
    """The benchmark reads what the tuned backend runs with from its processes and its server."""
    config = read_config(get_settings())
    assert config["server_prefect"] == "3.9.1"
    assert config["server_env"]["database"].startswith("postgresql+asyncpg://postgres@/prefect")
    assert config["runner_env"]["PATTERNLAB_TUNING"] == "on"
    published = config["runner_published"]
    assert published["query_seconds"] == float(config["runner_env"]["PATTERNLAB_RUNNER_POLL_S"])
    assert set(published["adapters"].values()) == {"active"}


def test_the_floor_prices_each_required_step_per_pattern():
    """A pattern's floor is its runner-started runs, flows and task calls priced at the measured
    step costs, plus the hand-off wait Prefect's design requires and the plain work."""
    steps = {"request_s": 0.01, "flow_s": 0.1, "task_s": 0.005, "process_s": 0.2, "poll_s": 0.5,
             "child_poll_s": 0.25}  # fmt: skip

    def row(pattern, backend, **medians):
        return {"pattern": pattern, "backend": backend,
                **{k: {"median": v, "min": v, "max": v} for k, v in medians.items()}}  # fmt: skip

    summary = [
        row("deployments", "plain", work_s=0.05),
        row("deployments", "tuned", runner_runs=2, flow_runs=2, task_runs=6, end_to_end_s=2.0),
        row("deployments", "stock", end_to_end_s=20.0),
    ]
    found = report.floors(summary, steps)["deployments"]
    runner = 0.5 / 2 + 4 * 0.01 + 0.2  # wait for the poll, its 4 requests, a forked process
    expected = 2 * runner + 2 * 0.1 + 6 * 0.005 + (0.25 / 2 + 0.01) + 0.05
    assert found["floor_s"] == pytest.approx(expected, abs=0.001)
    assert found["distance_s"] == pytest.approx(2.0 - expected, abs=0.001)
    assert (found["plain_s"], found["stock_s"], found["tuned_s"]) == (0.05, 20.0, 2.0)
    assert report.floors(summary, {})["deployments"]["floor_s"] is None  # not measured: no floor
