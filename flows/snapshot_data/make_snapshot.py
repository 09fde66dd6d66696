"""Regenerate the offline snapshot deterministically: `python -m flows.snapshot_data.make_snapshot`.

Repository figures (stars, forks, issues, descriptions, dates) are approximate real-world values
as of SNAPSHOT_DATE; numeric ids are illustrative. Contributor logins and per-person counts are
synthetic, drawn from a long-tail distribution with a fixed seed: every run writes the same bytes.
"""

from __future__ import annotations

import base64
import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flows.snapshot import SNAPSHOT_DATE, SNAPSHOT_NOTE, user_object

SEED = 20261120
OUT = Path(__file__).parent
WEEKS = 104  # trimmed: GitHub returns every week since the first commit
STATS_AUTHORS = 100  # GitHub's /stats/contributors lists the top 100 authors
NO_LINE_COUNTS = 10_000  # GitHub reports a = d = 0 for repositories with 10,000+ commits
STATS_202_FIRST = "temporalio/temporal"
API = "https://api.github.com"


@dataclass(frozen=True)
class Repo:
    """Approximate public facts about one repository, plus the synthetic contributor plan."""

    full_name: str
    repo_id: int
    owner_id: int
    description: str
    homepage: str
    created_at: str
    language: str
    license: tuple[str, str, str, str]  # key, name, spdx_id, node_id
    topics: tuple[str, ...]
    stars: int
    forks: int
    open_issues: int
    subscribers: int
    size_kb: int
    default_branch: str
    contributors: int
    commits: int
    prefix: str


APACHE = ("apache-2.0", "Apache License 2.0", "Apache-2.0", "MDc6TGljZW5zZTI=")
MIT = ("mit", "MIT License", "MIT", "MDc6TGljZW5zZTEz")
REPOS = (
    Repo("PrefectHQ/prefect", 139199684, 39270919,
         "Prefect is a workflow orchestration framework for building resilient data pipelines "
         "in Python.", "https://prefect.io", "2018-06-29T21:59:26Z", "Python", APACHE,
         ("automation", "data", "data-engineering", "data-ops", "data-science", "infrastructure",
          "ml-ops", "observability", "orchestration", "pipeline", "python", "workflow"),
         22400, 2050, 940, 165, 231_000, "main", 430, 27_000, "prefect"),
    Repo("apache/airflow", 33884891, 47359,
         "Apache Airflow - A platform to programmatically author, schedule, and monitor "
         "workflows", "https://airflow.apache.org/", "2015-04-13T18:04:58Z", "Python", APACHE,
         ("airflow", "apache", "apache-airflow", "automation", "dag", "data-engineering",
          "data-integration", "elt", "etl", "orchestration", "scheduler", "workflow"),
         44500, 16600, 1750, 770, 412_000, "main", 480, 36_000, "airflow"),
    Repo("dagster-io/dagster", 131619646, 36246627,
         "An orchestration platform for the development, production, and observation of data "
         "assets.", "https://dagster.io", "2018-04-30T16:30:04Z", "Python", APACHE,
         ("analytics", "data-engineering", "data-orchestrator", "data-pipelines",
          "data-science", "dagster", "etl", "metadata", "mlops", "orchestration", "python",
          "scheduler", "workflow"),
         15200, 1980, 2300, 125, 598_000, "master", 410, 26_000, "dagster"),
    Repo("temporalio/temporal", 208836214, 56493103, "Temporal service",
         "https://docs.temporal.io", "2019-09-16T19:54:38Z", "Go", MIT,
         ("distributed-systems", "go", "microservices", "orchestration", "service-bus",
          "workflow", "workflow-engine"),
         16800, 1250, 620, 190, 105_000, "main", 240, 7_400, "temporal"),
    Repo("flyteorg/flyte", 216389811, 35380635,
         "Scalable and flexible workflow orchestration platform that seamlessly unifies data, "
         "ML and analytics stacks.", "https://flyte.org", "2019-10-20T16:15:23Z", "Go", APACHE,
         ("data", "data-analysis", "data-science", "dataops", "declarative", "fine-tuning",
          "grpc", "kubernetes", "machine-learning", "mlops", "orchestration", "python",
          "workflow"),
         6900, 760, 410, 80, 281_000, "master", 190, 6_200, "flyte"),
    Repo("kestra-io/kestra", 200869457, 59033362,
         "Event Driven Orchestration & Scheduling Platform for Mission Critical Applications",
         "https://kestra.io", "2019-08-16T07:44:03Z", "Java", APACHE,
         ("automation", "data-orchestration", "devops", "low-code", "orchestration",
          "pipeline", "scheduler", "workflow", "workflow-engine"),
         25500, 2300, 560, 140, 78_000, "develop", 360, 11_500, "kestra"),
)  # fmt: skip


