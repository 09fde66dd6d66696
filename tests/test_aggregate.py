"""The launch-level aggregate of a fan-out: a pure function of the per-repository statistics."""

from __future__ import annotations

from patternlab.launch.aggregate import aggregate
from patternlab.launch.models import RepoStats


def _stats(repo: str, stars: int, contributors: int, commits: int, synthetic=True) -> RepoStats:
    """Return one repository's statistics with the figures the aggregate uses."""
    avg = round(commits / contributors, 2) if contributors else 0.0
    return RepoStats(
        repo=repo, source="snapshot", source_note="Synthetic organisation", stars=stars, forks=1,
        open_issues=2, watchers=3, default_branch="main", contributors=contributors,
        commits=commits, avg_commits_per_contributor=avg, synthetic=synthetic,
    )  # fmt: skip


def test_totals_add_up_and_the_average_is_over_all_contributors():
    """Stars, forks, contributors and commits add up; the average is commits / contributors."""
    found = aggregate([_stats("o/a", 10, 2, 10), _stats("o/b", 30, 8, 10)])
    assert (found.repositories, found.stars, found.forks, found.open_issues) == (2, 40, 2, 4)
    assert (found.contributors, found.commits) == (10, 20)
    assert found.avg_commits_per_contributor == 2.0  # not the mean of 5.0 and 1.25


def test_top_repositories_by_stars_and_by_commits_per_contributor():
    """Ranked highest first, ties broken by name, at most `top` of them."""
    stats = [_stats("o/a", 5, 1, 9), _stats("o/b", 50, 10, 10), _stats("o/c", 50, 2, 2)]
    found = aggregate(stats, top=2)
    assert [(r.repo, r.value) for r in found.top_by_stars] == [("o/b", 50), ("o/c", 50)]
    assert [r.repo for r in found.top_by_commits_per_contributor] == ["o/a", "o/b"]


def test_a_repository_published_twice_counts_once():
    """The same repository (any case) is one repository, not two."""
    found = aggregate([_stats("o/a", 10, 2, 10), _stats("O/A", 10, 2, 10)])
    assert (found.repositories, found.stars) == (1, 10)


def test_repositories_without_statistics_are_listed_as_missing():
    """A launched repository whose statistics never came back is named, not silently dropped."""
    found = aggregate([_stats("o/a", 1, 1, 1)], ["o/a", "o/b", "o/c"])
    assert found.missing == ["o/b", "o/c"]


def test_synthetic_only_when_every_repository_is():
    """The aggregate is labelled synthetic only if all its statistics are."""
    assert aggregate([_stats("o/a", 1, 1, 1)]).synthetic
    mixed = [_stats("o/a", 1, 1, 1), _stats("o/b", 1, 1, 1, synthetic=False)]
    assert not aggregate(mixed).synthetic
    assert not aggregate([]).synthetic


def test_no_statistics_gives_zeroes_not_an_error():
    """An empty fan-out averages zero commits per contributor."""
    found = aggregate([], ["o/a"])
    assert (found.repositories, found.commits, found.avg_commits_per_contributor) == (0, 0, 0.0)
    assert found.missing == ["o/a"]
