"""A fan-out's launch-level figures from its per-repository statistics (pure: testable alone)."""

from __future__ import annotations

from collections.abc import Sequence

from patternlab.launch.models import Aggregate, RepoRank, RepoStats


def aggregate(
    stats: Sequence[RepoStats], launched: Sequence[str] = (), *, top: int = 5
) -> Aggregate:
    """Total the statistics and rank the repositories by stars and by commits per contributor.

    A repository counted twice (it was in the list twice, or published twice) counts once; ranks
    break ties by name, so the same statistics always give the same figures.
    """
    unique = {s.repo.lower(): s for s in stats}
    found = sorted(unique.values(), key=lambda s: s.repo.lower())
    contributors = sum(s.contributors for s in found)
    commits = sum(s.commits for s in found)

    def ranked(value: str) -> list[RepoRank]:
        order = sorted(found, key=lambda s: (-getattr(s, value), s.repo.lower()))
        return [RepoRank(repo=s.repo, value=getattr(s, value)) for s in order[:top]]

    notes = sorted({s.source_note or s.source for s in found})
    return Aggregate(
        repositories=len(found),
        missing=[r for r in launched if r.lower() not in unique],
        stars=sum(s.stars for s in found),
        forks=sum(s.forks for s in found),
        open_issues=sum(s.open_issues for s in found),
        contributors=contributors,
        commits=commits,
        avg_commits_per_contributor=round(commits / contributors, 2) if contributors else 0.0,
        top_by_stars=ranked("stars"),
        top_by_commits_per_contributor=ranked("avg_commits_per_contributor"),
        synthetic=bool(found) and all(s.synthetic for s in found),
        source_note=" | ".join(notes),
    )
