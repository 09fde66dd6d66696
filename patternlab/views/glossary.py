"""The words the pages use, defined once in plain language (pure: no Streamlit, no I/O).

Pages show these as help text where a term appears (`help_for("ran s")`) and as one glossary a
click away (`GLOSSARY`, `glossary_markdown()`); the HTML report and the Tour read them too.
Numbers are formatted here as well (`number`), so 22,400 reads the same on every page.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

GLOSSARY: dict[str, str] = {
    "conceptual": (
        "Conceptual separation: the job is split into more than one flow, so each part has its "
        "own name, state and history in Prefect."
    ),
    "execution": (
        "Execution separation: the flows ran in more than one operating-system process (or "
        "host), so one part can crash, scale or be deployed without the others."
    ),
    "awareness": (
        "Awareness separation: some run was started by a Prefect automation reacting to an "
        "event, so the code that ran first never names the code that runs next."
    ),
    "entry": (
        "Entry run: the flow run the lab starts for a pattern; every other run of that pattern "
        "(subflows, deployment children, triggered runs) follows from it."
    ),
    "hand-off": (
        "Hand-off: the time from a child run being created (by run_deployment, or by an "
        "automation after an event) to that run running: the price of crossing a boundary."
    ),
    "pick-up": (
        "Pick-up: entry run created → Pending. The run waits for the runner or a worker to poll "
        "Prefect and claim it."
    ),
    "process start": (
        "Process start: Pending → Running. The runner or worker starts a new Python process "
        "for the flow, which imports the code and starts Prefect's engine."
    ),
    "ran s": "Ran s: seconds the flow run spent Running (to now, while it still runs).",
    "waited s": (
        "Waited s: seconds from the run's creation until it started Running: the pick-up and "
        "the process start."
    ),
    "started by": (
        "Started by: what created the run: the lab (an entry run), a parent flow (a subflow or "
        "run_deployment), or an automation (an event trigger)."
    ),
    "contended": (
        "Contended: the patterns ran at the same time on the same machine, so each one's "
        "timings include waiting for the others. One after another is the fair comparison."
    ),
    "worker": (
        "Worker: a Prefect worker process polling a work pool; it starts each flow run of a "
        "pool deployment in a process of its own (pool mode). Served runs have none."
    ),
    "host": (
        "Host: the machine (its hostname) whose process ran the flow, as the flow recorded it."
    ),
    "work": "Work: the HTTP requests and arithmetic, measured inside the tasks themselves.",
    "overhead": (
        "Overhead: end-to-end minus everything named (pick-up, process start, hand-off, held, "
        "work): what orchestration cost."
    ),
    "end-to-end": (
        "End-to-end: from the entry run's creation to the end of the pattern's last run "
        "(subflows, child, triggered run; not the proactive alert)."
    ),
    "drill": (
        "Failure drill: one step made to fail on purpose, to see whether the failure stops at "
        "a boundary or reaches the parent."
    ),
    "proactive window": (
        "Proactive window: the events pattern's alert trigger fires an alert flow when the "
        "upstream has not completed within this many seconds."
    ),
}

MISSING = "–"  # what a table shows for a value that does not exist (never "None" or "nan")


def help_for(*terms: str) -> str:
    """Return the definitions of the given terms, one paragraph each, for a help tooltip."""
    return "\n\n".join(GLOSSARY[t] for t in terms)


def glossary_markdown(terms: Iterable[str] | None = None) -> str:
    """Return the glossary (or the given terms) as a Markdown bullet list."""
    chosen = list(GLOSSARY) if terms is None else list(terms)
    return "\n".join(f"- **{t}**: {GLOSSARY[t].split(': ', 1)[-1]}" for t in chosen)


def number(value: object, digits: int = 0) -> str:
    """Format a number the same on every page: thousands separated, `–` when missing."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return MISSING if value is None else str(value)
    if isinstance(value, float) and math.isnan(value):
        return MISSING
    if isinstance(value, int) and digits == 0:
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def seconds(value: float | None) -> str:
    """Format a duration in seconds (two decimals), `–` when missing."""
    return MISSING if value is None else f"{number(value, 2)} s"
