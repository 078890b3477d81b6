"""Fixtures for the web console: `wirewatch web` as a real process, an SSE reader, alerts
published through the service's own publish script, and a headless browser."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ingest.delivery.store import Store
from ingest.settings import Settings
from tests.conftest import ROOT, TEST_REDIS_URL
from tests.service.conftest import free_port

# Debian's Chromium, which `bash scripts/test` installs when it can (scripts/need-chromium).
CHROMIUM = os.environ.get("WIREWATCH_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
START_TIMEOUT_S = 30.0


class WebServer:
    """`python -m ingest web` on a free loopback port, with its own environment."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, healthy: bool = True) -> WebServer:
        """Start; wait until /healthz says 200 (or, `healthy=False`, anything at all)."""
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ingest", "web", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=log, cwd=ROOT,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"wirewatch web exited:\n{self.logs()}"
            try:
                status = httpx.get(f"{self.url}/healthz", timeout=10).status_code
            except httpx.TransportError:
                status = 0
            if status == 200 or (status and not healthy):
                return self
            time.sleep(0.1)
        raise AssertionError(f"wirewatch web did not answer /healthz\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def web_env(redis_url: str, key_prefix: str, rules_dir: Path, feeds_file: Path, **extra: str):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        WIREWATCH_REDIS_URL=redis_url,
        WIREWATCH_KEY_PREFIX=key_prefix,
        WIREWATCH_RULES_DIR=str(rules_dir),
        WIREWATCH_FEEDS_FILE=str(feeds_file),
        WIREWATCH_LOG_FORMAT="text",
        **extra,
    )
    return env


@pytest.fixture
def console_files(tmp_path: Path) -> tuple[Path, Path]:
    """An empty rules folder and a feeds.yaml with no sources."""
    rules = tmp_path / "rules"
    rules.mkdir()
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds: []\n", encoding="utf-8")
    return rules, feeds


@pytest.fixture
def start_web(tmp_path: Path, key_prefix: str, console_files: tuple[Path, Path]):  # type: ignore[no-untyped-def]
    """Start consoles on the test Redis under this test's key prefix; stopped at the end."""
    started: list[WebServer] = []

    def start(**extra: str) -> WebServer:
        rules, feeds = console_files
        env = web_env(TEST_REDIS_URL, key_prefix, rules, feeds, **extra)
        server = WebServer(env, tmp_path / f"web-{len(started)}.log")
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@dataclass
class Publisher:
    """Publishes alerts the way the service does (the one Lua script), from the test."""

    settings: Settings

    def alert(self, channel: str, n: int, title: str = "", rule_id: str = "test-rule") -> str:
        alert = {
            "schema": 1, "alert_id": f"alert-{channel}-{n}", "rule_id": rule_id,
            "channel": channel, "matched": {"terms": ["ceasefire"], "entities": []},
            "article": {
                "id": f"article-{n}", "url": f"https://wire.example/{n}",
                "title": title or f"Story {n}", "published": None,
                "source": {"name": "Wire", "url": "https://wire.example/feed"},
                "dateline": {"place": "KYIV", "date": "March 18", "agency": "Reuters"},
                "summary": "", "language": "en",
            },
            "snippet": f"a ceasefire, story {n}", "created_at": "2026-11-30T10:00:00Z",
        }  # fmt: skip
        # In a thread of its own: Playwright's sync API keeps an event loop in this one.
        work = self._publish(channel, n, rule_id, json.dumps(alert))
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, work).result()

    async def _publish(self, channel: str, n: int, rule_id: str, payload: str) -> str:
        store = Store.from_settings(self.settings)
        try:
            stream_id = await store.publish_payload(
                rule_id, channel, f"alert-{channel}-{n}", f"story-{channel}-{n}", payload
            )
        finally:
            await store.close()
        assert stream_id, "published twice"
        return stream_id


@pytest.fixture
def publisher(make_settings) -> Publisher:  # type: ignore[no-untyped-def]
    return Publisher(make_settings())


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium from the system (never a downloaded one), for a module's tests."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: sudo apt-get install -y chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
