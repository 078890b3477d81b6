"""StoryRegistry against the real Redis: exact repeats, near copies, expiry, concurrency.

These tests need Redis at WIREWATCH_TEST_REDIS_URL (default redis://127.0.0.1:6379/15) and fail,
not skip, when it is down: story grouping is Redis semantics (Lua, TTL) and a fake proves little.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from ingest.models import Article, RawEntry
from ingest.normalize.article import normalize
from ingest.stories.registry import PERIODS, StoryRegistry
from tests.conftest import TEST_REDIS_URL
from tests.normalize.casefiles import CASES, SEEDS

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("real_redis_cleanup")]

STORIES = CASES / "stories"
WINDOW_S = 3600


def article_from(path_name: str, outlet: str) -> Article:
    path = STORIES / path_name
    title, _blank, body = path.read_text(encoding="utf-8").split("\n", 2)
    entry = RawEntry(
        source_name=outlet,
        source_url=f"https://{outlet.lower().replace(' ', '-')}.example/rss.xml",
        title=title,
        content=body,
        content_is_html=False,
        link=f"https://{outlet.lower().replace(' ', '-')}.example/{path.stem}",
        published=datetime(2025, 3, 25, tzinfo=UTC),
        language="en",
    )
    return normalize(entry)


@pytest.mark.timeout(15)
async def test_a_new_story_then_an_exact_repeat(client: aioredis.Redis, key_prefix: str) -> None:
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    article = article_from("black_sea_reuters.txt", "Reuters")
    first = await registry.assign(article)
    again = await registry.assign(article)
    assert first.is_new and not again.is_new
    assert first.story_id == again.story_id == article.id
    assert [s.name for s in again.sources] == ["Reuters"]  # one outlet, listed once


@pytest.mark.timeout(15)
async def test_syndicated_copies_join_one_story_in_order(
    client: aioredis.Redis, key_prefix: str
) -> None:
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    original = await registry.assign(article_from("black_sea_reuters.txt", "Reuters"))
    herald = await registry.assign(article_from("black_sea_daily_herald.txt", "Daily Herald"))
    gazette = await registry.assign(article_from("black_sea_gazette.txt", "Gazette"))
    assert original.is_new and not herald.is_new and not gazette.is_new
    assert herald.story_id == gazette.story_id == original.story_id
    assert [s.name for s in gazette.sources] == ["Reuters", "Daily Herald", "Gazette"]


@pytest.mark.timeout(15)
async def test_a_different_story_on_the_same_topic_is_its_own(
    client: aioredis.Redis, key_prefix: str
) -> None:
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    original = await registry.assign(article_from("black_sea_reuters.txt", "Reuters"))
    other = await registry.assign(article_from("black_sea_other_agency.txt", "AP"))
    assert other.is_new
    assert other.story_id != original.story_id
    assert [s.name for s in other.sources] == ["AP"]


@pytest.mark.timeout(15)
async def test_keys_live_under_the_prefix_and_expire(
    client: aioredis.Redis, key_prefix: str
) -> None:
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    await registry.assign(article_from("black_sea_reuters.txt", "Reuters"))
    keys = [key.decode() async for key in client.scan_iter(match=f"{key_prefix}*")]
    assert keys and all(key.startswith(f"{key_prefix}story:") for key in keys)
    for key in keys:
        # the hashes of a period live a window after the period ends
        assert 0 < await client.ttl(key) <= WINDOW_S + WINDOW_S // PERIODS


@pytest.mark.timeout(15)
async def test_a_story_is_forgotten_after_its_window(
    client: aioredis.Redis, key_prefix: str
) -> None:
    registry = StoryRegistry(client, key_prefix, window_s=1)
    first = await registry.assign(article_from("black_sea_reuters.txt", "Reuters"))
    await asyncio.sleep(2.1)
    later = await registry.assign(article_from("black_sea_daily_herald.txt", "Daily Herald"))
    assert first.is_new and later.is_new
    assert [s.name for s in later.sources] == ["Daily Herald"]


@pytest.mark.timeout(30)
async def test_concurrent_copies_make_one_story(key_prefix: str) -> None:
    # Two workers, two connections, copies assigned at the same moment, many times over.
    first = aioredis.Redis.from_url(TEST_REDIS_URL)
    second = aioredis.Redis.from_url(TEST_REDIS_URL)
    reuters = article_from("black_sea_reuters.txt", "Reuters")
    herald = article_from("black_sea_daily_herald.txt", "Daily Herald")
    try:
        for round_index in range(20):
            prefix = f"{key_prefix}{round_index}:"
            a, b = await asyncio.gather(
                StoryRegistry(first, prefix, WINDOW_S).assign(reuters),
                StoryRegistry(second, prefix, WINDOW_S).assign(herald),
            )
            assert a.story_id == b.story_id
            assert [a.is_new, b.is_new].count(True) == 1
            assert {s.name for s in (a.sources + b.sources)} == {"Reuters", "Daily Herald"}
    finally:
        await first.aclose()
        await second.aclose()


@pytest.mark.timeout(15)
async def test_decoded_responses_work_too(key_prefix: str) -> None:
    client = aioredis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    try:
        registry = StoryRegistry(client, key_prefix, WINDOW_S)
        story = await registry.assign(article_from("black_sea_reuters.txt", "Reuters"))
        assert story.is_new and story.sources[0].name == "Reuters"
    finally:
        await client.aclose()


@pytest.mark.timeout(15)
async def test_articles_without_words_only_match_exact_repeats(
    client: aioredis.Redis, key_prefix: str
) -> None:
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    seed = normalize(
        RawEntry("Seeds", "file:///x", "", (SEEDS / "000_820d276074f311ca.txt").read_text(), False)
    )
    empty_one = dataclasses.replace(seed, id="e1", body="", fingerprint="f1")
    empty_two = dataclasses.replace(seed, id="e2", body="", fingerprint="f2")
    assert (await registry.assign(empty_one)).is_new
    assert (await registry.assign(empty_two)).is_new


@pytest.mark.timeout(15)
async def test_a_candidate_kept_unreadably_is_not_a_copy_and_nothing_breaks(
    client: aioredis.Redis, key_prefix: str
) -> None:
    # Written by another version, or damaged: the candidate cannot be verified, so the article
    # starts a story of its own (a repeated alert at worst, never a lost one).
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    original = article_from("black_sea_reuters.txt", "Reuters")
    await registry.assign(original)
    doc_key = f"{key_prefix}story:doc:{original.id}"
    lines = (await client.get(doc_key)).split(b"\n")
    await client.set(doc_key, b"\n".join([f"{original.id}|{{not kept}}".encode(), *lines[1:]]))
    copy = await registry.assign(article_from("black_sea_gazette.txt", "Gazette"))
    assert copy.is_new and copy.story_id != original.id
