"""The notifier in deploy/: its systemd unit, compose service and Kubernetes Deployment agree
with the settings, with each other's ports and with notify.yaml's loader."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from ingest.notify.config import load_notify_file
from ingest.notify.secrets import Redactor
from tests.deploy.helpers import DEPLOY, default_shutdown_grace_s, setting_env_names, settings_from
from tests.deploy.test_compose import compose, duration_s, environment, volume_parts
from tests.deploy.test_k8s import objects, one
from tests.deploy.test_systemd import INSTALLED_EXEC, parse_unit, seconds, wirewatch_executable

pytestmark = pytest.mark.timeout(60)
UNIT = DEPLOY / "wirewatch-notify.service"


def unit_service() -> dict[str, list[str]]:
    return parse_unit(UNIT.read_text(encoding="utf-8"))["Service"]


def unit_env() -> dict[str, str]:
    pairs = (a.strip('"').partition("=") for v in unit_service()["Environment"] for a in v.split())
    return {name: value for name, _, value in pairs}


def known(env: dict[str, str]) -> dict[str, str]:
    unknown = {n for n in env if n.startswith("WIREWATCH_")} - setting_env_names()
    assert not unknown, f"not settings of ingest/settings.py: {sorted(unknown)}"
    settings_from(env)  # valid values
    return env


def test_systemd_unit_runs_the_notifier_with_its_own_port_and_secrets_file() -> None:
    svc = unit_service()
    assert svc["ExecStart"] == [f"{INSTALLED_EXEC} notify"]
    env = known(unit_env())
    assert env["WIREWATCH_NOTIFY_FILE"] == "/etc/wirewatch/notify.yaml"
    assert env["WIREWATCH_NOTIFY_METRICS_PORT"] != "9811"  # wirewatch run's port
    # notify.env after wirewatch.env: its values (the ${NAME}s of notify.yaml) win.
    assert svc["EnvironmentFile"] == ["-/etc/wirewatch/wirewatch.env", "-/etc/wirewatch/notify.env"]
    grace_s = float(env.get("WIREWATCH_SHUTDOWN_GRACE_S") or default_shutdown_grace_s())
    assert seconds(svc["TimeoutStopSec"][0]) > grace_s
    assert svc["User"] == ["wirewatch"] and svc["ProtectSystem"] == ["strict"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    copy = tmp_path / UNIT.name
    copy.write_text(UNIT.read_text().replace(INSTALLED_EXEC, str(wirewatch_executable())))
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                            text=True, timeout=50, check=False)  # fmt: skip
    complaints = [
        line for line in (result.stdout + result.stderr).splitlines() if UNIT.name in line
    ]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


def test_compose_service_is_opt_in_and_wired_like_the_worker() -> None:
    services = compose()["services"]
    notify, worker = services["wirewatch-notify"], services["wirewatch"]
    assert notify["command"] == ["wirewatch", "notify"]
    assert notify["profiles"] == ["notify"]  # needs ../notify.yaml: `--profile notify`
    assert notify["depends_on"]["redis"]["condition"] == "service_healthy"
    env = known(environment(notify))
    assert env["WIREWATCH_REDIS_URL"] == environment(worker)["WIREWATCH_REDIS_URL"]
    mounts = {target: (source, ro) for source, target, ro in map(volume_parts, notify["volumes"])}
    assert mounts[env["WIREWATCH_NOTIFY_FILE"]] == ("../notify.yaml", True)
    port = env["WIREWATCH_NOTIFY_METRICS_PORT"]
    assert notify["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert port not in " ".join(worker["ports"])
    grace_s = float(env["WIREWATCH_SHUTDOWN_GRACE_S"])
    assert duration_s(notify["stop_grace_period"]) > grace_s and notify["init"] is True


def deployment() -> dict[str, Any]:
    return one("Deployment", "wirewatch-notify")


def test_k8s_deployment_runs_the_notifier() -> None:
    pod = deployment()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["wirewatch", "notify"]
    env = known({e["name"]: e["value"] for e in container["env"] if "value" in e})
    port = int(env["WIREWATCH_NOTIFY_METRICS_PORT"])
    (metrics,) = container["ports"]
    assert metrics["containerPort"] == port
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": metrics["name"]}
    grace_s = float(env["WIREWATCH_SHUTDOWN_GRACE_S"])
    assert pod["terminationGracePeriodSeconds"] > grace_s
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_k8s_labels_keep_the_notifier_out_of_the_worker_service() -> None:
    labels = deployment()["spec"]["template"]["metadata"]["labels"]
    for service in (o for o in objects() if o["kind"] == "Service"):
        selector = service["spec"]["selector"]
        assert not selector.items() <= labels.items(), service["metadata"]["name"]


def test_k8s_secrets_resolve_and_the_configmap_is_a_valid_notify_file(tmp_path: Path) -> None:
    pod = deployment()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    for ref in (e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e):
        assert ref["key"] in one("Secret", ref["name"])["stringData"]
    (source,) = container["envFrom"]
    assert one("Secret", source["secretRef"]["name"])["type"] == "Opaque"
    path = PurePosixPath(next(e["value"] for e in container["env"]
                              if e["name"] == "WIREWATCH_NOTIFY_FILE"))  # fmt: skip
    (mount,) = [
        m for m in container["volumeMounts"] if PurePosixPath(m["mountPath"]) == path.parent
    ]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    data = one("ConfigMap", volume["configMap"]["name"])["data"]
    copy = tmp_path / path.name
    copy.write_text(data[path.name])
    assert load_notify_file(copy, Redactor()).errors == ()
