"""deploy/compose.yaml: Redis with a health check, wirewatch built from the repo and wired to it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.helpers import (
    DEPLOY,
    default_shutdown_grace_s,
    load_docs,
    setting_env_names,
    settings_from,
)

COMPOSE = DEPLOY / "compose.yaml"


def compose() -> dict[str, Any]:
    (doc,) = load_docs(COMPOSE)
    return doc


def wirewatch_service() -> dict[str, Any]:
    return compose()["services"]["wirewatch"]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the `- NAME=value` form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def duration_s(text: str) -> float:
    """A compose duration such as `45s`, `1m30s` or `500ms`."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a duration: {text!r}"
    return sum(float(n) * units[u] for n, u in parts)


def volume_parts(entry: str | dict[str, Any]) -> tuple[str, str, bool]:
    """(source, target, read_only) of a short or long volume entry."""
    if isinstance(entry, dict):
        return entry["source"], entry["target"], bool(entry.get("read_only"))
    fields = entry.split(":")
    return fields[0], fields[1], len(fields) > 2 and "ro" in fields[2].split(",")


@pytest.mark.timeout(10)
def test_both_services() -> None:
    assert {"redis", "wirewatch"} <= set(compose()["services"])


@pytest.mark.timeout(10)
def test_redis_healthcheck_pings() -> None:
    redis = compose()["services"]["redis"]
    assert redis["image"].startswith("redis:7")
    test = redis["healthcheck"]["test"]
    command = test if isinstance(test, str) else " ".join(test)
    assert "redis-cli" in command and "ping" in command


@pytest.mark.timeout(10)
def test_wirewatch_waits_for_healthy_redis() -> None:
    assert wirewatch_service()["depends_on"]["redis"]["condition"] == "service_healthy"


@pytest.mark.timeout(10)
def test_build_uses_repo_root_and_deploy_dockerfile() -> None:
    build = wirewatch_service()["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert (context / "pyproject.toml").is_file()
    assert (context / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()


@pytest.mark.timeout(10)
def test_environment_names_are_settings() -> None:
    env = environment(wirewatch_service())
    unknown = set(env) - setting_env_names()
    assert not unknown, f"not settings of ingest/settings.py: {sorted(unknown)}"
    settings_from(env)


@pytest.mark.timeout(10)
def test_redis_url_points_at_the_redis_service() -> None:
    url = environment(wirewatch_service())["WIREWATCH_REDIS_URL"]
    assert re.fullmatch(r"redis://redis:6379/\d+", url), url


@pytest.mark.timeout(10)
def test_metrics_port_is_published() -> None:
    service = wirewatch_service()
    port = int(environment(service)["WIREWATCH_METRICS_PORT"])
    assert port > 0
    container_ports = {int(str(p).split("/")[0].rsplit(":", 1)[-1]) for p in service["ports"]}
    assert port in container_ports


@pytest.mark.timeout(10)
def test_stop_grace_outlasts_shutdown_grace() -> None:
    service = wirewatch_service()
    grace_s = float(
        environment(service).get("WIREWATCH_SHUTDOWN_GRACE_S", default_shutdown_grace_s())
    )
    assert duration_s(service["stop_grace_period"]) > grace_s
    assert service.get("stop_signal", "SIGTERM") == "SIGTERM"


@pytest.mark.timeout(10)
def test_volumes_rules_read_only_and_outbox_persistent() -> None:
    service = wirewatch_service()
    env = environment(service)
    mounts = [volume_parts(v) for v in service["volumes"]]
    by_target = {target: (source, ro) for source, target, ro in mounts}

    rules_source, rules_ro = by_target[env["WIREWATCH_RULES_DIR"]]
    assert rules_ro and (DEPLOY / rules_source).resolve() == (DEPLOY.parent / "rules")
    feeds_source, _ = by_target[env["WIREWATCH_FEEDS_FILE"]]
    assert (DEPLOY / feeds_source).resolve().is_file()

    outbox = Path(env["WIREWATCH_OUTBOX_DIR"])
    holders = [source for source, target, ro in mounts if outbox.is_relative_to(target) and not ro]
    assert holders, f"{outbox} is on no writable volume"
    assert set(holders) <= set(compose().get("volumes") or {}), "the outbox needs a named volume"

    for source, _target, _ro in mounts:
        if source.startswith("."):
            assert (DEPLOY / source).exists(), f"bind source {source} does not exist"


@pytest.mark.timeout(60)
@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is not installed"
)
def test_docker_compose_config_accepts_it() -> None:
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# -- the web console ----------------------------------------------------------------------------


def web_service() -> dict[str, Any]:
    return compose()["services"]["web"]


@pytest.mark.timeout(10)
def test_web_runs_the_console_from_the_same_image() -> None:
    web = web_service()
    assert web["image"] == wirewatch_service()["image"]
    assert web["command"][:2] == ["wirewatch", "web"]
    assert web["depends_on"]["redis"]["condition"] == "service_healthy"


@pytest.mark.timeout(10)
def test_web_settings_are_real_and_point_at_the_same_redis_rules_and_feeds() -> None:
    env = environment(web_service())
    unknown = set(env) - setting_env_names()
    assert not unknown, f"not settings of ingest/settings.py: {sorted(unknown)}"
    assert env["WIREWATCH_WEB_TOKEN"].startswith("${WIREWATCH_WEB_TOKEN"), (
        "the token is not in the file"
    )
    worker = environment(wirewatch_service())
    for name in ("WIREWATCH_REDIS_URL", "WIREWATCH_RULES_DIR", "WIREWATCH_FEEDS_FILE"):
        assert env[name] == worker[name], name
    settings_from({k: v for k, v in env.items() if k != "WIREWATCH_WEB_TOKEN"})
    mounts = {
        target: (source, ro) for source, target, ro in map(volume_parts, web_service()["volumes"])
    }
    assert mounts[env["WIREWATCH_RULES_DIR"]] == ("../rules", True)


@pytest.mark.timeout(10)
def test_web_port_is_published_on_loopback_and_checked_by_healthz() -> None:
    web = web_service()
    port = int(environment(web)["WIREWATCH_WEB_PORT"])
    published = [str(p) for p in web["ports"]]
    assert published == [f"127.0.0.1:{port}:{port}"]
    check = " ".join(web["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/healthz" in check
