"""A lab server reachable from other hosts requires Prefect's basic auth (single host, no server).

The multi-host test (tests/test_multihost.py) checks the 401 and the leaks across hosts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from patternlab import backend
from patternlab.settings import LabSettings

ROOT = Path(__file__).resolve().parent.parent


def _cli(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m patternlab backend up` with a fresh home and the given settings."""
    base = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL",)}
    return subprocess.run(
        [sys.executable, "-m", "patternlab", "backend", "up"], cwd=ROOT, timeout=120,
        env=base | {"PATTERNLAB_HOME": str(home)} | env, capture_output=True, text=True,
    )  # fmt: skip


def test_binding_to_other_hosts_without_auth_is_refused_before_anything_starts(tmp_path):
    """An embedded server bound past loopback with no auth string is refused; nothing is made."""
    home = tmp_path / "home"
    settings = LabSettings(home=home, bind="0.0.0.0", api_auth_string=None, prefect_api_url=None)
    with pytest.raises(backend.BackendConfigError, match="PREFECT_API_AUTH_STRING"):
        backend.ensure_backend(settings)
    assert not home.exists()


def test_the_cli_refuses_it_with_exit_2_and_a_clear_message(tmp_path):
    """`backend up` with PATTERNLAB_BIND=0.0.0.0 and no auth exits 2, says why, starts nothing."""
    home = tmp_path / "home"
    done = _cli(home, PATTERNLAB_BIND="0.0.0.0")
    assert done.returncode == 2
    assert "PREFECT_API_AUTH_STRING=user:password" in done.stderr
    assert "Nothing was started" in done.stderr
    assert "Traceback" not in done.stderr
    assert not home.exists()


def test_a_bind_address_that_is_not_an_ip_is_a_clear_error(tmp_path):
    """PATTERNLAB_BIND must be an IP address: a host name is refused with exit 2, no traceback."""
    done = _cli(tmp_path / "home", PATTERNLAB_BIND="lab.example")
    assert done.returncode == 2
    assert "PATTERNLAB_BIND must be an IP address" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_auth_string_goes_to_the_server_and_workers_but_is_never_shown(tmp_path):
    """The server requires the string, the runner and workers send it; status never shows it."""
    from patternlab.backend.parts import auth_env

    s = LabSettings(home=tmp_path, api_auth_string="lab:s3cret-value", prefect_api_url=None)
    assert auth_env(s, "server") == {"PREFECT_SERVER_API_AUTH_STRING": "lab:s3cret-value"}
    assert auth_env(s, "worker-1") == {"PREFECT_API_AUTH_STRING": "lab:s3cret-value"}
    assert "s3cret" not in repr(s)
    status = backend.backend_status(s)
    assert status.auth is True
    assert "s3cret" not in str(status.to_dict())
