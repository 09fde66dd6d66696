"""Serve the bundled offline GitHub snapshot through an httpx transport, as GitHub would answer."""

from __future__ import annotations

import base64
import functools
import json
import math
import re
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from flows.snapshot_synthetic import (
    FULL_ONLY,
    SYNTHETIC_NOTE,
    SYNTHETIC_OWNER,
    is_synthetic,
    synthetic_names,
    synthetic_record,
)

SNAPSHOT_DATE = "2026-11-20"
SNAPSHOT_NOTE = (
    f"Offline sample (approximate figures as of {SNAPSHOT_DATE}; "
    "contributor names and per-person counts are synthetic)"
)
DATA_DIR = Path(__file__).with_name("snapshot_data")
API_VERSION = "2022-11-28"
SNAPSHOT_HEADER = "x-patternlab-snapshot"
_DOCS = "https://docs.github.com/rest"
_REPO = r"/(?:repos/(?P<owner>[^/]+)/(?P<name>[^/]+)|repositories/(?P<id>[0-9]+))"
_ROUTES = (
    (re.compile(_REPO), "repo", "/repos/repos#get-a-repository"),
    (
        re.compile(_REPO + "/contributors"),
        "contributors",
        "/repos/repos#list-repository-contributors",
    ),
    (
        re.compile(_REPO + "/stats/contributors"),
        "stats",
        "/metrics/statistics#get-all-contributor-commit-activity",
    ),
)
_OWNER_REPOS = re.compile(r"/(?P<kind>orgs|users)/(?P<owner>[^/]+)/repos")
_OWNER_DOCS = {"orgs": "/repos/repos#list-organization-repositories",
               "users": "/repos/repos#list-repositories-for-a-user"}  # fmt: skip
Answer = tuple[int, Any, dict[str, str]]


def snapshot_repos(data_dir: Path | None = None) -> list[str]:
    """Return "owner/name" of every bundled repository."""
    return [entry["full_name"] for entry in _index(data_dir or DATA_DIR)["repositories"]]


def snapshot_note(repo: str) -> str:
    """Say what a repository's snapshot figures are: the dated sample, or synthetic."""
    return SYNTHETIC_NOTE if is_synthetic(repo) else SNAPSHOT_NOTE


