"""The offline snapshot answers like GitHub, and the same client code parses it."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from flows.github import GitHubClient, RepositoryNotFound, build_http_client, summarise
from flows.snapshot import (
    DATA_DIR,
    SNAPSHOT_DATE,
    SNAPSHOT_NOTE,
    SnapshotTransport,
    snapshot_repos,
)
from flows.snapshot_data import make_snapshot

REQUIRED = [
    "PrefectHQ/prefect",
    "apache/airflow",
    "dagster-io/dagster",
    "temporalio/temporal",
    "flyteorg/flyte",
    "kestra-io/kestra",
]
USER_FIELDS = {
    "login", "id", "node_id", "avatar_url", "gravatar_id", "url", "html_url", "followers_url",
    "following_url", "gists_url", "starred_url", "subscriptions_url", "organizations_url",
    "repos_url", "events_url", "received_events_url", "type", "user_view_type", "site_admin",
}  # fmt: skip


class Counting(httpx.BaseTransport):
    """Pass requests to a SnapshotTransport and keep their URLs."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.urls: list[httpx.URL] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Record the URL, then answer from the snapshot."""
        self.urls.append(request.url)
        return self.inner.handle_request(request)


def snapshot_http(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """Return an httpx client on the snapshot (optionally through another transport)."""
    http = build_http_client("snapshot")
    if transport is not None:
        http = httpx.Client(base_url=http.base_url, headers=http.headers, transport=transport)
    return http


def records() -> dict[str, dict[str, Any]]:
    """Return the stored data of every bundled repository, keyed by full name."""
    index = json.loads((DATA_DIR / "index.json").read_text(encoding="utf-8"))
    return {
        e["full_name"]: json.loads((DATA_DIR / e["file"]).read_text(encoding="utf-8"))
        for e in index["repositories"]
    }


def test_snapshot_bundles_the_well_known_orchestrators() -> None:
    """The six orchestration repositories the lab offers are bundled."""
    assert set(REQUIRED) <= set(snapshot_repos())


@pytest.mark.parametrize("repo", REQUIRED)
def test_every_bundled_repo_parses_through_the_client(repo: str) -> None:
    """Each repository goes through GitHubClient and summarise with positive figures."""
    client = GitHubClient(build_http_client("snapshot"), sleep=lambda s: None)
    summary = summarise(
        client.get_repo(repo), client.list_contributors(repo), client.get_contributor_stats(repo)
    )
    assert summary["stars"] > 0
    assert summary["contributors"] > 0
    assert summary["commits"] >= summary["contributors"]
    assert summary["avg_commits_per_contributor"] > 0
    assert summary["stats_status"] == "complete"
    assert len(summary["weekly_commits"]) == 52
    assert summary["weekly_commits"][-1]["week"] <= SNAPSHOT_DATE
    assert summary["description"]


@pytest.mark.parametrize("repo", REQUIRED)
def test_contributors_come_in_several_pages_of_100(repo: str) -> None:
    """Every bundled list spans 2-5 pages of 100, all of which the client follows."""
    counting = Counting(SnapshotTransport())
    people = GitHubClient(snapshot_http(counting)).list_contributors(repo)
    pages = math.ceil(len(people) / 100)
    assert 150 <= len(people) <= 480
    assert 2 <= pages <= 5
    assert len(counting.urls) == pages
    assert [u.params.get("page") for u in counting.urls] == [None, *map(str, range(2, pages + 1))]
    assert [p["contributions"] for p in people] == sorted(
        (p["contributions"] for p in people), reverse=True
    )
    assert people[-1]["contributions"] <= 2 < people[0]["contributions"] // 100  # long tail


def test_link_header_is_githubs() -> None:
    """A middle page links prev, next, last and first by repository id, as GitHub does."""
    http = snapshot_http()
    response = http.get(
        "/repos/PrefectHQ/prefect/contributors", params={"per_page": 100, "page": 2}
    )
    base = "https://api.github.com/repositories/139199684/contributors?per_page=100"
    assert response.headers["link"] == (
        f'<{base}&page=1>; rel="prev", <{base}&page=3>; rel="next", '
        f'<{base}&page=5>; rel="last", <{base}&page=1>; rel="first"'
    )
    last = http.get("/repositories/139199684/contributors", params={"per_page": 100, "page": 5})
    assert set(last.links) == {"prev", "first"}
    assert len(last.json()) == 30


def test_default_page_size_is_30_and_100_is_the_maximum() -> None:
    """Without per_page GitHub gives 30 items; above 100 it gives 100."""
    http = snapshot_http()
    assert len(http.get("/repos/PrefectHQ/prefect/contributors").json()) == 30
    big = http.get("/repos/PrefectHQ/prefect/contributors", params={"per_page": 500})
    assert len(big.json()) == 100


def test_responses_carry_githubs_headers() -> None:
    """Responses have GitHub's content type and rate-limit headers, and say they are a sample."""
    response = snapshot_http().get("/repos/apache/airflow")
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["x-ratelimit-limit"] == "60"
    assert int(response.headers["x-ratelimit-remaining"]) == 59
    assert int(response.headers["x-ratelimit-reset"]) > time.time()
    assert response.headers["x-patternlab-snapshot"] == SNAPSHOT_DATE


def test_items_have_githubs_full_shapes() -> None:
    """Contributor items and stats authors carry every field of GitHub's user object."""
    http = snapshot_http()
    contributor = http.get("/repos/flyteorg/flyte/contributors").json()[0]
    assert set(contributor) == USER_FIELDS | {"contributions"}
    stats = http.get("/repos/flyteorg/flyte/stats/contributors").json()
    assert set(stats[0]) == {"total", "weeks", "author"}
    assert set(stats[0]["author"]) == USER_FIELDS
    assert set(stats[0]["weeks"][0]) == {"w", "a", "d", "c"}
    repo = http.get("/repos/flyteorg/flyte").json()
    assert {"id", "node_id", "owner", "html_url", "subscribers_count", "pushed_at"} <= set(repo)


def test_stats_list_top_100_ascending_with_104_sunday_weeks() -> None:
    """/stats/contributors has the top 100 authors, ascending by total, over 104 Sunday weeks."""
    stats = snapshot_http().get("/repos/apache/airflow/stats/contributors").json()
    assert len(stats) == 100
    assert [a["total"] for a in stats] == sorted(a["total"] for a in stats)
    weeks = [datetime.fromtimestamp(w["w"], tz=UTC) for w in stats[0]["weeks"]]
    assert len(weeks) == 104
    assert all(w.weekday() == 6 and w.hour == 0 for w in weeks)  # Sunday 00:00 UTC
    assert weeks[-1].date() <= date.fromisoformat(SNAPSHOT_DATE)
    assert all(sum(w["c"] for w in a["weeks"]) <= a["total"] for a in stats)


def test_one_repo_answers_202_first_then_stats_after_a_retry() -> None:
    """temporalio/temporal answers 202 once per transport; the client backs off and gets stats."""
    http = snapshot_http()
    first = http.get("/repos/temporalio/temporal/stats/contributors")
    assert (first.status_code, first.content) == (202, b"")
    assert http.get("/repos/temporalio/temporal/stats/contributors").status_code == 200
    sleeps: list[float] = []
    client = GitHubClient(build_http_client("snapshot"), sleep=sleeps.append)
    assert len(client.get_contributor_stats("temporalio/temporal") or []) == 100
    assert sleeps == [0.5]


def test_latency_setting_delays_each_answer() -> None:
    """latency_ms delays every answer by at least that long."""
    http = httpx.Client(base_url="https://api.github.com", transport=SnapshotTransport(120))
    started = time.perf_counter()
    http.get("/rate_limit")
    assert time.perf_counter() - started >= 0.12


def test_unknown_repo_is_githubs_404_and_repository_not_found() -> None:
    """An unknown repository gets GitHub's 404 body; the client says what the snapshot holds."""
    response = snapshot_http().get("/repos/octocat/Hello-World")
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert response.json()["status"] == "404"
    client = GitHubClient(build_http_client("snapshot"))
    with pytest.raises(RepositoryNotFound, match="not in the offline snapshot.*PrefectHQ/prefect"):
        client.get_repo("octocat/Hello-World")


def test_matching_is_case_insensitive_like_github() -> None:
    """prefecthq/PREFECT finds PrefectHQ/prefect, whose full_name keeps GitHub's spelling."""
    client = GitHubClient(build_http_client("snapshot"))
    assert client.get_repo("prefecthq/PREFECT")["full_name"] == "PrefectHQ/prefect"


def test_rate_limit_endpoint_answers() -> None:
    """/rate_limit answers GitHub's shape with calls remaining."""
    body = snapshot_http().get("/rate_limit").json()
    assert body["resources"]["core"]["remaining"] > 0
    assert body["rate"] == body["resources"]["core"]


def test_other_methods_and_paths_are_not_found() -> None:
    """Anything but the four GET endpoints is GitHub's 404."""
    http = snapshot_http()
    assert http.post("/repos/PrefectHQ/prefect").status_code == 404
    assert http.get("/repos/PrefectHQ/prefect/issues").status_code == 404


def test_snapshot_is_dated_and_labelled() -> None:
    """The note names the date and says the people are synthetic; index.json agrees."""
    index = json.loads((DATA_DIR / "index.json").read_text(encoding="utf-8"))
    assert index["snapshot_date"] == SNAPSHOT_DATE
    assert SNAPSHOT_DATE in SNAPSHOT_NOTE
    assert "synthetic" in SNAPSHOT_NOTE
    assert [e["full_name"] for e in index["repositories"] if e["stats_202_first"]]


def test_data_folder_is_small() -> None:
    """The bundled data stays under 3 MB."""
    assert sum(p.stat().st_size for p in DATA_DIR.iterdir()) < 3_000_000


def test_generator_reproduces_the_bundled_files(tmp_path: Path) -> None:
    """make_snapshot writes exactly the bundled files (fixed seed, deterministic)."""
    make_snapshot.main(tmp_path)
    for path in tmp_path.iterdir():
        assert path.read_bytes() == (DATA_DIR / path.name).read_bytes(), path.name


def test_contributor_logins_are_synthetic() -> None:
    """Every bundled contributor login is a synthetic one."""
    for name, record in records().items():
        prefix = name.split("/")[1].split("-")[0].lower()
        assert all(p["login"].startswith(f"{prefix}-") for p in record["contributors"]), name


def test_transport_serves_another_data_folder(tmp_path: Path) -> None:
    """data_dir points the transport (and snapshot_repos) at another folder of the same format."""
    make_snapshot.main(tmp_path)
    http = httpx.Client(base_url="https://api.github.com", transport=SnapshotTransport(0, tmp_path))
    assert http.get("/repos/kestra-io/kestra").json()["default_branch"] == "develop"
    assert snapshot_repos(tmp_path) == snapshot_repos()
