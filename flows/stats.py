"""The statistics themselves: pure arithmetic over GitHub's responses (definitions below)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any


def summarise(
    repo_json: dict[str, Any],
    contributors: list[dict[str, Any]],
    stats: list[dict[str, Any]] | None,
    *,
    top_n: int = 10,
    weeks: int = 52,
) -> dict[str, Any]:
    """Compute the repository statistics (definitions in docs/github.md).

    contributors: accounts GitHub lists as contributors to the default branch (/contributors;
    at most ~500 have a login, the rest are anonymous and not counted); commits: the sum of
    their contribution counts; avg_commits_per_contributor: commits / contributors.
    """
    commits = sum(int(c["contributions"]) for c in contributors)
    count = len(contributors)
    top = sorted(contributors, key=lambda c: -int(c["contributions"]))[: max(top_n, 0)]
    return {
        "stars": repo_json["stargazers_count"],
        "forks": repo_json["forks_count"],
        "open_issues": repo_json["open_issues_count"],
        "watchers": _first_present(repo_json, "subscribers_count", "watchers_count"),
        "default_branch": repo_json["default_branch"],
        "created_at": repo_json.get("created_at"),
        "pushed_at": repo_json.get("pushed_at"),
        "description": repo_json.get("description"),
        "contributors": count,
        "commits": commits,
        "avg_commits_per_contributor": round(commits / count, 2) if count else 0.0,
        "stats_status": "computing" if stats is None else "complete",
        "top_contributors": [
            {"login": c["login"], "contributions": c["contributions"]} for c in top
        ],
        "weekly_commits": _weekly_commits(stats or [], weeks),
    }


def _first_present(obj: dict[str, Any], *keys: str) -> Any:
    """Return the first of keys whose value is not None (None if none is)."""
    return next((obj[k] for k in keys if obj.get(k) is not None), None)


def _weekly_commits(stats: list[dict[str, Any]], weeks: int) -> list[dict[str, Any]]:
    """Sum commits per week over all authors and keep the last `weeks` weeks."""
    totals: dict[int, int] = defaultdict(int)
    for author in stats:
        for week in author["weeks"]:
            totals[week["w"]] += week["c"]
    kept = sorted(totals)[-weeks:] if weeks > 0 else []
    return [
        {"week": datetime.fromtimestamp(w, tz=UTC).date().isoformat(), "commits": totals[w]}
        for w in kept
    ]
