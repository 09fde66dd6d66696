"""A fake GitHub REST API on 127.0.0.1 for end-to-end tests (GitHub is the one thing we fake).

Ordinary repositories answer from the bundled snapshot, with GitHub's headers (Link rewritten to
this server, the snapshot's own marker header removed), so the flows take them for the live API.
The owner `faults` answers with GitHub's documented failure responses:

| repository | answer |
|---|---|
| faults/rate-limited | 403, x-ratelimit-remaining: 0, x-ratelimit-reset in 15 minutes |
| faults/secondary-limit | 429 with retry-after: 60 |
| faults/server-error | 500 on every request |
| faults/malformed | 200 with a body that is not JSON |
| faults/computing | repository and contributors as PrefectHQ/prefect; statistics 202 forever |
| faults/slow | answers after 30 s (past the client's timeout) |
| faults/hang-up | closes the connection without answering |
| faults/missing | 404 |

Owners' repository lists (`/orgs/{org}/repos`, `/users/{user}/repos`) answer from the snapshot
(the synthetic organisation `patternlab-synthetic`, the sample repositories' owners; others 404),
plus `empty-owner` (an organisation with no repositories: 200 `[]`) and `solo-user` (a user: 404
on /orgs, two repositories on /users).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from flows.snapshot import SNAPSHOT_HEADER, SnapshotTransport

STAND_IN = "PrefectHQ/prefect"  # the repository the `faults/*` names borrow data from


@dataclass
class Seen:
    """One request the fake received."""

    path: str
    authorization: str | None


@dataclass
class FakeGitHub:
    """The running fake: its base URL and every request it received."""

    url: str
    requests: list[Seen] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def stop(self) -> None:
        """Stop serving."""
        if self.server:
            self.server.shutdown()


def _fault(name: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
    """Return the documented failure answer for a `faults/<name>` request, or None to pass."""
    body = {"documentation_url": "https://docs.github.com/rest"}
    if name == "rate-limited":
        reset = str(int(time.time()) + 900)
        body["message"] = "API rate limit exceeded for 127.0.0.1."
        headers = {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0",
                   "x-ratelimit-reset": reset, "x-ratelimit-resource": "core"}  # fmt: skip
        return 403, headers, json.dumps(body).encode()
    if name == "secondary-limit":
        body["message"] = "You have exceeded a secondary rate limit."
        return 429, {"retry-after": "60"}, json.dumps(body).encode()
    if name == "server-error":
        return 500, {}, json.dumps({"message": "Server Error"}).encode()
    if name == "malformed":
        return 200, {}, b"{this is not json"
    if name == "missing":
        return 404, {}, json.dumps({**body, "message": "Not Found", "status": "404"}).encode()
    if name == "computing" and path.endswith("/stats/contributors"):
        return 202, {}, b"{}"
    return None


def _owner(path: str) -> tuple[int, dict[str, str], bytes] | None:
    """Return the answer for the fake's own owners' repository lists, or None to pass."""
    route = path.split("?")[0].rstrip("/")
    if route in ("/orgs/empty-owner/repos", "/users/empty-owner/repos"):
        return 200, {}, b"[]"
    if route == "/users/solo-user/repos":
        items = [
            {
                "id": 7 + i,
                "name": n,
                "full_name": f"solo-user/{n}",
                "private": False,
                "fork": False,
                "stargazers_count": 1,
            }
            for i, n in enumerate(["alpha", "beta"])
        ]
        return 200, {}, json.dumps(items).encode()  # fmt: skip
    if route == "/orgs/solo-user/repos":
        body = {"message": "Not Found", "status": "404",
                "documentation_url": "https://docs.github.com/rest/repos/repos"}  # fmt: skip
        return 404, {}, json.dumps(body).encode()
    return None


def _handler(fake: FakeGitHub, snapshot: SnapshotTransport) -> type[BaseHTTPRequestHandler]:
    """Build the request handler class bound to one fake."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            fake.requests.append(Seen(self.path, self.headers.get("Authorization")))
            parts = self.path.split("?")[0].strip("/").split("/")
            fault = parts[2] if len(parts) >= 3 and parts[:2] == ["repos", "faults"] else None
            if fault == "hang-up":
                self.close_connection = True
                self.connection.close()
                return
            if fault == "slow":
                time.sleep(30)
            answer = _fault(fault, self.path) if fault else _owner(self.path)
            if answer is None:
                answer = self._from_snapshot(fault)
            status, headers, body = answer
            self.send_response(status)
            headers = {"content-type": "application/json; charset=utf-8", **headers}
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _from_snapshot(self, fault: str | None) -> tuple[int, dict[str, str], bytes]:
            path = self.path.replace(f"/repos/faults/{fault}", f"/repos/{STAND_IN}", 1)
            answer = snapshot.handle_request(httpx.Request("GET", "https://api.github.com" + path))
            dropped = (SNAPSHOT_HEADER, "content-length", "content-type")
            headers = {k: v for k, v in answer.headers.items() if k.lower() not in dropped}
            if "link" in headers:
                headers["link"] = headers["link"].replace("https://api.github.com", fake.url)
            return answer.status_code, headers, answer.read()

    return Handler


def start_fake_github() -> FakeGitHub:
    """Start the fake on a free port of 127.0.0.1 in a daemon thread."""
    fake = FakeGitHub(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake, SnapshotTransport()))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    fake.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake
