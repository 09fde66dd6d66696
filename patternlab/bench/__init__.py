"""The benchmark (reached from the CLI only): each pattern as plain Python, on stock Prefect and
on the lab's tuned backend, plus the dashboard's own costs. Definitions: docs/performance.md."""

from patternlab.bench.run import BenchError, format_table, run_bench

__all__ = ["BenchError", "format_table", "run_bench"]
