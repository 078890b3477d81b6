"""Store semantics on the real Redis: publish once, leases, recent articles, replay, groups."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.exceptions import ResponseError

from ingest.delivery.store import RULE_STATS_TTL_S, Store
from ingest.delivery.subscribe import SubscribeOptions, since_to_stream_id, subscribe
from ingest.models import Alert, Article, Dateline, EntityHit, Match, SourceRef
from ingest.settings import Settings

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(30)]


def make_article(n: int) -> Article:
    return Article(
        id=f"article-{n}",
        url=f"https://wire.example/{n}",
        title=f"Story {n}",
        body=f"Body of story {n} about a ceasefire.",
        published=datetime(2025, 3, 17, tzinfo=UTC),
        source=SourceRef("Wire", "https://wire.example/feed"),
        dateline=Dateline("WASHINGTON", "March 17", "Alliance News"),
        summary="Body",
        language="en",
        fingerprint=f"fp{n}",
    )


def make_alert(n: int, channel: str) -> Alert:
    match = Match("r1", channel, ("ceasefire",), (EntityHit("PERSON", "A B", ("B",)),), "s")
    return Alert(f"alert-{n}", match, make_article(n), datetime(2026, 1, 1, tzinfo=UTC))


@pytest.fixture
async def store(make_settings) -> AsyncIterator[Store]:  # type: ignore[no-untyped-def]
    settings: Settings = make_settings()
    opened = Store.from_settings(settings)
    await opened.ping()
    yield opened
    await opened.close()


@pytest.fixture
def channel(key_prefix: str) -> str:
    return f"{key_prefix}alerts:{uuid.uuid4().hex[:6]}"


async def test_publish_once_per_story(store: Store, channel: str) -> None:
    first = await store.publish_alert(make_alert(1, channel), "story-1")
    again = await store.publish_alert(make_alert(1, channel), "story-1")
    other = await store.publish_alert(make_alert(2, channel), "story-2")
    assert first and other and again is None
    entries = await store.client.xrange(channel)
    assert [json.loads(f["alert"])["alert_id"] for _, f in entries] == ["alert-1", "alert-2"]


async def test_concurrent_publishers_claim_once(store: Store, channel: str) -> None:
    results = await asyncio.gather(
        *(store.publish_alert(make_alert(7, channel), "story-7") for _ in range(20))
    )
    assert sum(1 for r in results if r) == 1
    assert await store.client.xlen(channel) == 1


async def test_leases_are_exclusive_and_owned(store: Store) -> None:
    assert await store.acquire_lease("src", "w1")
    assert not await store.acquire_lease("src", "w2")
    assert not await store.renew_lease("src", "w2")
    await store.release_lease("src", "w2")  # not the owner: no effect
    assert not await store.acquire_lease("src", "w2")
    assert await store.renew_lease("src", "w1")
    await store.release_lease("src", "w1")
    assert await store.acquire_lease("src", "w2")


async def test_a_lease_whose_release_was_lost_is_taken_again_by_its_holder(store: Store) -> None:
    """A failover can keep a lease whose release failed (the old primary died first): the
    worker that holds it takes it again at once (renewed), and others still cannot."""
    assert await store.acquire_lease("src", "w1")  # its release never reached Redis
    await store.client.pexpire(f"{store.prefix}lease:src", 2000)
    assert await store.acquire_lease("src", "w1")
    assert await store.client.pttl(f"{store.prefix}lease:src") > 2000
    assert not await store.acquire_lease("src", "w2")
    await store.release_lease("src", "w1")
    assert await store.acquire_lease("src", "w2")
    assert not await store.acquire_lease("src", "w1")


async def test_seen_and_recent_articles(store: Store) -> None:
    articles = [make_article(n) for n in range(3)]
    assert await store.unseen_articles([a.id for a in articles]) == {a.id for a in articles}
    await store.mark_articles_seen(a.id for a in articles[:2])
    assert await store.unseen_articles([a.id for a in articles]) == {"article-2"}
    await store.remember_articles(articles)
    recent = await store.recent_articles(since_s=60)
    assert recent == articles


async def test_replay_then_live_has_no_gap_and_no_double(store: Store, channel: str) -> None:
    for n in range(3):
        await store.publish_alert(make_alert(n, channel), f"s{n}")
    lines: list[str] = []
    options = SubscribeOptions(channels=(channel,), replay=True, count=5, timeout_s=10)
    task = asyncio.create_task(subscribe(store, options, lines.append))
    while len(lines) < 3:
        await asyncio.sleep(0.02)
    for n in range(3, 5):
        await store.publish_alert(make_alert(n, channel), f"s{n}")
    assert await task == 5
    assert [json.loads(x)["alert_id"] for x in lines] == [f"alert-{n}" for n in range(5)]


async def test_pattern_replay_finds_streams(store: Store, key_prefix: str) -> None:
    await store.publish_alert(make_alert(1, f"{key_prefix}alerts:a"), "s1")
    await store.publish_alert(make_alert(2, f"{key_prefix}alerts:b"), "s2")
    lines: list[str] = []
    options = SubscribeOptions((f"{key_prefix}alerts:*",), pattern=True, replay=True, timeout_s=0.5)
    await subscribe(store, options, lines.append)
    assert sorted(json.loads(x)["alert_id"] for x in lines) == ["alert-1", "alert-2"]


async def test_consumer_group_redelivers_unacknowledged(store: Store, channel: str) -> None:
    for n in range(4):
        await store.publish_alert(make_alert(n, channel), f"s{n}")
    group = SubscribeOptions((channel,), group="g", replay=True, count=2, timeout_s=5)
    first: list[str] = []
    assert await subscribe(store, group, first.append) == 2
    rest: list[str] = []
    more = SubscribeOptions((channel,), group="g", timeout_s=0.5)
    await subscribe(store, more, rest.append)
    ids = [json.loads(x)["alert_id"] for x in first + rest]
    assert ids == [f"alert-{n}" for n in range(4)]
    pending = await store.client.xpending(channel, "g")
    assert pending["pending"] == 0


async def test_a_group_made_again_starts_where_the_consumer_had_read(
    store: Store, channel: str
) -> None:
    """A new primary that lacks the group (a failover before it was replicated): the group
    is made again where this consumer had read to, so the alerts published meanwhile are
    printed, not passed over as a group made at the stream's end ("$") would."""
    lines: list[str] = []
    options = SubscribeOptions((channel,), group="g", count=4, timeout_s=15)
    task = asyncio.create_task(subscribe(store, options, lines.append))

    async def group_exists() -> bool:
        with contextlib.suppress(ResponseError):  # no stream yet
            return any(g["name"] == "g" for g in await store.client.xinfo_groups(channel))
        return False

    while not await group_exists():
        await asyncio.sleep(0.02)
    for n in range(2):
        await store.publish_alert(make_alert(n, channel), f"s{n}")
    while len(lines) < 2:
        await asyncio.sleep(0.02)
    await store.client.xgroup_destroy(channel, "g")
    for n in range(2, 4):
        await store.publish_alert(make_alert(n, channel), f"s{n}")
    assert await task == 4
    assert [json.loads(x)["alert_id"] for x in lines] == [f"alert-{n}" for n in range(4)]


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("1700000000000-3", "1700000000000-3"),
        ("1700000000", "1700000000000-0"),
        ("2023-11-14T22:13:20Z", "1700000000000-0"),
    ],
)
def test_since_to_stream_id(since: str, expected: str) -> None:
    assert since_to_stream_id(since) == expected


