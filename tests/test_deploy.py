"""deploy/: the docker compose file and the Kubernetes recipe, checked offline (no engine here)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prefect.utilities.templating import apply_values

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    """Return the compose file, parsed."""
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_has_the_database_an_authenticated_server_a_worker_and_the_lab(compose):
    """Five services: PostgreSQL, Prefect 3.9.1 with basic auth, the deployer, a worker, the lab."""
    services = compose["services"]
    assert set(services) == {"postgres", "prefect-server", "deploy", "worker", "lab"}
    server = services["prefect-server"]
    assert server["image"] == "prefecthq/prefect:3.9.1-python3.11"
    assert server["environment"]["PREFECT_SERVER_API_AUTH_STRING"].startswith(
        "${PREFECT_API_AUTH_STRING:?"
    )  # required: compose refuses to start without it
    assert services["worker"]["command"] == ["python", "-m", "flows.worker"]
    assert services["deploy"]["command"] == ["python", "-m", "flows.pool"]
    for name in ("deploy", "worker", "lab"):
        env = services[name]["environment"]
        assert env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
        assert env["PREFECT_API_AUTH_STRING"].startswith("${")  # never a literal password


def test_compose_file_is_valid_for_docker_compose():
    """`docker-compose config` accepts the file, and refuses to go on without the passwords."""
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed (./test.sh installs it)")
    env = {**os.environ, "POSTGRES_PASSWORD": "x", "PREFECT_API_AUTH_STRING": "lab:y"}
    ok = subprocess.run([tool, "-f", str(COMPOSE), "config", "-q"], env=env,
                        capture_output=True, text=True, timeout=60)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    bare = {
        k: v for k, v in env.items() if k not in ("POSTGRES_PASSWORD", "PREFECT_API_AUTH_STRING")
    }
    refused = subprocess.run([tool, "-f", str(COMPOSE), "config", "-q"], env=bare,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode != 0
    assert "deploy/.env" in refused.stderr


def test_the_kubernetes_job_template_renders_a_job_running_the_lab_image():
    """The pool's base job template renders, with its defaults, a Job of the lab's image that runs
    the engine with heartbeats on, in the lab's namespace."""
    template = json.loads((DEPLOY / "k8s" / "base-job-template.json").read_text())
    defaults = {k: v["default"] for k, v in template["variables"]["properties"].items()
                if "default" in v}  # fmt: skip
    values = defaults | {"name": "lab-run", "command": "python -m prefect.engine"}
    job = apply_values(template["job_configuration"], values)["job_manifest"]
    assert job["kind"] == "Job"
    assert job["metadata"]["namespace"] == "patternlab"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "patternlab:local"
    assert container["args"] == "python -m prefect.engine"
    assert container["env"]["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] == "30"
    assert job["spec"]["ttlSecondsAfterFinished"] == 300


def test_the_kubernetes_worker_manifest_runs_a_worker_on_the_labs_pool():
    """worker.yaml holds the namespace, RBAC for Jobs, and a worker on pool lab-k8s whose
    password comes from a Secret."""
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "worker.yaml").read_text()))
    kinds = [d["kind"] for d in docs]
    assert kinds.count("ServiceAccount") == 2
    assert {"Namespace", "Role", "RoleBinding", "Deployment"} <= set(kinds)
    role = next(d for d in docs if d["kind"] == "Role")
    assert any("jobs" in rule["resources"] and "create" in rule["verbs"] for rule in role["rules"])
    container = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["command"][:5] == ["prefect", "worker", "start", "--pool", "lab-k8s"]
    auth = next(e for e in container["env"] if e["name"] == "PREFECT_API_AUTH_STRING")
    assert "secretKeyRef" in auth["valueFrom"]
