"""Fixtures of the notify tests: `wirewatch notify` processes and channel names of a test's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import TEST_REDIS_URL
from tests.notify.helpers import Notifiers


@pytest.fixture
def notifiers(tmp_path: Path) -> Iterator[Notifiers]:
    running = Notifiers(tmp_path)
    yield running
    running.stop_all()


@pytest.fixture
def channel_base() -> Iterator[str]:
    """A channel-name stem no other test uses; its streams are deleted afterwards."""
    base = f"wwtest-ch-{uuid.uuid4().hex[:10]}"
    yield base
    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{base}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
