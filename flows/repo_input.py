"""Validate repository input against GitHub's naming rules before any request is made."""

from __future__ import annotations

import re
import unicodedata
from typing import NoReturn

from flows.github_errors import InvalidRepository

EXPECTED_FORM = "Expected owner/name, e.g. PrefectHQ/prefect, or https://github.com/owner/name"
OWNER_FORM = "Expected a GitHub user or organisation name, e.g. PrefectHQ"
_MAX_INPUT = 200  # the longest valid input (a URL with a 39 + 100 character path) is ~170
PREVIEW_CHARS = 60
_OWNER_RE = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9])*")
_NAME_RE = re.compile(r"[A-Za-z0-9._-]+")
_URL_RE = re.compile(r"(?:https?://)?(?:www\.)?github\.com/(?P<path>.*)", re.IGNORECASE)
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_HOST_RE = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::[0-9]+)?")  # gitlab.com/o/n


def parse_repo(text: str) -> str:
    """Return "owner/name" from owner/name or a github.com URL, or raise InvalidRepository."""
    if not isinstance(text, str):
        raise InvalidRepository(f"The repository must be text. {EXPECTED_FORM}.")
    cleaned = text.strip(" \t\r\n")  # surrounding whitespace is a copy-paste artefact
    _check_characters(text, cleaned)
    owner, name = _split_path(text, _strip_url(text, cleaned))
    _check_owner(text, owner)
    _check_name(text, name)
    return f"{owner}/{name}"


def parse_owner(text: str) -> str:
    """Return a GitHub user or organisation name, or raise InvalidRepository saying why not."""
    if not isinstance(text, str):
        raise InvalidRepository(f"The owner must be text. {OWNER_FORM}.")
    cleaned = text.strip(" \t\r\n")
    if not cleaned:
        raise InvalidRepository(f"No owner was given. {OWNER_FORM}.")
    try:
        _check_characters(text, cleaned)
        if "/" in cleaned:
            _reject(text, "An owner has no '/'; give the user or organisation alone")
        _check_owner(text, cleaned)
    except InvalidRepository as exc:
        raise InvalidRepository(str(exc).replace(EXPECTED_FORM, OWNER_FORM)) from None
    return cleaned


def _reject(text: str, why: str) -> NoReturn:
    """Raise InvalidRepository saying what was wrong and showing a short, escaped preview."""
    raise InvalidRepository(f"{why} (got {preview(text)}). {EXPECTED_FORM}.")


def preview(text: str) -> str:
    """Return at most ~60 characters of text with control and non-ASCII characters escaped."""
    shown, used = "", 0
    for char in text:
        if len(shown) >= PREVIEW_CHARS:
            break
        shown += char.encode("unicode_escape").decode("ascii").replace("'", "\\'")
        used += 1
    more = f"... ({len(text)} characters)" if used < len(text) else ""
    return f"'{shown}'{more}"


def _check_characters(text: str, cleaned: str) -> None:
    """Reject empty, overlong, non-ASCII, control, space, query and fragment input."""
    if not cleaned:
        _reject(text, "No repository was given")
    if len(cleaned) > _MAX_INPUT:
        _reject(text, "The input is too long to be a repository")
    for pos, char in enumerate(cleaned, start=1):
        if ord(char) > 127:
            what = unicodedata.name(char, "unnamed character")
            _reject(
                text,
                f"Character {pos} is U+{ord(char):04X} ({what}); GitHub names are plain ASCII, "
                "so this is probably a look-alike of an ASCII letter",
            )
        if ord(char) < 32 or ord(char) == 127 or char == " ":
            kind = "a space" if char == " " else f"the control character {char!r}"
            _reject(text, f"Character {pos} is {kind}; names have no spaces or control characters")
    if "?" in cleaned or "#" in cleaned:
        _reject(text, "It has a query string or fragment ('?' or '#'); give only the repository")


def _strip_url(text: str, cleaned: str) -> str:
    """Return the path after github.com for a URL, the input itself otherwise."""
    match = _URL_RE.fullmatch(cleaned)
    if match:
        return match["path"]
    looks_like_host = _HOST_RE.fullmatch(cleaned.split("/")[0]) and cleaned.count("/") > 1
    if _SCHEME_RE.match(cleaned) or looks_like_host:
        _reject(
            text,
            "Only https://github.com/owner/name URLs are accepted; for GitHub Enterprise give "
            "owner/name and set GITHUB_API_URL",
        )
    return cleaned


def _split_path(text: str, path: str) -> tuple[str, str]:
    """Split owner/name (one trailing "/" or ".git" allowed) or reject what is not."""
    parts = path.split("/")
    if len(parts) == 3 and not parts[2]:  # one trailing "/"
        parts.pop()
    if parts[-1].lower().endswith(".git"):
        parts[-1] = parts[-1][:-4]
    if any(part in (".", "..") for part in parts):
        _reject(text, "It contains '.' or '..' path segments (path traversal)")
    if len(parts) > 2:
        _reject(text, "It has extra path segments; give only owner/name, not a file or branch URL")
    if len(parts) < 2:
        _reject(text, "It has no '/'; give the owner and the repository name")
    owner, name = parts
    if not owner:
        _reject(text, "The owner is empty")
    if not name:
        _reject(text, "The repository name is empty")
    return owner, name


def _check_owner(text: str, owner: str) -> None:
    """Apply GitHub's rules for user and organisation names."""
    if len(owner) > 39:
        _reject(text, f"The owner has {len(owner)} characters; GitHub allows at most 39")
    if owner.startswith("-") or owner.endswith("-"):
        _reject(text, "The owner cannot start or end with a hyphen")
    if "--" in owner:
        _reject(text, "The owner cannot contain two hyphens in a row")
    if not _OWNER_RE.fullmatch(owner):
        _reject(text, "The owner may contain only ASCII letters, digits and single hyphens")


def _check_name(text: str, name: str) -> None:
    """Apply GitHub's rules for repository names."""
    if len(name) > 100:
        _reject(text, f"The repository name has {len(name)} characters; GitHub allows at most 100")
    if not _NAME_RE.fullmatch(name):
        _reject(text, "The repository name may contain only ASCII letters, digits, '.', '-', '_'")
