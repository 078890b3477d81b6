"""deploy/compose.yaml, profile `sentinel`: one primary, one replica, three sentinels, and a
worker whose WIREWATCH_REDIS_URL names those sentinels and the service they monitor. The
sentinels' configuration lines are also run here, by a real `redis-server --sentinel`."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from ingest.delivery.redisurl import parse_sentinel_url
from tests.deploy.helpers import setting_env_names, settings_from
from tests.deploy.test_compose import compose, environment, volume_parts
from tests.service.conftest import free_port

SENTINELS = ["sentinel-1", "sentinel-2", "sentinel-3"]


def profile() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if "sentinel" in service.get("profiles", [])
    }


def sentinel_lines(service: dict[str, Any]) -> list[str]:
    """The lines the sentinel's start command writes to its sentinel.conf."""
    return re.findall(r"^\s+'([^']+)'", service["command"][0], flags=re.MULTILINE)


def monitor(service: dict[str, Any]) -> tuple[str, str, int, int]:
    (line,) = [li for li in sentinel_lines(service) if li.startswith("sentinel monitor ")]
    _, _, name, host, port, quorum = line.split()
    return name, host, int(port), int(quorum)


@pytest.mark.timeout(10)
def test_one_primary_one_replica_three_sentinels() -> None:
    services = profile()
    assert set(services) == {"redis-primary", "redis-replica", *SENTINELS, "wirewatch-ha"}
    replica = services["redis-replica"]["command"]
    at = replica.index("--replicaof")
    assert replica[at + 1 : at + 3] == ["redis-primary", "6379"]
    for name in ("redis-primary", "redis-replica"):
        command = services[name]["command"]
        assert command[command.index("--replica-announce-ip") + 1] == name
    watched = {monitor(services[s]) for s in SENTINELS}
    assert watched == {("wirewatch", "redis-primary", 6379, 2)}  # a majority of three
    volumes = [volume_parts(services[s]["volumes"][0])[0] for s in SENTINELS]
    assert len(set(volumes)) == 3 and set(volumes) <= set(compose()["volumes"])


@pytest.mark.timeout(10)
def test_the_worker_finds_the_primary_through_those_sentinels() -> None:
    services = profile()
    worker = services["wirewatch-ha"]
    env = environment(worker)
    assert set(env) <= setting_env_names()
    settings = settings_from(env)
    target = parse_sentinel_url(settings.redis_url)
    assert target.sentinels == tuple((s, 26379) for s in SENTINELS)
    assert target.service == monitor(services["sentinel-1"])[0]
    assert 1 <= settings.redis_min_replicas <= 1  # there is one replica to acknowledge
    assert set(worker["depends_on"]) == set(SENTINELS)
    single = compose()["services"]["wirewatch"]
    outbox = {volume_parts(v)[0] for v in worker["volumes"]} - {
        volume_parts(v)[0] for v in single["volumes"]
    }
    assert outbox == {"outbox-ha"}, "the HA worker needs an outbox volume of its own"
    assert worker["ports"] != single["ports"]


@pytest.mark.timeout(60)
def test_the_sentinel_configuration_runs(tmp_path: Path) -> None:
    """The compose file's sentinel lines, with the primary's name and port pointed at a local
    redis-server, are accepted by a real sentinel, which then knows the primary."""
    primary_port, sentinel_port = free_port(), free_port()
    lines = sentinel_lines(profile()["sentinel-1"])
    conf = "\n".join(
        line.replace("redis-primary 6379", f"127.0.0.1 {primary_port}").replace(
            "port 26379", f"port {sentinel_port}"
        )
        for line in lines
    )
    (tmp_path / "sentinel.conf").write_text(conf + "\n", encoding="utf-8")
    primary = subprocess.Popen(
        ["redis-server", "--port", str(primary_port), "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    sentinel = subprocess.Popen(
        ["redis-server", str(tmp_path / "sentinel.conf"), "--sentinel"],
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        client = redis.Redis(port=sentinel_port, decode_responses=True, socket_timeout=2)
        deadline = time.monotonic() + 20
        while True:
            try:
                address = client.sentinel_get_master_addr_by_name("wirewatch")
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline and sentinel.poll() is None
                time.sleep(0.1)
        client.close()
        assert address == ("127.0.0.1", primary_port)
    finally:
        for process in (sentinel, primary):
            process.terminate()
            process.wait(timeout=10)
