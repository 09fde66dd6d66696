"""The benchmark's result: medians with min and max, stock/tuned ratios, targets, and a table."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from patternlab.bench import measure
from patternlab.launch import PATTERNS

BACKENDS = ("plain", "stock", "tuned", "pool")  # pool: the tuned lab on a work pool's workers


def summarise_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group runs by pattern and backend; each measure becomes its median, min and max."""
    grouped: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        grouped[(row["pattern"], row["backend"])].append(row)
    out = []
    present = [name for name in BACKENDS if any(r["backend"] == name for r in rows)]
    for pattern in PATTERNS:
        for name in present:
            runs = grouped.get((pattern, name), [])
            entry: dict[str, Any] = {
                "pattern": pattern,
                "backend": name,
                "runs": len(runs),
                "completed": sum(1 for r in runs if r.get("completed")),
            }
            entry |= {k: measure.summarise(r.get(k) for r in runs) for k in measure.METRICS}
            out.append(entry)
    return out


def _median(rows: list[dict], pattern: str, backend: str, key: str) -> float | None:
    """Return one measure's median for a pattern on a backend, or None."""
    row = next((r for r in rows if r["pattern"] == pattern and r["backend"] == backend), None)
    value = row.get(key) if row else None
    return value["median"] if value else None


def backend_ratios(rows: list[dict], backend: str, base: str = "tuned") -> dict[str, float | None]:
    """Return, per pattern, median end-to-end on `backend` divided by median on `base`."""
    out: dict[str, float | None] = {}
    for pattern in PATTERNS:
        over = _median(rows, pattern, backend, "end_to_end_s")
        under = _median(rows, pattern, base, "end_to_end_s")
        out[pattern] = round(over / under, 2) if over and under else None
    return out


def ratios(rows: list[dict]) -> dict[str, float | None]:
    """Return, per pattern, median end-to-end on stock divided by median on tuned."""
    return backend_ratios(rows, "stock")


def pool_ratios(rows: list[dict]) -> dict[str, float | None]:
    """Return, per pattern, median end-to-end on the pool divided by median on the tuned runner."""
    return backend_ratios(rows, "pool")


def _worst_task_call(rows: list[dict]) -> float | None:
    """Return the largest per-pattern median task-call cost on the tuned backend."""
    values = [_median(rows, p, "tuned", "task_call_ms") for p in PATTERNS]
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _at_twenty(result: dict) -> dict:
    """Return the tuned concurrency check when it ran the target's 20 launches, else {} (n/a)."""
    check = result["concurrency"].get("tuned", {})
    return check if check.get("launches") == 20 else {}


Check = tuple[str, Callable[[dict], Any], str, float]
TARGETS: tuple[Check, ...] = (
    ("events: upstream Completed -> downstream created (s)",
     lambda r: _median(r["rows"], "events", "tuned", "trigger_to_scheduled_s"), "<=", 0.5),
    ("events: upstream Completed -> downstream Running (s)",
     lambda r: _median(r["rows"], "events", "tuned", "trigger_to_running_s"), "<=", 2.5),
    ("deployments: child created -> child Running (s)",
     lambda r: _median(r["rows"], "deployments", "tuned", "handoff_s"), "<=", 2.0),
    ("deployments: parent notices the child's end (s)",
     lambda r: _median(r["rows"], "deployments", "tuned", "notice_s"), "<=", 0.6),
    ("subflow call (ms)",
     lambda r: _median(r["rows"], "subflows", "tuned", "subflow_call_ms"), "<=", 200),
    ("task call, worst pattern (ms)", lambda r: _worst_task_call(r["rows"]), "<=", 10),
    ("20 concurrent subflows launches: lock retries",
     lambda r: _at_twenty(r).get("lock_retries"), "<=", 0),
    ("20 concurrent subflows launches: not completed",
     lambda r: _not_completed(_at_twenty(r)), "<=", 0),
    ("deployments: stock/tuned end-to-end", lambda r: r["ratios"]["deployments"], ">=", 3),
    ("events: stock/tuned end-to-end", lambda r: r["ratios"]["events"], ">=", 3),
    ("dashboard: one poll of a running launch (ms)",
     lambda r: r["dashboard"].get("poll_ms"), "<=", 50),
    ("dashboard: API calls per poll", lambda r: r["dashboard"].get("poll_api_calls"), "<=", 3),
    ("dashboard: streamlit run to a usable page, backend up (s)",
     lambda r: r["dashboard"].get("warm_start_s"), "<=", 3),
    ("dashboard: fresh home, streamlit run to Home's patterns (s)",
     lambda r: r["dashboard"].get("cold_start_s"), "<=", 3),
    ("dashboard: fresh home, streamlit run to a working Launch button (s)",
     lambda r: r["dashboard"].get("cold_launch_ready_s"), "<=", 12),
    ("dashboard: app + database + server + runner RSS (MB)",
     lambda r: r["dashboard"].get("rss_mb"), "<=", 900),
    ("pool: deployment child created -> Running (s)",
     lambda r: _median(r["rows"], "deployments", "pool", "handoff_s"), "<=", 2.0),
)  # fmt: skip


