"""Start the embedded backend's parts (server, runner, workers) and wait for them to be ready."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from patternlab.backend import procs
from patternlab.backend.status import BackendError
from patternlab.settings import LabSettings

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the folder holding flows/
# Our own variables, or settings that must not reach the lab's children from the user's shell.
_NOT_INHERITED = (
    "PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH",
    "PREFECT_API_AUTH_STRING", "PREFECT_SERVER_API_AUTH_STRING",
)  # fmt: skip
_FLOWS_ONLY = ("GITHUB_TOKEN",)  # the processes that run flows call GitHub; the server never does


def auth_env(s: LabSettings, name: str) -> dict[str, str]:
    """Return the basic-auth variable a part needs: the server requires it, the others send it."""
    secret = s.auth_string()
    if secret is None:
        return {}
    variable = "PREFECT_SERVER_API_AUTH_STRING" if name == "server" else "PREFECT_API_AUTH_STRING"
    return {variable: secret}


def launch_part(
    s: LabSettings,
    home: procs.Home,
    name: str,
    args: list[str],
    extra_env: dict[str, str],
    ready: Callable[[], bool],
    timeout: float,
) -> procs.Starting:
    """Start `python <args>` as the backend's `name` part and record its pid (not waiting)."""
    log, pid_file = home.logs / f"{name}.log", home.run / f"{name}.pid"
    # Pass our environment through (PATH, locale, GITHUB_TOKEN for the flows), minus the user's
    # own Prefect server and profile, which would pull the child away from the lab's backend.
    # The GitHub token is the runner's alone (its flows call GitHub); the server never needs it.
    withheld = _NOT_INHERITED if name != "server" else (*_NOT_INHERITED, *_FLOWS_ONLY)
    env = {k: v for k, v in os.environ.items() if k not in withheld}
    env |= {"PREFECT_HOME": str(home.prefect)} | extra_env | auth_env(s, name)
    # cwd is the project root: the runner imports flows/ from there (`python -m flows.serve`).
    pid = procs.spawn([sys.executable, *args], env, PROJECT_ROOT, log)
    procs.write_pid(pid_file, pid)
    label = "Prefect server" if name == "server" else name
    return procs.Starting(label, pid, pid_file, log, ready, timeout)


def await_part(start: procs.Starting) -> int:
    """Wait until a started part is ready and return its pid, or say why it is not."""
    reason = start.wait()
    if reason is None:
        return start.pid
    log = start.log
    raise BackendError(f"The {start.label} {reason}. Last lines of {log}:\n{procs.log_tail(log)}")