def user_object(login: str, user_id: int, kind: str = "User") -> dict[str, Any]:
    """Return GitHub's simple-user object for a login, with every URL GitHub derives from it."""
    api = f"https://api.github.com/users/{quote(login)}"
    app = login.removesuffix("[bot]")
    node = base64.b64encode(f"04:{kind}{user_id}".encode()).decode()
    return {
        "login": login,
        "id": user_id,
        "node_id": node,
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"https://github.com/apps/{app}"
        if kind == "Bot"
        else f"https://github.com/{login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


@functools.lru_cache(maxsize=4)
def _index(data_dir: Path) -> dict[str, Any]:
    """Read index.json: snapshot date and the list of bundled repositories."""
    return json.loads((data_dir / "index.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=4)
def _records(data_dir: Path) -> dict[str, dict[str, Any]]:
    """Load every repository file, keyed by lower-case full name and by numeric id."""
    records: dict[str, dict[str, Any]] = {}
    for entry in _index(data_dir)["repositories"]:
        record = json.loads((data_dir / entry["file"]).read_text(encoding="utf-8"))
        record["stats_202_first"] = bool(entry.get("stats_202_first"))
        records[entry["full_name"].lower()] = record
        records[str(record["repo"]["id"])] = record
    return records


class SnapshotTransport(httpx.BaseTransport):
    """Answer GitHub REST requests from the bundled snapshot, bodies and headers as GitHub's."""

    def __init__(self, latency_ms: int = 0, data_dir: Path | None = None) -> None:
        self._latency_s = max(latency_ms, 0) / 1000
        self._data_dir = data_dir or DATA_DIR
        self._lock = threading.Lock()
        self._used = 0
        self._stats_served: set[str] = set()
        self._reset = int(time.time()) + 3600

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Return the snapshot's answer to one request, after the configured latency."""
        if self._latency_s:
            time.sleep(self._latency_s)
        status, body, extra = self._answer(request)
        headers = {**self._rate_headers(request), **extra}
        content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        return httpx.Response(status, headers=headers, content=content, request=request)

    def _answer(self, request: httpx.Request) -> Answer:
        """Route a request to its handler; anything unknown is GitHub's 404."""
        path = request.url.path.rstrip("/") or "/"
        if request.method != "GET":
            return _not_found("")
        if path == "/rate_limit":
            return 200, self._rate_limit_body(request), {}
        if listing := _OWNER_REPOS.fullmatch(path):
            return self._owner_repos(request, listing["kind"], listing["owner"])
        for pattern, kind, docs in _ROUTES:
            match = pattern.fullmatch(path)
            if not match:
                continue
            key = match["id"] or f"{match['owner']}/{match['name']}".lower()
            record = _records(self._data_dir).get(key) or synthetic_record(key)
            if record is None:
                return _not_found(docs)
            self._count()
            if kind == "repo":
                return 200, record["repo"], {}
            if kind == "contributors":
                return _contributors_page(request, record)
            return self._stats(record)
        return _not_found("")

    def _owner_repos(self, request: httpx.Request, kind: str, owner: str) -> Answer:
        """Answer /orgs/{org}/repos or /users/{user}/repos with minimal repositories, by name."""
        held = snapshot_repos(self._data_dir)
        names = synthetic_names() if owner.lower() == SYNTHETIC_OWNER else [
            n for n in held if n.split("/")[0].lower() == owner.lower()]  # fmt: skip
        if not names:
            return _not_found(_OWNER_DOCS[kind])
        self._count()
        records = _records(self._data_dir)

        def minimal(name: str) -> dict[str, Any]:
            repo = (records.get(name.lower()) or synthetic_record(name.lower()))["repo"]
            return {k: v for k, v in repo.items() if k not in FULL_ONLY}

        base = f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.path}"
        return _page(request, sorted(names, key=str.lower), base, minimal)

    def _stats(self, record: dict[str, Any]) -> Answer:
        """Answer /stats/contributors: 202 on the first request for a flagged repository."""
        name = record["repo"]["full_name"]
        with self._lock:
            first = name not in self._stats_served
            self._stats_served.add(name)
        if record["stats_202_first"] and first:
            return 202, None, {}
        return 200, _stats_body(record), {}

    def _count(self) -> None:
        """Count a request against the (never enforced) hourly rate limit."""
        with self._lock:
            self._used += 1

    def _limit(self, request: httpx.Request) -> tuple[int, int]:
        """Return (limit, used in this window): 5,000 with a token, 60 without, like GitHub."""
        limit = 5000 if "authorization" in request.headers else 60
        return limit, (self._used - 1) % limit + 1 if self._used else 0

    def _rate_headers(self, request: httpx.Request) -> dict[str, str]:
        """Return GitHub's content-type and x-ratelimit-* headers."""
        limit, used = self._limit(request)
        return {
            "content-type": "application/json; charset=utf-8",
            "x-github-api-version-selected": API_VERSION,
            "x-github-media-type": "github.v3; format=json",
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(limit - used),
            "x-ratelimit-reset": str(self._reset),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "core",
            SNAPSHOT_HEADER: SNAPSHOT_DATE,  # the one header GitHub does not send: says "sample"
        }

    def _rate_limit_body(self, request: httpx.Request) -> dict[str, Any]:
        """Return GitHub's /rate_limit body (that endpoint does not count against the limit)."""
        limit, used = self._limit(request)
        core = {"limit": limit, "used": used, "remaining": limit - used, "reset": self._reset}
        search = {"limit": 10, "used": 0, "remaining": 10, "reset": self._reset}
        return {"resources": {"core": core, "search": search}, "rate": core}


def _not_found(docs: str) -> Answer:
    """Return GitHub's 404 answer, pointing at the endpoint's documentation."""
    body = {"message": "Not Found", "documentation_url": _DOCS + docs, "status": "404"}
    return 404, body, {}


def _int_param(request: httpx.Request, name: str, default: int, high: int) -> int:
    """Read a positive integer query parameter the way GitHub does (bad values: default)."""
    try:
        value = int(request.url.params.get(name, default))
    except ValueError:
        return default
    return min(value, high) if value >= 1 else default


def _contributors_page(request: httpx.Request, record: dict[str, Any]) -> Answer:
    """Return one page of /contributors with GitHub's Link header (prev, next, last, first)."""
    base = f"{request.url.scheme}://{request.url.netloc.decode()}"
    url = f"{base}/repositories/{record['repo']['id']}/contributors"
    return _page(request, record["contributors"], url, _contributor)


def _contributor(person: dict[str, Any]) -> dict[str, Any]:
    """Return one /contributors item: the user object and the contribution count."""
    user = user_object(person["login"], person["id"], person["type"])
    return {**user, "contributions": person["contributions"]}


def _page(
    request: httpx.Request, items: list[Any], url: str, shape: Any = lambda item: item
) -> Answer:
    """Return one page of a list with GitHub's Link header (prev, next, last, first)."""
    per_page = _int_param(request, "per_page", 30, 100)
    page = _int_param(request, "page", 1, 10**6)
    last = max(1, math.ceil(len(items) / per_page))
    body = [shape(item) for item in items[(page - 1) * per_page : page * per_page]]
    query = [(k, v) for k, v in request.url.params.multi_items() if k != "page"]
    rels = [("prev", page - 1)] if page > 1 else []
    rels += [("next", page + 1), ("last", last)] if page < last else []
    rels += [("first", 1)] if page > 1 else []
    links = [f'<{url}?{_query(query, n)}>; rel="{rel}"' for rel, n in rels]
    return 200, body, {"link": ", ".join(links)} if links else {}


def _query(params: list[tuple[str, str]], page: int) -> str:
    """Return the query string of a page link: the request's parameters, then page."""
    return "&".join(f"{k}={quote(v)}" for k, v in [*params, ("page", str(page))])


def _stats_body(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Expand the stored weekly arrays into GitHub's /stats/contributors shape."""
    stored = record["stats_contributors"]
    people = {p["login"]: p for p in record["contributors"]}
    body = []
    for author in stored["authors"]:
        person = people[author["login"]]
        weeks = [
            {"w": w, "a": a, "d": d, "c": c}
            for w, a, d, c in zip(
                stored["weeks"], author["a"], author["d"], author["c"], strict=True
            )
        ]
        user = user_object(person["login"], person["id"], person["type"])
        body.append({"total": author["total"], "weeks": weeks, "author": user})
    return body