def _not_completed(check: dict) -> int | None:
    """Return how many launches of a concurrency check did not complete."""
    if "launches" not in check:
        return None
    return check["launches"] - check["completed"]


def evaluate(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Check every target against the result: value, limit, met (None when not measured)."""
    out = []
    for name, read, op, limit in TARGETS:
        value = read(result)
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        out.append({"target": name, "value": value, "limit": f"{op} {limit}", "met": met})
    return out


def _handoff_wait_s(summary: list[dict], pattern: str, steps: dict[str, Any]) -> float | None:
    """Return what Prefect's design makes a pattern's hand-off wait, priced here."""
    if pattern == "deployments":  # run_deployment creates the child, then polls it
        if steps.get("child_poll_s") is None or steps.get("request_s") is None:
            return None
        return steps["child_poll_s"] / 2 + steps["request_s"]
    if pattern == "events":  # the event pipeline: Completed -> automation -> flow run created
        return _median(summary, "events", "tuned", "trigger_to_scheduled_s")
    return 0.0


def floors(summary: list[dict], steps: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Return each pattern's floor beside plain, stock and tuned, and tuned's distance to it."""
    out = {}
    for pattern in PATTERNS:
        counts = {k: _median(summary, pattern, "tuned", k)
                  for k in ("runner_runs", "flow_runs", "task_runs")}  # fmt: skip
        counts["work_s"] = _median(summary, pattern, "plain", "work_s")
        counts["handoff_wait_s"] = _handoff_wait_s(summary, pattern, steps)
        floor_s = measure.pattern_floor(steps, counts)
        tuned = _median(summary, pattern, "tuned", "end_to_end_s")
        out[pattern] = {
            "plain_s": counts["work_s"],
            "floor_s": floor_s,
            "stock_s": _median(summary, pattern, "stock", "end_to_end_s"),
            "tuned_s": tuned,
            "distance_s": round(tuned - floor_s, 3) if None not in (tuned, floor_s) else None,
        }
    return out


def assemble(
    rows: list[dict], dashboard: dict, concurrency: dict, steps: dict | None = None
) -> dict[str, Any]:
    """Build the benchmark's result from its raw runs, checks and the floor's priced steps."""
    summary = summarise_rows(rows)
    steps = steps or {}
    result: dict[str, Any] = {
        "rows": summary,
        "ratios": ratios(summary),
        "floor_steps": steps,
        "floor": floors(summary, steps) if "error" not in steps else {},
        "pool_vs_tuned": pool_ratios(summary),
        "dashboard": dashboard,
        "concurrency": concurrency,
        "runs": rows,
    }
    result["targets"] = evaluate(result)
    return result


def _cell(stat: dict | None, scale: float = 1.0) -> str:
    """Format a median (min-max) cell."""
    if not stat:
        return "-"
    m, lo, hi = (stat[k] * scale for k in ("median", "min", "max"))
    return f"{m:.2f} ({lo:.2f}-{hi:.2f})" if hi != lo else f"{m:.2f}"


COLUMNS = (
    ("end-to-end s", "end_to_end_s"), ("queue s", "queue_s"), ("hand-off s", "handoff_s"),
    ("work s", "work_s"), ("overhead s", "overhead_s"), ("task ms", "task_call_ms"),
    ("subflow ms", "subflow_call_ms"), ("trig->sched s", "trigger_to_scheduled_s"),
    ("trig->run s", "trigger_to_running_s"), ("notice s", "notice_s"), ("pick-up s", "pickup_s"),
    ("start s", "process_start_s"), ("backend cpu s", "cpu_s"),
)  # fmt: skip


def _config_line(config: dict[str, Any]) -> str:
    """Say in one line what a backend ran with, as read back from it."""
    if "error" in config:
        return config["error"]
    server, runner = config.get("server_env"), config.get("runner_env")
    published = config.get("runner_published")
    db = server.get("database") if isinstance(server, dict) else server
    if isinstance(published, dict):
        adapters = ", ".join(f"{k} {v}" for k, v in published.get("adapters", {}).items())
        runner_said = f"poll {published.get('query_seconds')} s, adapters: {adapters}"
    else:
        runner_said = published
    return (
        f"Prefect {config.get('server_prefect')}, database {db}; runner env {runner}; {runner_said}"
    )


def _cold_note(d: dict[str, Any]) -> str:
    """Say under what load the fresh-home starts ran (before any other backend), or why not."""
    if d.get("cold_error"):
        return f" (not measured: {d['cold_error']})"
    load = d.get("cold_loadavg")
    if not load:
        return ""
    return f" (nothing else of the lab up; load {load['before'][0]} → {load['after'][0]})"


def format_table(result: dict[str, Any]) -> str:
    """Render the result as plain-text tables (runs, ratios, dashboard, concurrency, targets)."""
    lines = ["pattern      backend ok   " + " | ".join(h for h, _ in COLUMNS)]
    for row in result["rows"]:
        cells = " | ".join(_cell(row[k]) for _, k in COLUMNS)
        lines.append(f"{row['pattern']:<12} {row['backend']:<7} "
                     f"{row['completed']}/{row['runs']:<2} {cells}")  # fmt: skip
    lines.append("\npattern      plain s | floor s | stock s | tuned s | tuned - floor s")
    for pattern, f in result.get("floor", {}).items():
        lines.append(f"{pattern:<12} " + " | ".join(
            "-" if f[k] is None else f"{f[k]:.2f}"
            for k in ("plain_s", "floor_s", "stock_s", "tuned_s", "distance_s")))  # fmt: skip
    lines.append("\nstock/tuned (median end-to-end): "
                 + ", ".join(f"{p} {v}x" for p, v in result["ratios"].items()))  # fmt: skip
    pool = result.get("pool_vs_tuned", {})
    if any(v is not None for v in pool.values()):
        ratios_text = ", ".join(f"{p} {v}x" for p, v in pool.items())
        lines.append(f"pool/tuned (median end-to-end): {ratios_text}")
    d = result["dashboard"]
    pss = (d.get("memory") or {}).get("pss_mb")
    warm, cold = (d.get(k, {}).get("samples") for k in ("warm", "cold"))
    memory_error = (d.get("memory") or {}).get("error")
    lines.append(f"dashboard: poll {d.get('poll_ms')} ms / {d.get('poll_api_calls')} API calls; "
                 f"warm start {d.get('warm_start_s')} s (median of {warm}); cold start "
                 f"{d.get('cold_start_s')} s to the patterns (median of {cold}), "
                 f"{d.get('cold_launch_ready_s')} s to a working Launch{_cold_note(d)}; "
                 f"RSS {d.get('rss_mb')} MB "
                 f"(PSS {pss} MB)" + (f"; memory not measured: {memory_error}"
                                      if memory_error else ""))  # fmt: skip
    for name, config in result.get("backends", {}).items():
        lines.append(f"{name} backend, read back: {_config_line(config)}")
    for name, c in result["concurrency"].items():
        lines.append(f"concurrency {name}: {c.get('completed')}/{c.get('launches')} completed in "
                     f"{c.get('wall_s')} s, lock retries {c.get('lock_retries')}")  # fmt: skip
    lines.append("\ntargets:")
    for t in result["targets"]:
        mark = {True: "met   ", False: "MISSED", None: "n/a   "}[t["met"]]
        lines.append(f"  {mark} {t['target']}: {t['value']} (target {t['limit']})")
    return "\n".join(lines)
