"""FeedStateStore against the real Redis (fails, never skips, when Redis is down)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from ingest.errors import StoreError
from ingest.fetch.feedstate import FeedStateStore
from ingest.fetch.schedule import SourceState
from tests.conftest import TEST_REDIS_URL

pytestmark = [
    pytest.mark.timeout(15),
    pytest.mark.redis,
    pytest.mark.usefixtures("real_redis_cleanup"),
]


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    connection = aioredis.Redis.from_url(TEST_REDIS_URL)
    try:
        yield connection
    finally:
        await connection.aclose()


async def test_state_round_trip_and_all(client, key_prefix) -> None:
    store = FeedStateStore(client, key_prefix)
    assert await store.get("https://a.example/rss") == SourceState()
    state = SourceState(
        etag='"x"',
        last_success_at=datetime(2026, 1, 1, tzinfo=UTC),
        error_count=2,
        spool_seen=(("a.txt", 10, 123),),
    )
    await store.put("https://a.example/rss", state)
    await store.put("/srv/spool", SourceState(items_seen=4))
    assert await store.get("https://a.example/rss") == state
    assert await store.all() == {
        "https://a.example/rss": state,
        "/srv/spool": SourceState(items_seen=4),
    }
    keys = {k.decode() async for k in client.scan_iter(match=f"{key_prefix}*")}
    assert keys == {f"{key_prefix}feed:state"}


async def test_unreadable_state_starts_afresh(client, key_prefix) -> None:
    store = FeedStateStore(client, key_prefix)
    await client.hset(f"{key_prefix}feed:state", "s", "{not json")
    assert await store.get("s") == SourceState()


async def test_seen_ids(client, key_prefix) -> None:
    store = FeedStateStore(client, key_prefix)
    assert await store.filter_new("src", ["a", "b", "a", "c"]) == ["a", "b", "c"]
    await store.mark_seen("src", ["a", "c"])
    assert await store.filter_new("src", ["a", "b", "c", "d"]) == ["b", "d"]
    assert await store.filter_new("other", ["a"]) == ["a"]
    assert await store.filter_new("src", []) == []
    ttl_s = await client.ttl(store.seen_key("src"))
    assert 0 < ttl_s <= 30 * 86400


async def test_seen_ids_are_bounded(client, key_prefix) -> None:
    store = FeedStateStore(client, key_prefix, max_seen=3)
    await store.mark_seen("src", ["1", "2", "3"])
    await store.mark_seen("src", ["4", "5"])
    assert await client.zcard(store.seen_key("src")) == 3
    # the oldest go first (ties in time fall back to member order, as Redis sorts them)
    assert await store.filter_new("src", ["1", "2", "3", "4", "5"]) == ["1", "2"]


async def test_delete(client, key_prefix) -> None:
    store = FeedStateStore(client, key_prefix)
    await store.put("s", SourceState(items_seen=1))
    await store.mark_seen("s", ["x"])
    await store.delete("s")
    assert await store.all() == {}
    assert await client.exists(store.seen_key("s")) == 0


async def test_redis_down_is_a_store_error(key_prefix) -> None:
    dead = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        store = FeedStateStore(dead, key_prefix)
        with pytest.raises(StoreError, match="cannot read feed state"):
            await store.get("s")
        with pytest.raises(StoreError):
            await store.mark_seen("s", ["x"])
    finally:
        await dead.aclose()