URL_SUFFIXES = {
    "forks": "/forks", "keys": "/keys{/key_id}", "collaborators": "/collaborators{/collaborator}",
    "teams": "/teams", "hooks": "/hooks", "issue_events": "/issues/events{/number}",
    "events": "/events", "assignees": "/assignees{/user}", "branches": "/branches{/branch}",
    "tags": "/tags", "blobs": "/git/blobs{/sha}", "git_tags": "/git/tags{/sha}",
    "git_refs": "/git/refs{/sha}", "trees": "/git/trees{/sha}", "statuses": "/statuses/{sha}",
    "languages": "/languages", "stargazers": "/stargazers", "contributors": "/contributors",
    "subscribers": "/subscribers", "subscription": "/subscription", "commits": "/commits{/sha}",
    "git_commits": "/git/commits{/sha}", "comments": "/comments{/number}",
    "issue_comment": "/issues/comments{/number}", "contents": "/contents/{+path}",
    "compare": "/compare/{base}...{head}", "merges": "/merges",
    "archive": "/{archive_format}{/ref}", "downloads": "/downloads", "issues": "/issues{/number}",
    "pulls": "/pulls{/number}", "milestones": "/milestones{/number}",
    "notifications": "/notifications{?since,all,participating}", "labels": "/labels{/name}",
    "releases": "/releases{/id}", "deployments": "/deployments",
}  # fmt: skip


def node_id(kind: str, number: int) -> str:
    """Return a legacy global node id such as base64("010:Repository139199684")."""
    return base64.b64encode(f"{len(kind):03d}:{kind}{number}".encode()).decode()


def repo_object(repo: Repo, rng: random.Random) -> dict[str, Any]:
    """Return GitHub's full repository object (GET /repos/{owner}/{repo})."""
    owner_login, name = repo.full_name.split("/")
    url = f"{API}/repos/{repo.full_name}"
    owner = user_object(owner_login, repo.owner_id, "Organization")
    hour, minute, second = rng.randint(6, 17), rng.randint(0, 59), rng.randint(0, 59)
    pushed = f"{SNAPSHOT_DATE}T{hour:02d}:{minute:02d}:{second:02d}Z"
    urls = {f"{key}_url": url + suffix for key, suffix in URL_SUFFIXES.items()}
    key, lic_name, spdx, lic_node = repo.license
    return {
        "id": repo.repo_id, "node_id": node_id("Repository", repo.repo_id), "name": name,
        "full_name": repo.full_name, "private": False, "owner": owner,
        "html_url": f"https://github.com/{repo.full_name}", "description": repo.description,
        "fork": False, "url": url, **urls,
        "created_at": repo.created_at, "updated_at": pushed, "pushed_at": pushed,
        "git_url": f"git://github.com/{repo.full_name}.git",
        "ssh_url": f"git@github.com:{repo.full_name}.git",
        "clone_url": f"https://github.com/{repo.full_name}.git",
        "svn_url": f"https://github.com/{repo.full_name}", "homepage": repo.homepage,
        "size": repo.size_kb, "stargazers_count": repo.stars, "watchers_count": repo.stars,
        "language": repo.language, "has_issues": True, "has_projects": True,
        "has_downloads": True, "has_wiki": False, "has_pages": False, "has_discussions": True,
        "forks_count": repo.forks, "mirror_url": None, "archived": False, "disabled": False,
        "open_issues_count": repo.open_issues,
        "license": {"key": key, "name": lic_name, "spdx_id": spdx,
                    "url": f"{API}/licenses/{key}", "node_id": lic_node},
        "allow_forking": True, "is_template": False, "web_commit_signoff_required": False,
        "topics": list(repo.topics), "visibility": "public", "forks": repo.forks,
        "open_issues": repo.open_issues, "watchers": repo.stars,
        "default_branch": repo.default_branch, "temp_clone_token": None,
        "custom_properties": {}, "organization": owner, "network_count": repo.forks,
        "subscribers_count": repo.subscribers,
    }  # fmt: skip


def contributor_counts(n: int, total: int, rng: random.Random) -> list[int]:
    """Split `total` commits over `n` people with a long tail (Zipf-like, noisy), descending."""
    weights = sorted(
        ((i + 8) ** -1.8 * math.exp(rng.gauss(0, 0.35)) for i in range(n)), reverse=True
    )
    scale = total / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    counts[0] += total - sum(counts)
    return counts


