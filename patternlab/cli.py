"""Command line: `python -m patternlab launch | backend up|status|down | bench`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from patternlab.launch import DRILLS, HOST_FAULTS, PATTERNS, LaunchReport

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    parser = argparse.ArgumentParser(prog="python -m patternlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("launch", help="run patterns on the Prefect backend and report")
    run.add_argument("--pattern", default="all", choices=[*PATTERNS, "all"])
    run.add_argument("--repo", required=True, help="owner/name or https://github.com/owner/name")
    run.add_argument("--source", default=None, choices=["auto", "github", "snapshot"])
    variant = run.add_mutually_exclusive_group()
    variant.add_argument("--wait-child", dest="variant", action="store_const", const="wait")
    variant.add_argument(
        "--fire-and-forget", dest="variant", action="store_const", const="fire-and-forget"
    )
    hold = "hold the events upstream this long (past its 10 s window fires the alert)"
    run.add_argument("--hold-upstream", type=float, default=0.0, metavar="SECONDS", help=hold)
    drill = (
        "failure drill: make the upstream/entry step or the child step fail on purpose, or make "
        "GitHub answer 503 once (transient) so a task retry shows"
    )
    run.add_argument("--fail", default="none", choices=DRILLS, help=drill)
    fault = "embedded pool mode: kill the lab's worker running the child step, as if its host died"
    run.add_argument("--host-fault", default="none", choices=list(HOST_FAULTS), help=fault)
    run.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the runs")
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    read = sub.add_parser("report", help="read a launch back from Prefect and print its report")
    read.add_argument("launch_id", help="the id `launch` printed")
    read.add_argument("--json", action="store_true", help="print the report as JSON")
    backend = sub.add_parser("backend", help="manage the embedded Prefect backend")
    backend.add_argument("action", choices=["up", "status", "down"])
    bench = sub.add_parser("bench", help="benchmark the patterns: plain, stock Prefect, tuned lab")
    bench.add_argument("--repeat", type=int, default=5, help="runs per pattern and backend")
    bench.add_argument("--repo", default="PrefectHQ/prefect", help="repository in the snapshot")
    bench.add_argument("--json", action="store_true", help="print the result as JSON")
    choices = "plain, stock, tuned, pool (the tuned lab's deployments run by 2 workers)"
    bench.add_argument(
        "--backends", default="plain,stock,tuned", help=f"comma-separated: {choices}"
    )
    return parser


def _bench(args: argparse.Namespace) -> int:
    """Run the benchmark command; fail when a run did not complete (timings never fail it)."""
    from patternlab import bench

    if args.repeat < 1:
        print("error: --repeat must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    unknown = sorted(set(backends) - {"plain", "stock", "tuned", "pool"})
    if unknown or not backends:
        print(f"error: --backends takes plain, stock, tuned, pool (got {args.backends!r})",
              file=sys.stderr)  # fmt: skip
        return EXIT_BAD_INPUT
    say = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    try:
        result = bench.run_bench(args.repeat, args.repo, backends=backends, progress=say)
    except bench.BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(result, indent=2, default=str) if args.json else bench.format_table(result))
    complete = all(r["completed"] == r["runs"] for r in result["rows"])
    return EXIT_OK if complete else EXIT_FAILED


def _print_report(report: LaunchReport) -> None:
    """Print a human-readable report."""
    where = f"pool {report.pool}" if report.pool else "serve"
    print(f"launch {report.launch_id}  repo {report.repo}  source {report.source}"
          + (f" (asked: {report.source_requested})" if report.source_requested not in
             ("", report.source) else "")
          + (f": {report.source_note}" if report.source_note else "")
          + f"  execution {where}")  # fmt: skip
    for line in report.notices:
        print(f"note: {line}")
    for p in report.patterns:
        t, s = p.timings, p.separation
        print(f"\n{p.pattern:<12} {p.state:<10} runs {len(p.flow_runs)}  tasks {p.task_runs}"
              f"  hosts {p.hosts}  processes {p.processes}  end-to-end {t.end_to_end_s}s"
              f"  queue {t.queue_s}s (pick-up {t.pickup_s}s, process start {t.process_start_s}s)"
              f"  hand-off {t.handoff_s}s  held {t.held_s}s  work {t.work_s}s"
              f"  overhead {t.overhead_s}s")  # fmt: skip
        print(f"  separation: conceptual={s.conceptual} execution={s.execution} "
              f"awareness={s.awareness}" + (f"  alert: {p.alert}" if p.alert else ""))  # fmt: skip
        if p.stats:
            st = p.stats
            print(f"  {st.repo}: {st.stars} stars, {st.forks} forks, {st.contributors} "
                  f"contributors, {st.commits} commits, {st.avg_commits_per_contributor} avg "
                  f"[{st.source_note or st.source}]")  # fmt: skip
        for r in p.flow_runs:
            print(f"    {r.role:<16} {r.flow:<26} {r.state:<10} host={r.host} pid={r.pid} "
                  f"worker={r.worker or '-'} {r.ui_url}")  # fmt: skip
        for e in p.errors:
            print(f"  ! {e}")


def _launch(args: argparse.Namespace) -> int:
    """Run the launch command."""
    from flows.github_errors import GitHubError
    from flows.repo_input import parse_repo
    from patternlab.launch import check_source
    from patternlab.settings import get_settings

    source = args.source or get_settings().source
    try:
        parse_repo(args.repo)
        check_source(source)  # e.g. a token that would go over plain http://: nothing starts
    except GitHubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from patternlab import backend

    if args.host_fault != "none":
        backend.check_faults_possible()  # before anything is started or launched
    backend.ensure_backend(progress=lambda line: print(line, file=sys.stderr))
    from patternlab.launch import host_fault, launch, start_host_fault, wait_for_launch

    patterns = PATTERNS if args.pattern == "all" else [args.pattern]
    launch_id = launch(
        patterns,
        args.repo,
        source,
        variant=args.variant or "wait",
        hold_s=args.hold_upstream,
        drill=args.fail,
    )
    print(f"launched {launch_id}; waiting for its runs…", file=sys.stderr)
    start_host_fault(launch_id, args.host_fault)
    report = wait_for_launch(launch_id, timeout_s=args.timeout)
    outcome = host_fault(launch_id)
    if outcome is not None:
        from patternlab.views import host_fault_lines

        report.notices += host_fault_lines(outcome, report)
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        _print_report(report)
    ok = report.done and all(p.state == "Completed" for p in report.patterns)
    if not report.done:
        print(f"error: the launch did not finish within {args.timeout:.0f} s", file=sys.stderr)
    return EXIT_OK if ok else EXIT_FAILED


def _report(args: argparse.Namespace) -> int:
    """Run the report command: read a launch back (nothing is started or changed)."""
    from patternlab.launch import read_launch

    try:
        report = read_launch(args.launch_id)
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        _print_report(report)
    return EXIT_OK if report.done and all(p.state == "Completed" for p in report.patterns) else 1


def _backend(args: argparse.Namespace) -> int:
    """Run the backend command."""
    from patternlab import backend

    if args.action == "up":
        status = backend.ensure_backend(progress=lambda line: print(line, file=sys.stderr))
    elif args.action == "down":
        stopped = backend.stop_backend()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return EXIT_OK
    else:
        status = backend.backend_status()
    for key, value in status.to_dict().items():
        if isinstance(value, dict):  # the adapters: one "name: state" per part
            value = "; ".join(f"{k}: {v}" for k, v in value.items())
        print(f"{key:<12} {value}")
    return EXIT_OK if status.server_up else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run a command; return the exit code."""
    args = _parser().parse_args(argv)
    from pydantic import ValidationError

    from patternlab.backend import BackendConfigError, BackendError

    try:
        commands = {"launch": _launch, "backend": _backend, "bench": _bench, "report": _report}
        return commands[args.command](args)
    except BackendConfigError as exc:  # a setting the lab refuses: nothing was started
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValidationError as exc:  # a setting (environment variable) with a bad value
        bad = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'setting'}: {e['msg']}"
                        for e in exc.errors())  # fmt: skip
        print(f"error: bad setting ({bad}); see the settings table in README.md", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BackendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
