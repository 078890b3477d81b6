"""deploy/k8s: the objects, and that the pod spec agrees with the settings and with itself."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from ingest.fetch.sources import load_sources
from ingest.rules.files import check_rules_dir
from ingest.settings import Settings
from tests.deploy.helpers import (
    K8S,
    ROOT,
    default_shutdown_grace_s,
    load_docs,
    setting_env_names,
    settings_from,
)


def kustomization() -> dict[str, Any]:
    (doc,) = load_docs(K8S / "kustomization.yaml")
    return doc


def objects() -> list[dict[str, Any]]:
    return [doc for name in kustomization()["resources"] for doc in load_docs(K8S / name)]


def one(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects() if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def workload() -> dict[str, Any]:
    return one("StatefulSet")


def container() -> dict[str, Any]:
    (found,) = [c for c in workload()["spec"]["template"]["spec"]["containers"]]
    return found


def plain_env() -> dict[str, str]:
    return {e["name"]: e["value"] for e in container()["env"] if "value" in e}


def container_port(port: int | str) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container()["ports"] if p["name"] == port]
    return int(number)


def mount_of(volume_name: str) -> PurePosixPath:
    (path,) = [m["mountPath"] for m in container()["volumeMounts"] if m["name"] == volume_name]
    return PurePosixPath(path)


def configmap_volumes() -> dict[str, dict[str, Any]]:
    volumes = workload()["spec"]["template"]["spec"]["volumes"]
    return {v["name"]: v["configMap"] for v in volumes if "configMap" in v}


def configmap_data(name: str) -> dict[str, str]:
    return one("ConfigMap", name)["data"]


def configmap_behind(path: PurePosixPath) -> tuple[str, dict[str, Any]]:
    """The configMap volume mounted at `path` (a folder)."""
    for volume_name, source in configmap_volumes().items():
        if mount_of(volume_name) == path:
            return volume_name, source
    raise AssertionError(f"no configMap volume is mounted at {path}")


@pytest.mark.timeout(10)
def test_kustomization_lists_every_manifest() -> None:
    listed = kustomization()["resources"]
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(listed) == on_disk


@pytest.mark.timeout(10)
def test_kinds_present() -> None:
    kinds = {o["kind"] for o in objects()}
    assert {"ConfigMap", "Secret", "Service", "StatefulSet", "Deployment"} <= kinds
    assert all("namespace" not in o["metadata"] for o in objects()), "manifests are namespace-less"


@pytest.mark.timeout(10)
def test_two_workers_with_a_pvc_outbox_each() -> None:
    spec = workload()["spec"]
    assert spec["replicas"] >= 2
    claims = {t["metadata"]["name"] for t in spec["volumeClaimTemplates"]}
    outbox = PurePosixPath(plain_env()["WIREWATCH_OUTBOX_DIR"])
    holders = [m for m in container()["volumeMounts"] if outbox.is_relative_to(m["mountPath"])]
    assert [m["name"] for m in holders] and {m["name"] for m in holders} <= claims
    assert not any(m.get("readOnly") for m in holders)


@pytest.mark.timeout(10)
def test_container_runs_wirewatch_run() -> None:
    command = [*container().get("command", []), *container().get("args", [])]
    assert command[-2:] == ["wirewatch", "run"]


@pytest.mark.timeout(10)
def test_env_names_are_settings() -> None:
    names = {e["name"] for e in container()["env"] if e["name"].startswith("WIREWATCH_")}
    assert names, "no WIREWATCH_ settings in the pod"
    unknown = names - setting_env_names()
    assert not unknown, f"not settings of ingest/settings.py: {sorted(unknown)}"
    settings_from(plain_env())


@pytest.mark.timeout(10)
def test_probes_hit_healthz_on_the_configured_port() -> None:
    port = int(plain_env()["WIREWATCH_METRICS_PORT"])
    assert port > 0
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        http = container()[probe]["httpGet"]
        assert http["path"] == "/healthz", probe
        assert container_port(http["port"]) == port, probe


@pytest.mark.timeout(10)
def test_service_targets_the_metrics_port_of_the_pods() -> None:
    service = one("Service", "wirewatch")
    assert workload()["spec"]["serviceName"] == service["metadata"]["name"]
    labels = workload()["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    ports = {container_port(p["targetPort"]) for p in service["spec"]["ports"]}
    assert int(plain_env()["WIREWATCH_METRICS_PORT"]) in ports


@pytest.mark.timeout(10)
def test_secret_references_resolve() -> None:
    refs = [e for e in container()["env"] if "secretKeyRef" in e.get("valueFrom", {})]
    assert "WIREWATCH_REDIS_URL" in {e["name"] for e in refs}
    for env in refs:
        ref = env["valueFrom"]["secretKeyRef"]
        secret = one("Secret", ref["name"])
        assert secret["type"] == "Opaque"
        assert ref["key"] in {**secret.get("data", {}), **secret.get("stringData", {})}
    url = one("Secret", "wirewatch-redis")["stringData"]["WIREWATCH_REDIS_URL"]
    assert url.startswith(("redis://", "rediss://"))


@pytest.mark.timeout(10)
def test_configmaps_mounted_where_the_settings_point(tmp_path: Path) -> None:
    env = plain_env()
    _, rules = configmap_behind(PurePosixPath(env["WIREWATCH_RULES_DIR"]))
    rule_keys = set(configmap_data(rules["name"]))
    assert rule_keys and all(k.endswith((".yaml", ".yml")) for k in rule_keys)
    assert "items" not in rules, "the whole rules ConfigMap is the rules folder"

    feeds_file = PurePosixPath(env["WIREWATCH_FEEDS_FILE"])
    _, feeds = configmap_behind(feeds_file.parent)
    keys = set(configmap_data(feeds["name"]))
    paths = {i["path"]: i["key"] for i in feeds.get("items", [])} or {k: k for k in keys}
    assert paths[feeds_file.name] in keys
    assert all(item_key in keys for item_key in paths.values())


@pytest.mark.timeout(60)
def test_configmap_rules_and_feeds_are_valid(tmp_path: Path) -> None:
    env = plain_env()
    _, rules = configmap_behind(PurePosixPath(env["WIREWATCH_RULES_DIR"]))
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    for key, text in configmap_data(rules["name"]).items():
        (rules_dir / key).write_text(text, encoding="utf-8")
    errors, _warnings = check_rules_dir(rules_dir)
    assert not errors, [str(e) for e in errors]

    feeds_file = PurePosixPath(env["WIREWATCH_FEEDS_FILE"])
    _, feeds = configmap_behind(feeds_file.parent)
    # Sample sources under /app are files the Dockerfile copies there from the repository.
    text = configmap_data(feeds["name"])["feeds.yaml"].replace(" /app/", f" {ROOT}/")
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_sources(path, Settings.model_validate({}))
    assert loaded.sources and not loaded.errors, loaded.errors


@pytest.mark.timeout(10)
def test_security_context_non_root_read_only() -> None:
    pod = workload()["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    context = container()["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert "ALL" in context["capabilities"]["drop"]


@pytest.mark.timeout(10)
def test_pod_user_matches_the_image_user() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    uid, _, gid = users[-1].partition(":")
    security = workload()["spec"]["template"]["spec"]["securityContext"]
    assert str(security["runAsUser"]) == uid
    assert str(security.get("runAsGroup", gid)) == (gid or uid)


@pytest.mark.timeout(10)
def test_termination_grace_outlasts_shutdown_grace() -> None:
    grace_s = float(plain_env().get("WIREWATCH_SHUTDOWN_GRACE_S", default_shutdown_grace_s()))
    assert workload()["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > grace_s


@pytest.mark.timeout(10)
def test_resources() -> None:
    resources = container()["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert "memory" in resources["limits"]


@pytest.mark.timeout(60)
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_kustomize_renders_them() -> None:
    result = subprocess.run(
        ["kubectl", "kustomize", str(K8S)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rendered = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(result.stdout)}
    assert rendered == {(o["kind"], o["metadata"]["name"]) for o in objects()}


# -- the web console: its own Deployment and Service ------------------------------------------


def web_container() -> dict[str, Any]:
    (found,) = one("Deployment", "wirewatch-web")["spec"]["template"]["spec"]["containers"]
    return found


def web_env() -> dict[str, str]:
    return {e["name"]: e["value"] for e in web_container()["env"] if "value" in e}


def web_port_number(port: int | str) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in web_container()["ports"] if p["name"] == port]
    return int(number)


@pytest.mark.timeout(10)
def test_web_runs_wirewatch_web_beyond_loopback_with_a_token_from_a_secret() -> None:
    command = [*web_container().get("command", []), *web_container().get("args", [])]
    assert command[:2] == ["wirewatch", "web"]
    host = command[command.index("--host") + 1] if "--host" in command else "127.0.0.1"
    assert host == "0.0.0.0"  # reachable through the Service: so a token is required
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in web_container()["env"]
        if "valueFrom" in e
    }
    for name in ("WIREWATCH_WEB_TOKEN", "WIREWATCH_REDIS_URL"):
        secret = one("Secret", refs[name]["name"])
        assert refs[name]["key"] in {**secret.get("data", {}), **secret.get("stringData", {})}
    names = {e["name"] for e in web_container()["env"]}
    assert not names - setting_env_names(), sorted(names - setting_env_names())
    settings_from(web_env())


@pytest.mark.timeout(10)
def test_web_probes_hit_healthz_on_the_console_port() -> None:
    port = int(web_env()["WIREWATCH_WEB_PORT"])
    for probe in ("readinessProbe", "livenessProbe"):
        http = web_container()[probe]["httpGet"]
        assert http["path"] == "/healthz", probe
        assert web_port_number(http["port"]) == port, probe


@pytest.mark.timeout(10)
def test_web_service_targets_the_console_pods() -> None:
    service = one("Service", "wirewatch-web")
    deployment = one("Deployment", "wirewatch-web")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert (
        not service["spec"]["selector"].items()
        <= workload()["spec"]["template"]["metadata"]["labels"].items()
    )
    ports = {web_port_number(p["targetPort"]) for p in service["spec"]["ports"]}
    assert ports == {int(web_env()["WIREWATCH_WEB_PORT"])}


@pytest.mark.timeout(10)
def test_web_reads_the_same_rules_and_feeds_as_the_workers() -> None:
    spec = one("Deployment", "wirewatch-web")["spec"]["template"]["spec"]
    volumes = {v["name"]: v.get("configMap", {}).get("name") for v in spec["volumes"]}
    mounts = {m["mountPath"]: m for m in web_container()["volumeMounts"]}
    rules_mount = mounts[web_env()["WIREWATCH_RULES_DIR"]]
    assert rules_mount["readOnly"] and volumes[rules_mount["name"]] == "wirewatch-rules"
    feeds_mount = mounts[str(PurePosixPath(web_env()["WIREWATCH_FEEDS_FILE"]).parent)]
    assert volumes[feeds_mount["name"]] == "wirewatch-feeds"
    assert web_env()["WIREWATCH_RULES_DIR"] == plain_env()["WIREWATCH_RULES_DIR"]
    assert web_env()["WIREWATCH_FEEDS_FILE"] == plain_env()["WIREWATCH_FEEDS_FILE"]
    context = web_container()["securityContext"]
    assert (
        context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
    )
    assert spec["securityContext"]["runAsNonRoot"] is True
