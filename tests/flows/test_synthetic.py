"""The snapshot's synthetic organisation: generated, deterministic, GitHub's shapes, labelled."""

from __future__ import annotations

import json

from flows import snapshot_synthetic as synthetic
from flows.github import GitHubClient, build_http_client
from flows.snapshot import DATA_DIR, SNAPSHOT_NOTE, snapshot_note
from flows.snapshot_synthetic import SYNTHETIC_NOTE, SYNTHETIC_OWNER, synthetic_names
from flows.tasks import fetch_commit_activity, fetch_contributors, fetch_repo, summarise_stats

TEMPLATE = json.loads((DATA_DIR / "PrefectHQ__prefect.json").read_text())["repo"]


def test_the_organisation_holds_256_repositories_in_name_order():
    """Its names are patternlab-synthetic/repo-001 ... repo-256; a limit takes the first ones."""
    names = synthetic_names()
    assert len(names) == 256
    assert names == sorted(names)
    assert names[0] == f"{SYNTHETIC_OWNER}/repo-001"
    assert names[-1].endswith("repo-256")
    assert synthetic_names(3) == names[:3]


def test_the_same_name_always_gives_the_same_figures():
    """Generated from a fixed seed: regenerating (an empty cache, as in a new process) is equal."""
    first = synthetic.synthetic_record(f"{SYNTHETIC_OWNER}/repo-042")
    synthetic._record.cache_clear()
    again = synthetic.synthetic_record(f"{SYNTHETIC_OWNER}/repo-042")
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    other = synthetic.synthetic_record(f"{SYNTHETIC_OWNER}/repo-043")
    assert other["repo"]["stargazers_count"] != first["repo"]["stargazers_count"] or (
        other["contributors"] != first["contributors"]
    )


def test_names_outside_the_organisation_are_not_synthetic():
    """Only repo-001..repo-256 of the organisation exist; anything else is not generated."""
    for name in (f"{SYNTHETIC_OWNER}/repo-000", f"{SYNTHETIC_OWNER}/repo-257", "a/repo-001"):
        assert synthetic.synthetic_record(name) is None


def test_a_repository_has_githubs_full_shape_with_its_own_urls():
    """Every key of GitHub's full repository object, URLs naming the synthetic repository."""
    repo = synthetic.synthetic_record(f"{SYNTHETIC_OWNER}/repo-007")["repo"]
    assert list(repo) == list(TEMPLATE)
    for key, value in TEMPLATE.items():
        if key.endswith("_url") and isinstance(value, str):
            assert repo[key] == value.replace("PrefectHQ/prefect", f"{SYNTHETIC_OWNER}/repo-007")
    assert "not real data" in repo["description"]


def test_the_client_reads_a_synthetic_repository_like_any_other():
    """Repository, contributors (one or two pages) and weekly activity, through the snapshot."""
    gh = GitHubClient(build_http_client("snapshot"))
    for name in [*synthetic_names(256)[::16], f"{SYNTHETIC_OWNER}/repo-006"]:
        stored = synthetic.synthetic_record(name)["contributors"]
        info = gh.get_repo(name)
        people = gh.list_contributors(name)
        stats = gh.get_contributor_stats(name)
        assert info["full_name"] == name
        assert [p["login"] for p in people] == [p["login"] for p in stored]
        assert stats
        assert all(len(a["weeks"]) == 52 for a in stats)
    assert len(stored) > 100  # repo-006 spans two pages of 100: the Link was followed


def test_statistics_of_a_synthetic_repository_say_synthetic():
    """The computed statistics carry the synthetic note and flag, never the sample's note."""
    name = f"{SYNTHETIC_OWNER}/repo-003"
    stats = summarise_stats.fn(
        name,
        "snapshot",
        fetch_repo.fn(name, "snapshot"),
        fetch_contributors.fn(name, "snapshot"),
        fetch_commit_activity.fn(name, "snapshot"),
    )
    assert stats["synthetic"] is True
    assert stats["source_note"] == SYNTHETIC_NOTE
    assert snapshot_note(name) == SYNTHETIC_NOTE
    assert snapshot_note("PrefectHQ/prefect") == SNAPSHOT_NOTE