async def test_alerts_are_counted_per_rule_per_hour_as_published(
    store: Store, channel: str
) -> None:
    before = time.time()
    for n in range(3):
        await store.publish_alert(make_alert(n, channel), f"s{n}")
    await store.publish_alert(make_alert(0, channel), "s0")  # a repeat: not counted
    other = Match("r2", channel, ("ceasefire",), (), "s")
    await store.publish_alert(
        Alert("alert-x", other, make_article(9), make_alert(0, channel).created_at), "s9"
    )
    activity = await store.rule_activity(["r1", "r2", "never"], hours=24, now_s=time.time())
    assert len(activity["r1"].per_hour) == 24
    assert sum(activity["r1"].per_hour) == activity["r1"].per_hour[-1] == 3
    assert sum(activity["r2"].per_hour) == 1
    assert activity["never"].per_hour == (0,) * 24 and activity["never"].last_alert_ms is None
    last_ms = activity["r1"].last_alert_ms
    assert last_ms is not None and before * 1000 - 1000 <= last_ms <= time.time() * 1000 + 1000
    ((entry_id, _),) = await store.client.xrevrange(channel, count=1)
    assert activity["r2"].last_alert_ms == int(entry_id.split("-")[0])
    hour = int(entry_id.split("-")[0]) // 3_600_000
    ttl_s = await store.client.ttl(f"{store.prefix}rulestats:{hour}")
    assert 0 < ttl_s <= RULE_STATS_TTL_S
    # An hour ago is the bucket before: nothing was published then.
    earlier = await store.rule_activity(["r1"], hours=24, now_s=time.time() - 3600)
    assert earlier["r1"].per_hour[-1] == 0


async def test_waiting_for_redis_says_each_failure_and_stops_when_asked(
    make_settings, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.service.conftest import free_port

    dead = Store.from_settings(make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(2.5, stop.set)
    try:
        await dead.wait_until_answering(stop)
    finally:
        await dead.close()
    retries = [r.getMessage() for r in caplog.records if "Retrying in" in r.getMessage()]
    assert retries[:2] and "Retrying in 1 s" in retries[0] and "Retrying in 2 s" in retries[1]

    live = Store.from_settings(make_settings())
    try:
        await asyncio.wait_for(live.wait_until_answering(asyncio.Event()), 5)
    finally:
        await live.close()
