"""Labels the views share: a pattern's title, one pattern of one launch, escaped text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from patternlab.launch import PATTERN_INFO, LaunchReport, PatternReport

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


@dataclass(frozen=True)
class Entry:
    """One pattern of one launch, labelled for charts and tables."""

    label: str
    pattern: str
    launch_id: str
    report: PatternReport


def escape_md(text: object) -> str:
    """Escape Markdown (and Streamlit's $-LaTeX) so outside text shows literally."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def pattern_title(pattern: str) -> str:
    """Return a pattern's display title."""
    info = PATTERN_INFO.get(pattern)
    return info.title if info else pattern


def repositories(n: int) -> str:
    """Say a number of repositories: "1 repository", "128 repositories"."""
    return f"{n} repositor{'y' if n == 1 else 'ies'}"


def entries(reports: Sequence[LaunchReport]) -> list[Entry]:
    """List every pattern of the launches (patterns still queued left out); a pattern seen twice
    gets its launch id in the label, and its round when its launch repeated it."""
    shown = [(r, p) for r in reports for p in r.patterns if not p.queued]
    seen = Counter(p.pattern for _, p in shown)
    launches = {r.launch_id for r in reports}
    out = []
    for r, p in shown:
        label = pattern_title(p.pattern)
        if seen[p.pattern] > 1 and len(launches) > 1:
            label = f"{label} · {r.launch_id[:6]}"
        if r.repeat > 1:
            label = f"{label} #{p.round + 1}"
        out.append(Entry(label, p.pattern, r.launch_id, p))
    return out
