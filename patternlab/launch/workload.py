"""A launch's workload: the repositories it computes, checked before anything is created.

A workload is one repository, a list of them, or an owner's repositories up to a limit (1 to
256). An owner is listed through the one GitHub module (live, or the offline snapshot, which also
serves the synthetic organisation). Every name is checked by the same rules as a typed one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel

from flows import github
from flows.github_errors import InvalidRepository, OwnerNotFound
from flows.repo_input import parse_owner, parse_repo, preview
from flows.snapshot_synthetic import SYNTHETIC_OWNER, is_synthetic
from patternlab.settings import get_settings

MAX_REPOS = github.MAX_OWNER_REPOS  # 256
_SEPARATORS = re.compile(r"[,\s]+")


class InvalidWorkload(ValueError):
    """The workload cannot be launched: size out of range, or an owner without repositories."""


class Workload(BaseModel):
    """The repositories a launch computes, and where the list came from."""

    repos: list[str]
    owner: str | None = None  # listed from this owner's repositories
    source: str = "auto"  # the data source; resolved ("github"/"snapshot") when an owner was listed
    synthetic: bool = False  # every repository is the snapshot's generated organisation

    @property
    def size(self) -> int:
        """Return how many repositories the launch computes."""
        return len(self.repos)

    def label(self) -> str:
        """Name the workload in a few words (synthetic said so)."""
        if self.size == 1:
            text = self.repos[0]
        elif self.owner:
            text = f"{self.size} repositories of {self.owner}"
        else:
            text = f"{self.size} repositories"
        return f"{text} (synthetic)" if self.synthetic else text


def parse_repo_list(items: str | Sequence[str]) -> list[str]:
    """Return the repositories of a list ("a/b,c/d" or names), each checked, duplicates dropped."""
    texts = [t for t in _SEPARATORS.split(items) if t] if isinstance(items, str) else list(items)
    if not texts:
        raise InvalidWorkload("The list of repositories is empty: give at least one owner/name")
    if len(texts) > MAX_REPOS:
        raise InvalidWorkload(f"The list has {len(texts)} repositories; at most {MAX_REPOS}")
    found: dict[str, str] = {}
    for number, text in enumerate(texts, start=1):
        try:
            name = parse_repo(text)
        except InvalidRepository as exc:
            where = f"Repository {number} of {len(texts)}" if len(texts) > 1 else "The repository"
            raise InvalidRepository(f"{where}: {exc}") from None
        found.setdefault(name.lower(), name)  # GitHub names are case-insensitive
    return list(found.values())


def check_limit(limit: object) -> int:
    """Return an owner listing's limit if it is a whole number from 1 to 256."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_REPOS:
        raise InvalidWorkload(
            f"The number of repositories must be a whole number from 1 to {MAX_REPOS} "
            f"(got {preview(str(limit))})"
        )
    return limit


def list_owner(owner: str, limit: int, source: str = "auto") -> Workload:
    """List an owner's repositories (up to limit) from GitHub or the snapshot; check them."""
    login, limit = parse_owner(owner), check_limit(limit)
    resolved = _resolve(source)
    settings = get_settings()
    options = {"api_url": settings.github_api_url, "token": settings.token()}
    if resolved == "snapshot":
        options = {"latency_ms": settings.snapshot_latency_ms}
    options["timeout_s"] = settings.github_timeout_s
    try:
        with github.build_http_client(resolved, **options) as http:
            names = github.GitHubClient(http).list_owner_repos(login, limit)
    except OwnerNotFound as exc:
        if resolved != "snapshot":
            raise
        raise OwnerNotFound(
            f"The offline snapshot has no owner named {login}: it holds the synthetic "
            f"organisation {SYNTHETIC_OWNER} (256 repositories) and the owners of its sample "
            "repositories; use the live GitHub source for other owners"
        ) from exc
    if not names:
        raise InvalidWorkload(f"{login} has no public repositories to compute: nothing to launch")
    synthetic = resolved == "snapshot" and all(is_synthetic(n) for n in names)
    return Workload(repos=names, owner=login, source=resolved, synthetic=synthetic)


def build_workload(
    repo: str | None = None,
    repos: str | Sequence[str] | None = None,
    owner: str | None = None,
    limit: int | None = None,
    source: str = "auto",
) -> Workload:
    """Return the checked workload of a launch: one repository, a list, or an owner's."""
    given = [x is not None for x in (repo, repos, owner)]
    if sum(given) != 1:
        raise InvalidWorkload("Give exactly one of a repository, a list of them, or an owner")
    if owner is not None:
        return list_owner(owner, 32 if limit is None else limit, source)
    names = [parse_repo(repo)] if repo is not None else parse_repo_list(repos or "")
    offline = source == "snapshot" and all(is_synthetic(n) for n in names)
    return Workload(repos=names, source=source, synthetic=offline)


def _resolve(source: str) -> str:
    """Return the source an owner is listed from: auto is live GitHub when it answers."""
    if source in ("github", "snapshot"):
        return source
    settings = get_settings()
    reason = github.probe_live(settings.github_api_url, settings.token())
    return "github" if reason is None else "snapshot"
