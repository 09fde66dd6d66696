"""The benchmark's pool backend: its rows and ratios, and a real `--backends plain,pool` run.

Like the default smoke run it checks shape and completion only, never a timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from patternlab.bench import report
from patternlab.launch import PATTERNS

ROOT = Path(__file__).resolve().parent.parent


def _row(pattern: str, backend: str, seconds: float) -> dict:
    """Return one raw benchmark run."""
    return {"pattern": pattern, "backend": backend, "completed": True, "end_to_end_s": seconds,
            "handoff_s": seconds / 4}  # fmt: skip


def test_pool_rows_are_summarised_beside_the_others_with_their_ratio_to_tuned():
    """Rows appear only for the backends that ran; pool/tuned is the ratio of medians."""
    rows = [_row(p, b, s) for p in PATTERNS for b, s in (("tuned", 2.0), ("pool", 5.0))]
    summary = report.summarise_rows(rows)
    assert {r["backend"] for r in summary} == {"tuned", "pool"}
    assert report.pool_ratios(summary) == dict.fromkeys(PATTERNS, 2.5)
    targets = {
        t["target"]: t
        for t in report.evaluate(
            {"rows": summary, "ratios": report.ratios(summary), "dashboard": {}, "concurrency": {}}
        )
    }
    assert targets["pool: deployment child created -> Running (s)"]["value"] == 1.25


def test_bench_refuses_an_unknown_backend():
    """`--backends` takes plain, stock, tuned and pool only (exit 2, nothing started)."""
    done = subprocess.run([sys.executable, "-m", "patternlab", "bench", "--backends", "docker"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert "plain, stock, tuned, pool" in done.stderr


@pytest.fixture(scope="module")
def pool_smoke(lab_backend) -> dict:
    """Run `bench --backends plain,pool --repeat 1 --json` (a pool backend of its own)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    argv = [sys.executable, "-m", "patternlab", "bench", "--backends", "plain,pool",
            "--repeat", "1", "--json"]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=580)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_bench_pool_rows_complete_every_pattern(pool_smoke):
    """Every pattern completed once on the pool, with pick-up and process start measured."""
    rows = {(r["pattern"], r["backend"]): r for r in pool_smoke["rows"]}
    assert set(rows) == {(p, b) for p in PATTERNS for b in ("plain", "pool")}
    for pattern in PATTERNS:
        pool = rows[(pattern, "pool")]
        assert (pool["runs"], pool["completed"]) == (1, 1), pool
        assert pool["pickup_s"] is not None
        assert pool["process_start_s"] is not None
    assert rows[("deployments", "pool")]["handoff_s"] is not None
    assert pool_smoke["machine"]["backends"] == ["plain", "pool"]
