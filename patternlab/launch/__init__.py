"""Launches: start patterns through their deployments, read them back, judge what happened.

The public face for the CLI, the benchmark and the pages. Its models are plain data; no
Prefect object leaves this package.
"""

from __future__ import annotations

import importlib
from typing import Any

from patternlab.launch.catalog import FLOW_ROLES, PATTERN_INFO, PatternInfo
from patternlab.launch.drills import DRILL_LABELS, DRILLS, DrillOutcome, drill_outcome
from patternlab.launch.host_faults import (
    HOST_FAULTS,
    HostFaultOutcome,
    host_fault,
    start_host_fault,
)
from patternlab.launch.metrics import alert_deadline
from patternlab.launch.models import (
    FINAL_STATUSES,
    PATTERNS,
    SETTLE_S,
    Aggregate,
    Contributor,
    FlowRunInfo,
    HistoryPage,
    HistoryRow,
    LaunchReport,
    Pattern,
    PatternReport,
    Progress,
    RepoRank,
    RepoStats,
    Role,
    Separation,
    Status,
    Timings,
    WeekCommits,
)
from patternlab.launch.source import LaunchSource, check_source, resolve_source

# These read from Prefect, which costs ~2 s to import: loaded on first use.
_LAZY = {
    "launch": "launches", "wait_for_launch": "launches", "advance_launch": "launches",
    "read_launch": "readback",
    "list_launches": "history", "list_all_launches": "history",
    "emit_refresh": "emit", "wait_for_emitted": "emit",
    "build_workload": "workload", "Workload": "workload", "InvalidWorkload": "workload",
    "read_run_logs": "logs", "launch_ui_url": "logs", "RunLogs": "logs", "LogLine": "logs",
}  # fmt: skip

__all__ = [
    "DRILLS", "DRILL_LABELS", "FINAL_STATUSES", "FLOW_ROLES", "PATTERNS", "PATTERN_INFO",
    "SETTLE_S", "Aggregate", "Progress", "RepoRank", "Contributor", "DrillOutcome", "FlowRunInfo",
    "HistoryPage", "HistoryRow", "LaunchReport",
    "Pattern", "PatternInfo", "PatternReport", "RepoStats", "Role", "Separation", "Status",
    "Timings", "WeekCommits", "LaunchSource", "alert_deadline", "check_source", "drill_outcome",
    "resolve_source",
    "HOST_FAULTS", "HostFaultOutcome", "host_fault", "start_host_fault",
    *_LAZY,
]  # fmt: skip


def __getattr__(name: str) -> Any:
    """Load the parts of the face that talk to Prefect on first use."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"patternlab.launch.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
