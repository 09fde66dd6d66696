"""Command line: `python -m patternlab launch | report | emit | backend up|status|down | bench`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from patternlab import cli_demo
from patternlab.launch import DRILLS, HOST_FAULTS, PATTERNS, LaunchReport, PatternReport

if TYPE_CHECKING:
    from patternlab.launch.workload import Workload

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
SHOWN_RUNS = 12  # a fan-out's hundreds of runs are in the JSON report


def _add_workload_arguments(run: argparse.ArgumentParser) -> None:
    """Add what a launch computes: one repository, a list, or an owner's."""
    what = run.add_mutually_exclusive_group(required=True)
    what.add_argument("--repo", help="owner/name or https://github.com/owner/name")
    what.add_argument("--repos", help="several repositories, comma-separated (1 to 256)")
    what.add_argument("--owner", help="an organisation's or user's repositories (see --limit)")
    run.add_argument(
        "--limit", type=int, default=None, metavar="N",
        help="with --owner: how many of its repositories, by name (1 to 256; default 32)",
    )  # fmt: skip


def _add_fanout_arguments(run: argparse.ArgumentParser) -> None:
    """Add the launch's order, repeat and fan-out options."""
    run.add_argument(
        "--order", default="sequential", choices=["sequential", "together"],
        help="sequential (default): one pattern after another, fair timings; together: all at "
        "once (contended)",
    )  # fmt: skip
    run.add_argument(
        "--repeat", type=int, default=1, metavar="K", help="runs of each pattern (1-10)"
    )
    many = "over several repositories:"
    run.add_argument("--runner", default="threads", choices=["threads", "dask"],
                     help=f"{many} monoflow's task runner")  # fmt: skip
    run.add_argument("--concurrent-subflows", action="store_true",
                     help=f"{many} subflows 4 at a time, not one by one")  # fmt: skip
    run.add_argument("--child-limit", type=int, default=4, metavar="L",
                     help=f"{many} deployments' child runs at once (1-16)")  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    """Build the argument parser."""
    parser = argparse.ArgumentParser(prog="python -m patternlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("launch", help="run patterns on the Prefect backend and report")
    run.add_argument("--pattern", action="append", choices=[*PATTERNS, "all"],
                     help="a pattern to run; repeat for several (default: all four)")  # fmt: skip
    _add_workload_arguments(run)
    run.add_argument("--source", default=None, choices=["auto", "github", "snapshot"])
    variant = run.add_mutually_exclusive_group()
    variant.add_argument("--wait-child", dest="variant", action="store_const", const="wait")
    variant.add_argument(
        "--fire-and-forget", dest="variant", action="store_const", const="fire-and-forget"
    )
    _add_fanout_arguments(run)
    hold = "hold the events upstream this long (past its 10 s window fires the alert)"
    run.add_argument("--hold-upstream", type=float, default=0.0, metavar="SECONDS", help=hold)
    drill = (
        "failure drill: make the upstream/entry step or the child step fail on purpose, or make "
        "GitHub answer 503 once (transient) so a task retry shows"
    )
    run.add_argument("--fail", default="none", choices=DRILLS, help=drill)
    fault = "embedded pool mode: kill the lab's worker running the child step, as if its host died"
    run.add_argument("--host-fault", default="none", choices=list(HOST_FAULTS), help=fault)
    run.add_argument("--timeout", type=float, default=None,
                     help="seconds to wait for the runs (default: 180 per pattern and round, "
                     "plus 6 per repository)")  # fmt: skip
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    read = sub.add_parser("report", help="read a launch back from Prefect and print its report")
    read.add_argument("launch_id", help="the id `launch` printed")
    shape = read.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the report as JSON")
    shape.add_argument("--html", metavar="FILE",
                       help="write one self-contained HTML file (opens offline)")  # fmt: skip
    cli_demo.add_emit_command(sub)
    backend = sub.add_parser("backend", help="manage the embedded Prefect backend")
    backend.add_argument("action", choices=["up", "status", "down"])
    bench = sub.add_parser("bench", help="benchmark the patterns: plain, stock Prefect, tuned lab")
    bench.add_argument(
        "--repeat", type=int, default=None, help="runs per pattern and backend (5; --scale: 1)"
    )
    bench.add_argument("--repo", default="PrefectHQ/prefect", help="repository in the snapshot")
    bench.add_argument("--concurrent", type=int, default=20, metavar="N",
                       help="launches at once in the concurrency check (default 20)")  # fmt: skip
    bench.add_argument("--json", action="store_true", help="print the result as JSON")
    choices = "plain, stock, tuned, pool (the tuned lab's deployments run by 2 workers)"
    bench.add_argument(
        "--backends", default="plain,stock,tuned", help=f"comma-separated: {choices}"
    )
    bench.add_argument(
        "--scale", metavar="SIZES",
        help="instead: each pattern over 1..256 synthetic repositories, e.g. 1,8,32,128",
    )  # fmt: skip
    bench.add_argument("--variants", help="with --scale: which (comma-separated; default all)")
    bench.add_argument(
        "--pages", action="store_true",
        help="instead: page switches and Compare's first render, idle and while a launch runs",
    )  # fmt: skip
    return parser


def _bench(args: argparse.Namespace) -> int:
    """Run the benchmark command; fail when a run did not complete (timings never fail it)."""
    from patternlab import bench

    if args.repeat is not None and args.repeat < 1:
        print("error: --repeat must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not 1 <= args.concurrent <= 50:
        print("error: --concurrent must be from 1 to 50", file=sys.stderr)
        return EXIT_BAD_INPUT
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    unknown = sorted(set(backends) - {"plain", "stock", "tuned", "pool"})
    if unknown or not backends:
        print(f"error: --backends takes plain, stock, tuned, pool (got {args.backends!r})",
              file=sys.stderr)  # fmt: skip
        return EXIT_BAD_INPUT
    say = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    if args.scale is not None:
        return _bench_scale(args, say)
    if args.pages:
        from patternlab.bench.pages import run_pages

        result = run_pages(args.repeat or 3, args.repo, progress=say)
        print(json.dumps(result, indent=2, default=str))
        return EXIT_OK
    args.repeat = args.repeat or 5
    try:
        result = bench.run_bench(args.repeat, args.repo, concurrent_n=args.concurrent,
                                 backends=backends, progress=say)  # fmt: skip
    except bench.BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(result, indent=2, default=str) if args.json else bench.format_table(result))
    complete = all(r["completed"] == r["runs"] for r in result["rows"])
    return EXIT_OK if complete else EXIT_FAILED


def _bench_scale(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    """Run `bench --scale`; fail when a run did not complete (timings never fail it)."""
    from patternlab.bench import scale, scale_report

    try:
        sizes = scale.parse_sizes(args.scale)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    variants = [v.strip() for v in args.variants.split(",")] if args.variants else None
    unknown = [v for v in variants or [] if v not in scale_report.VARIANTS]
    if unknown:
        print(f"error: unknown variants {unknown}; known: {', '.join(scale_report.VARIANTS)}",
              file=sys.stderr)  # fmt: skip
        return EXIT_BAD_INPUT
    from patternlab import bench

    try:
        result = scale.run_scale(sizes, variants, args.repeat or 1, progress=say)
    except bench.BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    text = json.dumps(result, indent=2, default=str) if args.json else None
    print(text or scale_report.format_table(result))
    complete = all(p["completed"] == p["runs"] for p in result["curves"])
    return EXIT_OK if complete else EXIT_FAILED


def _print_aggregate(p: PatternReport) -> None:
    """Print a fan-out's launch-level figures."""
    a = p.aggregate
    if a is None:
        return
    print(f"  {a.repositories} repositories: {a.stars} stars, {a.contributors} contributors, "
          f"{a.commits} commits, {a.avg_commits_per_contributor} avg; most stars "
          f"{a.top_by_stars[0].repo if a.top_by_stars else '-'} [{a.source_note}]")  # fmt: skip


def _seconds(value: float | None) -> str:
    """Format seconds for the text report; "-" when not measured (e.g. a fan-out's hand-off)."""
    return "-" if value is None else f"{value}s"


def _print_report(report: LaunchReport) -> None:
    """Print a human-readable report."""
    where = f"pool {report.pool}" if report.pool else "serve"
    print(f"launch {report.launch_id}  repo {report.repo}  source {report.source}"
          + (f" (asked: {report.source_requested})" if report.source_requested not in
             ("", report.source) else "")
          + (f": {report.source_note}" if report.source_note else "")
          + f"  order {report.order}  execution {where}")  # fmt: skip
    for line in report.notices:
        print(f"note: {line}")
    for p in report.patterns:
        t, s = p.timings, p.separation
        name = p.pattern + (f" #{p.round + 1}" if report.repeat > 1 else "")
        s_ = _seconds
        print(f"\n{name:<12} {p.state:<10} runs {len(p.flow_runs)}  tasks {p.task_runs}"
              f"  hosts {p.hosts}  processes {p.processes}  end-to-end {s_(t.end_to_end_s)}"
              f"  queue {s_(t.queue_s)} (pick-up {s_(t.pickup_s)}, process start "
              f"{s_(t.process_start_s)})  hand-off {s_(t.handoff_s)}  held {s_(t.held_s)}"
              f"  work {s_(t.work_s)}  overhead {s_(t.overhead_s)}")  # fmt: skip
        print(f"  separation: conceptual={s.conceptual} execution={s.execution} "
              f"awareness={s.awareness}" + (f"  alert: {p.alert}" if p.alert else ""))  # fmt: skip
        if p.stats:
            st = p.stats
            print(f"  {st.repo}: {st.stars} stars, {st.forks} forks, {st.contributors} "
                  f"contributors, {st.commits} commits, {st.avg_commits_per_contributor} avg "
                  f"[{st.source_note or st.source}]")  # fmt: skip
        _print_aggregate(p)
        for r in p.flow_runs[:SHOWN_RUNS]:
            print(f"    {r.role:<16} {r.flow:<26} {r.state:<10} host={r.host} pid={r.pid} "
                  f"worker={r.worker or '-'} {r.ui_url}")  # fmt: skip
        if len(p.flow_runs) > SHOWN_RUNS:
            print(f"    … and {len(p.flow_runs) - SHOWN_RUNS} more runs (--json lists them all)")
        for e in p.errors:
            print(f"  ! {e}")


def _workload(args: argparse.Namespace) -> Workload | int:
    """Check the launch's repositories before anything starts: the workload, or an exit code."""
    from flows.github_errors import GitHubError, InvalidRepository, OwnerNotFound
    from patternlab.launch.workload import InvalidWorkload, build_workload
    from patternlab.settings import get_settings

    if args.limit is not None and args.owner is None:
        print("error: --limit goes with --owner", file=sys.stderr)
        return EXIT_BAD_INPUT
    source = args.source or get_settings().source
    try:
        return build_workload(args.repo, args.repos, args.owner, args.limit, source)
    except (InvalidRepository, InvalidWorkload, OwnerNotFound) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except GitHubError as exc:  # GitHub down or rate limited while listing the owner
        print(f"error: could not list {args.owner}'s repositories: {exc}", file=sys.stderr)
        return EXIT_FAILED


def launch_patterns(asked: list[str] | None) -> list[str]:
    """Return the patterns a launch runs: each asked once, in the order asked (all four when
    none, or when "all" is among them)."""
    if not asked or "all" in asked:
        return list(PATTERNS)
    return list(dict.fromkeys(asked))


def _launch(args: argparse.Namespace) -> int:
    """Run the launch command."""
    workload = _workload(args)
    if isinstance(workload, int):
        return workload
    from flows.github_errors import GitHubError
    from patternlab.launch.launches import make_plan

    patterns = launch_patterns(args.pattern)
    options = {"order": args.order, "repeat": args.repeat, "child_limit": args.child_limit,
               "task_runner": args.runner, "concurrent_subflows": args.concurrent_subflows,
               "variant": args.variant or "wait", "hold_s": args.hold_upstream,
               "drill": args.fail}  # fmt: skip
    try:
        make_plan(patterns, workload, **options)  # every check, before anything is created
    except (ValueError, GitHubError) as exc:  # e.g. a token that would go over http://
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from patternlab import backend

    if args.host_fault != "none":
        backend.check_faults_possible()  # before anything is started or launched
    backend.ensure_backend(progress=lambda line: print(line, file=sys.stderr))
    from patternlab.launch import host_fault, launch, start_host_fault, wait_for_launch

    launch_id = launch(patterns, workload=workload, **options)
    print(f"launched {launch_id}; waiting for its runs…", file=sys.stderr)
    start_host_fault(launch_id, args.host_fault)
    steps = len(patterns) * args.repeat
    timeout = args.timeout or steps * (180.0 + 6.0 * (workload.size if workload.size > 1 else 0))
    report = wait_for_launch(launch_id, timeout_s=timeout)  # starts each next pattern
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
        print(f"error: the launch did not finish within {timeout:.0f} s", file=sys.stderr)
    return EXIT_OK if ok else EXIT_FAILED


def _report(args: argparse.Namespace) -> int:
    """Run the report command: read a launch back (nothing is started or changed)."""
    from patternlab.launch import read_launch

    try:
        report = read_launch(args.launch_id)
    except LookupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.html:
        return cli_demo.write_html(report, args.html)
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
        commands = {"launch": _launch, "backend": _backend, "bench": _bench, "report": _report,
                    "emit": lambda a: cli_demo.emit(a, _print_report)}  # fmt: skip
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
