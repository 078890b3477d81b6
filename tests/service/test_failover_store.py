"""The store's parts on a Sentinel set through a failover, in process: publishing (script and
pipeline), leases (scripts), the story registry (scripts in a pipeline), consumer groups (a
reader's and the article hand-off of `--role match`) and the web console's stream reads all
carry on against the new primary, which never had the scripts loaded; the move is logged once
however many calls notice it."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path

import pytest
import redis

from ingest.delivery.connections import connect_sync
from ingest.delivery.handoff import ArticleQueue
from ingest.delivery.store import Store
from ingest.delivery.streams import read_after
from ingest.errors import StoreError
from ingest.settings import Settings
from ingest.stories.registry import StoryRegistry
from tests.delivery.test_store import make_alert, make_article
from tests.service.sentinels import SentinelSet, sentinel_set

__all__ = ["sentinel_set"]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


async def until_answering(call: object, timeout_s: float = 30.0) -> object:
    """Retry a store call (a zero-argument coroutine function) while Redis is failing over."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            return await call()  # type: ignore[operator]
        except StoreError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def test_everything_carries_on_after_a_failover(
    tmp_path: Path, sentinel_set: SentinelSet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ingest.delivery.connections")
    prefix = f"wwtest:{uuid.uuid4().hex[:8]}:"
    settings = Settings(_env_file=None, redis_url=sentinel_set.url(), key_prefix=prefix)  # type: ignore[call-arg]
    channel = f"{prefix}alerts"
    store = Store.from_settings(settings)
    registry = StoryRegistry(store.client, prefix, settings.story_window_s)
    other = Store.from_settings(settings)  # a second client in the process (a health probe's)
    try:
        await store.ping()
        await other.ping()
        assert await store.publish_many([(make_alert(n, channel), f"s{n}") for n in range(3)])
        assert await store.acquire_lease("source-a", "w1")
        first = await registry.assign_many([make_article(n) for n in range(3)])
        await store.ensure_group(channel, "readers", "0")
        read = await store.client.xreadgroup("readers", "r1", {channel: ">"})
        assert len(read[0][1]) == 3
        position = {channel: read[0][1][-1][0]}
        queue = ArticleQueue(store, claim_idle_ms=0)  # --role fetch hands articles to matchers
        await queue.put([(make_article(n), story) for n, story in enumerate(first[:2])])
        taken = await queue.take("matcher-1", 10, block_ms=100)  # not acknowledged: it "died"
        assert [h.article.id for h in taken] == ["article-0", "article-1"]

        old, new = await asyncio.to_thread(sentinel_set.fail_primary)
        with new.client() as fresh:
            assert fresh.script_exists(store._publish_once.sha) == [False]

        # Many calls at once notice the move; it is said once.
        results = await asyncio.gather(
            *(until_answering(lambda n=n: store.unseen_articles([f"x{n}"])) for n in range(20))
        )
        assert all(r == {f"x{n}"} for n, r in enumerate(results))
        published = await until_answering(
            lambda: store.publish_many([(make_alert(n, channel), f"s{n}") for n in range(2, 6)])
        )
        assert isinstance(published, list) and published[0] is None and all(published[1:])
        assert await store.renew_lease("source-a", "w1")
        again = await registry.assign_many([make_article(n) for n in range(3)])
        assert [s.story_id for s in again] == [s.story_id for s in first]
        newer = await store.client.xreadgroup("readers", "r1", {channel: ">"})
        assert [f["alert_id"] for _, f in newer[0][1]] == ["alert-3", "alert-4", "alert-5"]
        entries = await read_after(store, position, block_ms=100)
        assert [e.id for e in entries] == [e for e, _ in newer[0][1]]

        retaken = await queue.take("matcher-2", 10, block_ms=100)  # a live matcher takes over
        assert [h.article.id for h in retaken] == ["article-0", "article-1"]
        await queue.ack([h.entry_id for h in retaken])
        assert await queue.take("matcher-2", 10, block_ms=100) == []

        assert await until_answering(lambda: other.unseen_articles(["y"])) == {"y"}
        # Said once for the process, however many of its clients found the primary moved.
        moved = [r for r in caplog.records if "moved from" in r.getMessage()]
        assert [r.getMessage() for r in moved] == [
            f"Redis primary of 'wwtest' moved from 127.0.0.1:{old.port} to 127.0.0.1:{new.port}"
            " (failover)"
        ]
        assert sum("Redis primary of 'wwtest' is " in r.getMessage() for r in caplog.records) == 1
    finally:
        await other.close()
        await store.close()


def test_blocking_client_finds_the_primary_and_follows_it(sentinel_set: SentinelSet) -> None:
    """`connect_sync` (scripts and benchmarks) takes the same URL and follows a failover."""
    key = f"wwtest:{uuid.uuid4().hex[:8]}:k"
    client = connect_sync(sentinel_set.url())
    try:
        client.set(key, "before")
        assert client.get(key) == "before"
        sentinel_set.fail_primary()
        deadline = time.monotonic() + 30
        while True:
            try:
                client.set(key, "after")
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        with sentinel_set.primary().client() as primary:
            assert primary.get(key) == "after"
    finally:
        client.close()


async def test_sentinels_with_a_password_of_their_own(tmp_path: Path) -> None:
    """`?sentinel_password=` reaches sentinels that have `requirepass`; without it the error
    says what to add, and no password shows in it."""
    cluster = SentinelSet(tmp_path / "set", sentinel_password="sentinel-secret")
    try:
        await asyncio.to_thread(cluster.start)
        prefix = f"wwtest:{uuid.uuid4().hex[:8]}:"
        url = cluster.url() + "?sentinel_password=sentinel-secret"
        settings = Settings(_env_file=None, redis_url=url, key_prefix=prefix)  # type: ignore[call-arg]
        store = Store.from_settings(settings)
        try:
            await store.ping()
            assert await store.acquire_lease("source-a", "w1")
        finally:
            await store.close()
        refused = Store.from_settings(settings.model_copy(update={"redis_url": cluster.url()}))
        try:
            with pytest.raises(StoreError) as raised:
                await refused.ping()
            assert "asks for a password: give it as ?sentinel_password=" in str(raised.value)
            assert "sentinel-secret" not in str(raised.value)
        finally:
            await refused.close()
    finally:
        await asyncio.to_thread(cluster.stop)