def contributors(repo: Repo, index: int, rng: random.Random) -> list[dict[str, Any]]:
    """Return synthetic contributors in GitHub's order (most contributions first)."""
    counts = contributor_counts(repo.contributors, repo.commits, rng)
    bot_rank = rng.randint(3, 12)
    people = []
    for rank, count in enumerate(counts, start=1):
        is_bot = rank == bot_rank
        login = f"{repo.prefix}-ci-bot[bot]" if is_bot else f"{repo.prefix}-contrib-{rank:03d}"
        people.append({"login": login, "id": 990_000_000 + index * 1000 + rank,
                       "type": "Bot" if is_bot else "User", "contributions": count})  # fmt: skip
    return people


def week_starts() -> list[int]:
    """Return the unix timestamps of the last WEEKS Sundays (00:00 UTC) up to SNAPSHOT_DATE."""
    day = datetime.fromisoformat(SNAPSHOT_DATE).replace(tzinfo=UTC)
    last = day - timedelta(days=(day.weekday() + 1) % 7)
    return [int((last - timedelta(weeks=WEEKS - 1 - i)).timestamp()) for i in range(WEEKS)]


def author_weeks(total: int, rank: int, big: bool, rng: random.Random) -> dict[str, list[int]]:
    """Return one author's weekly a/d/c arrays: bursts of commits inside an active window."""
    c = [0] * WEEKS
    if rng.random() < (0.95 if rank <= 10 else 0.7 if rank <= 40 else 0.5):
        recent = max(1, min(total, round(total * rng.uniform(0.08, 0.3))))
        if rank <= 10:  # maintainers: active most of the window, usually up to now
            start = rng.randint(0, 6)
            end = WEEKS - 1 if rng.random() < 0.8 else rng.randint(60, WEEKS - 1)
        else:
            start = rng.randint(0, WEEKS - 8)
            end = rng.randint(start + 4, WEEKS - 1)
        weights = [0.2 + rng.random() for _ in range(start, end + 1)]
        for week in rng.choices(range(start, end + 1), weights=weights, k=recent):
            c[week] += 1
    a = [0 if big else n * rng.randint(4, 60) for n in c]
    d = [0 if big else n * rng.randint(1, 30) for n in c]
    return {"a": a, "d": d, "c": c}


def stats(repo: Repo, people: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    """Return the stored form of /stats/contributors: top 100 authors, ascending like GitHub."""
    big = repo.commits >= NO_LINE_COUNTS
    authors = [
        {"login": p["login"], "total": p["contributions"],
         **author_weeks(p["contributions"], rank, big, rng)}
        for rank, p in enumerate(people[:STATS_AUTHORS], start=1)
    ]  # fmt: skip
    return {"weeks": week_starts(), "authors": sorted(authors, key=lambda x: x["total"])}


def dump(record: dict[str, Any]) -> str:
    """Serialise a record with one list item per line (small files, readable diffs)."""

    def line(value: Any) -> str:
        """Return value as compact JSON on one line."""
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    parts = [f'"repo":{line(record["repo"])}']
    parts.append('"contributors":[\n' + ",\n".join(map(line, record["contributors"])) + "\n]")
    sc = record["stats_contributors"]
    authors = ",\n".join(map(line, sc["authors"]))
    parts.append(f'"stats_contributors":{{"weeks":{line(sc["weeks"])},"authors":[\n{authors}\n]}}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(out: Path = OUT) -> None:
    """Write index.json and one JSON file per repository to `out` (default: next to this file)."""
    entries = []
    for index, repo in enumerate(REPOS, start=1):
        rng = random.Random(f"{SEED}:{repo.full_name}")
        people = contributors(repo, index, rng)
        record = {"repo": repo_object(repo, rng), "contributors": people,
                  "stats_contributors": stats(repo, people, rng)}  # fmt: skip
        file = repo.full_name.replace("/", "__") + ".json"
        (out / file).write_text(dump(record), encoding="utf-8")
        entries.append({"full_name": repo.full_name, "file": file,
                        "stats_202_first": repo.full_name == STATS_202_FIRST})  # fmt: skip
    index_doc = {"snapshot_date": SNAPSHOT_DATE, "note": SNAPSHOT_NOTE, "seed": SEED,
                 "weeks": WEEKS, "repositories": entries}  # fmt: skip
    (out / "index.json").write_text(json.dumps(index_doc, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
