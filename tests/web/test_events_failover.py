"""The console's event stream (/api/events) through a Redis Sentinel failover: one open stream
goes on delivering, after the primary is killed with -9 and the sentinels promote the replica,
every alert once and in order."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from ingest.errors import StoreError
from ingest.settings import Settings
from tests.service.sentinels import SentinelSet, sentinel_set
from tests.web.conftest import Publisher, WebServer, web_env
from tests.web.test_events import follow, titles

__all__ = ["sentinel_set"]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def publish(publisher: Publisher, channel: str, n: int) -> None:
    """Publish, retrying while the sentinels fail over."""
    deadline = time.monotonic() + 30
    while True:
        try:
            publisher.alert(channel, n)
            return
        except StoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_open_event_stream_carries_on_through_a_failover(
    tmp_path: Path, sentinel_set: SentinelSet, console_files: tuple[Path, Path]
) -> None:
    prefix = f"wwtest:{uuid.uuid4().hex[:8]}:"
    channel = f"alerts:console:{uuid.uuid4().hex[:6]}"
    settings = Settings(_env_file=None, redis_url=sentinel_set.url(), key_prefix=prefix)  # type: ignore[call-arg]
    publisher = Publisher(settings)
    rules, feeds = console_files
    server = WebServer(web_env(sentinel_set.url(), prefix, rules, feeds), tmp_path / "web.log")
    try:
        server.start()
        with follow(server, [channel]) as events:
            for n in range(3):
                publish(publisher, channel, n)
            assert titles(events.take(3)) == ["Story 0", "Story 1", "Story 2"]
            old, new = sentinel_set.fail_primary()
            for n in range(3, 6):
                publish(publisher, channel, n)
            assert titles(events.take(3)) == ["Story 3", "Story 4", "Story 5"]
        assert f"moved from 127.0.0.1:{old.port} to 127.0.0.1:{new.port}" in server.logs()
    finally:
        server.stop()
