"""Command line for the demo: `emit --repo R` (the custom event) and `report ID --html FILE`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from patternlab.launch import LaunchReport

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def add_emit_command(sub: argparse._SubParsersAction) -> None:
    """Add `emit`: post the refresh-request event, as any client could."""
    emit = sub.add_parser(
        "emit",
        help="emit patternlab.repo.refresh-requested: the events downstream runs, no upstream",
    )
    emit.add_argument("--repo", required=True, help="owner/name or https://github.com/owner/name")
    emit.add_argument("--source", default=None, choices=["auto", "github", "snapshot"])
    emit.add_argument("--no-wait", action="store_true", help="print the launch id and return")
    emit.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the run")
    emit.add_argument("--json", action="store_true", help="print the report as JSON")


def emit(args: argparse.Namespace, print_report: Callable[[LaunchReport], None]) -> int:
    """Run the emit command: check, post the event, then wait for the run it starts."""
    from flows.github_errors import GitHubError, InvalidRepository
    from patternlab import backend
    from patternlab.launch import emit_refresh, wait_for_emitted
    from patternlab.settings import get_settings

    source = args.source or get_settings().source
    try:
        from flows.repo_input import parse_repo

        parse_repo(args.repo)  # before anything starts
    except InvalidRepository as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    backend.ensure_backend(progress=lambda line: print(line, file=sys.stderr))
    try:
        launch_id = emit_refresh(args.repo, source)
    except (ValueError, GitHubError) as exc:  # e.g. a token that would go over http://
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"emitted {launch_id}", file=sys.stderr)
    if args.no_wait:
        print(launch_id)
        return EXIT_OK
    try:
        report = wait_for_emitted(launch_id, timeout_s=args.timeout)
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        print_report(report)
    return EXIT_OK if report.done and all(p.state == "Completed" for p in report.patterns) else 1


def write_html(report: LaunchReport, path: str) -> int:
    """Write a launch's self-contained HTML report to `path`; exit 2 when it cannot be written."""
    from pathlib import Path

    from patternlab.views.report_html import build_html_report, report_facts

    target = Path(path)
    if target.is_dir() or not target.parent.is_dir():
        print(f"error: cannot write {path}: no such folder, or it is a folder", file=sys.stderr)
        return EXIT_BAD_INPUT
    partial = target.with_name(f".{target.name}.partial")  # renamed when whole: never half a file
    try:
        partial.write_text(build_html_report([report], report_facts()), encoding="utf-8")
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        print(f"error: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {path} ({target.stat().st_size // 1024} KiB)", file=sys.stderr)
    if not report.done:
        print("note: the launch is still running; the report shows it so far", file=sys.stderr)
    return EXIT_OK
