"""The layers hold: flows/ runs without the lab, and import-linter catches a back-edge."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")
FLOW_MODULES = sorted(f"flows.{p.stem}" for p in (ROOT / "flows").glob("*.py"))


@pytest.fixture
def flows_alone(tmp_path: Path) -> Path:
    """Return a folder holding a copy of flows/ and nothing else of the project."""
    shutil.copytree(
        ROOT / "flows", tmp_path / "flows", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def _python(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run this interpreter in `cwd` with nothing of the project on its path but what is there."""
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "PREFECT_HOME": str(cwd / "prefect-home")},
    )  # fmt: skip


def test_every_flow_module_imports_without_the_lab(flows_alone: Path):
    """A worker host with only flows/ imports every flow module, and the lab is not there."""
    code = (
        f"import importlib; [importlib.import_module(m) for m in {FLOW_MODULES!r}]\n"
        "import importlib.util as u; assert u.find_spec('patternlab') is None, 'lab importable'\n"
        "from prefect import flow_engine\n"
        "assert not getattr(flow_engine._send_heartbeats, '_patternlab', False), 'patched'\n"
    )
    done = _python(flows_alone, "-c", code)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_runner_entry_point_starts_without_the_lab(flows_alone: Path):
    """`python -m flows.serve --help` works where only flows/ exists."""
    done = _python(flows_alone, "-m", "flows.serve", "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Serve every Pattern Lab deployment" in done.stdout


@pytest.mark.parametrize("module", ["flows.worker", "flows.pool"])
def test_the_pool_entry_points_start_without_the_lab(flows_alone: Path, module: str):
    """A worker host with only flows/ can start a worker or deploy to a pool (`--help` runs)."""
    done = _python(flows_alone, "-m", module, "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"python -m {module}" in done.stdout


def test_import_linter_catches_a_flow_that_imports_the_lab(tmp_path: Path):
    """The contracts in pyproject.toml break as soon as a flow module imports patternlab."""
    for name in ("flows", "patternlab", "pages"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    clean = subprocess.run([LINT], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout[-2000:]
    with (tmp_path / "flows" / "monoflow.py").open("a") as module:
        module.write("\nimport patternlab  # a back-edge\n")
    broken = subprocess.run([LINT], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert broken.returncode != 0
    assert "flows.monoflow -> patternlab" in broken.stdout


def test_nothing_imports_the_app_entry_page():
    """app.py is the top of the layers (import-linter cannot take a lone module as a root)."""
    for path in [*(ROOT / "patternlab").rglob("*.py"), *(ROOT / "flows").rglob("*.py")]:
        lines = path.read_text().splitlines()
        assert not any(line.startswith(("import app", "from app ")) for line in lines), path
