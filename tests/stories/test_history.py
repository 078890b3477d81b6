"""Per-source history in Redis: sentences a source repeats across stories are not hashed."""

from __future__ import annotations

import dataclasses
import logging

import pytest
import redis.asyncio as aioredis

from ingest.models import Article
from ingest.stories.content import split_content
from ingest.stories.copies import REPEATED_IN_STORIES, prepare
from ingest.stories.registry import StoryRegistry
from tests.stories.casebook import CASES, load_group
from tests.stories.test_stories import WINDOW_S, article_from

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(30)]

POLICE = load_group(CASES / "police_blotter_shared_footer.yaml")


def kept_without_footer(article: Article) -> bytes:
    """What the registry keeps of a new story hashed without the footer."""
    return f"{article.id}|{prepare(article, footer_keys()).doc()}".encode()


async def kept_of(client: aioredis.Redis, key_prefix: str, article: Article) -> bytes:
    """What the registry keeps of `article` to verify later copies: its doc's first line."""
    doc = await client.get(f"{key_prefix}story:doc:{article.id}")
    return bytes(doc).split(b"\n")[0]


def footer_keys() -> set[str]:
    """Sentence keys every police item has: the footer's."""
    keys = [{s.key for line in split_content(i.article.body) for s in line} for i in POLICE]
    return set.intersection(*keys)


async def test_a_footer_repeated_across_stories_is_counted_then_left_out(
    client: aioredis.Redis, key_prefix: str
) -> None:
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    units_key = f"{key_prefix}story:units:Lakeside Patch"
    shared = sorted(footer_keys())
    assert len(shared) >= 10
    for n, item in enumerate(POLICE[:REPEATED_IN_STORIES]):
        assert (await registry.assign(item.article)).is_new
        scores = await client.zmscore(units_key, shared)
        assert scores == [n + 1.0] * len(shared)
    # From now on the footer is the source's boilerplate: what is hashed is the lead alone.
    later = POLICE[REPEATED_IN_STORIES].article
    story = await registry.assign(later)
    assert story.is_new
    doc = await kept_of(client, key_prefix, later)
    assert doc == kept_without_footer(later) != f"{later.id}|{prepare(later).doc()}".encode()
    lead = prepare(later, set(shared))
    assert lead.words < prepare(later).words and "reader-supported" not in "\n".join(lead.lines)


async def test_a_copy_does_not_count_as_another_story_of_its_source(
    client: aioredis.Redis, key_prefix: str
) -> None:
    # An outlet that carries the same story three times (updates) has no boilerplate for it.
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    reuters = article_from("black_sea_reuters.txt", "Reuters")
    for n in range(REPEATED_IN_STORIES + 1):
        copy = dataclasses.replace(reuters, id=f"update-{n}", fingerprint=f"update-{n}")
        story = await registry.assign(copy)
        assert story.story_id == "update-0" and story.is_new == (n == 0)
    scores = await client.zrange(f"{key_prefix}story:units:Reuters", 0, -1, withscores=True)
    assert scores and all(score == 1.0 for _member, score in scores)


async def test_the_history_of_a_source_is_bounded(client: aioredis.Redis, key_prefix: str) -> None:
    registry = StoryRegistry(client, key_prefix, WINDOW_S, units_max=100)
    for item in POLICE:
        await registry.assign(item.article)
    units_key = f"{key_prefix}story:units:Lakeside Patch"
    assert await client.zcard(units_key) == 100
    assert 0 < await client.ttl(units_key) <= WINDOW_S
    # What stays is what repeats most: the footer.
    kept = {m.decode() for m in await client.zrange(units_key, 0, -1)}
    assert footer_keys() <= kept


async def test_a_copy_is_logged_with_its_story_and_first_outlet(
    client: aioredis.Redis, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ingest.stories")
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    original = article_from("black_sea_reuters.txt", "Reuters")
    gazette = article_from("black_sea_gazette.txt", "Gazette")
    first = await registry.assign(original)
    copy = await registry.assign(gazette)
    assert first.how == "new" and copy.how == "near" and copy.title == original.title
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert lines == [
        f"article '{gazette.title}' ({gazette.id}) is a copy of story '{original.title}' "
        f"({original.id}) first seen at Reuters"
    ]


async def test_a_batch_after_the_footer_is_known_takes_one_call_per_article(
    client: aioredis.Redis, key_prefix: str
) -> None:
    # The counts are read once per batch, before the first calls: the batch that makes the
    # footer boilerplate learns it from the script ("repeated"), the batches after it know it.
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    kinds: list[str] = []
    take = registry._take

    def recorded(assignment, reply):  # type: ignore[no-untyped-def]
        kinds.append(reply[0].decode())
        return take(assignment, reply)

    registry._take = recorded  # type: ignore[method-assign]
    first = await registry.assign_many([i.article for i in POLICE[: REPEATED_IN_STORIES + 1]])
    assert all(s.is_new for s in first)
    # One of them came after three stories with the footer: counted on in memory, the batch
    # knew it before the first call.
    assert kinds == ["done"] * len(first)
    last = POLICE[REPEATED_IN_STORIES].article
    assert await kept_of(client, key_prefix, last) == kept_without_footer(last)
    kinds.clear()
    later = await registry.assign_many([i.article for i in POLICE[REPEATED_IN_STORIES + 1 :]])
    assert later and all(s.is_new for s in later)
    assert kinds == ["done"] * len(later)
    for item in POLICE[REPEATED_IN_STORIES + 1 :]:
        doc = await kept_of(client, key_prefix, item.article)
        assert doc == kept_without_footer(item.article)


async def test_counts_changed_by_another_worker_are_caught_by_the_script(
    client: aioredis.Redis, key_prefix: str
) -> None:
    # Another worker made the footer boilerplate after this batch read the counts: the script
    # says so, and the article is hashed without it all the same.
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    later = POLICE[REPEATED_IN_STORIES].article
    units_key = f"{key_prefix}story:units:Lakeside Patch"
    real_counts = registry._unit_counts

    async def counts_then_another_worker(*args, **kwargs):  # type: ignore[no-untyped-def]
        counts = await real_counts(*args, **kwargs)
        await client.zadd(units_key, {key: REPEATED_IN_STORIES for key in footer_keys()})
        return counts

    registry._unit_counts = counts_then_another_worker  # type: ignore[method-assign]
    assert (await registry.assign(later)).is_new
    doc = await kept_of(client, key_prefix, later)
    assert doc == kept_without_footer(later)
