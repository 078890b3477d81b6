"""The story stage's cost does not grow with the window: a template feed's notices do not fan
out, lede keys list few articles, few candidates are verified (against the real Redis)."""

from __future__ import annotations

import random

import pytest
import redis.asyncio as aioredis

from ingest.models import Article, RawEntry
from ingest.normalize.article import normalize
from ingest.stories.copies import MAX_CANDIDATES, REFS_MAX, LocalStories, prepare
from ingest.stories.registry import StoryRegistry
from ingest.stories.sketch import LEDE_KEYS, lede_fields

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(60)]

TEMPLATE = (
    "A magnitude {m} earthquake struck {km} kilometres {way} of {place} at {t} UTC on {day}, "
    "the United States Geological Survey said. The quake was recorded at a depth of {d} "
    "kilometres.\nThere were no immediate reports of damage or casualties. The agency issued "
    "a green alert for shaking-related fatalities and economic losses.\nThis notice was "
    "generated automatically from preliminary data and may be revised."
)
PLACES = ["Hualien", "Coquimbo", "Sendai", "Iquique", "Padang", "Kodiak", "Izmir", "Patras"]
WAYS = ["north", "south", "east", "west", "north-northeast", "south-southwest"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def notice(n: int, source: str = "Quake Alerts", text: str | None = None) -> Article:
    rng = random.Random(n)
    body = text or TEMPLATE.format(
        m=f"{rng.uniform(4, 7):.1f}", km=rng.randint(3, 300), way=rng.choice(WAYS),
        place=rng.choice(PLACES), t=f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        day=rng.choice(DAYS), d=rng.randint(5, 200),
    )  # fmt: skip
    slug = source.lower().replace(" ", "-")
    entry = RawEntry(
        source_name=source, source_url=f"https://{slug}.example/feed.xml",
        title=f"Earthquake notice {n}", content=body, content_is_html=False,
        link=f"https://{slug}.example/{n}", language="en",
    )  # fmt: skip
    return normalize(entry)


async def lede_fields_in_redis(client: aioredis.Redis, key_prefix: str) -> dict[str, list[str]]:
    """Every lede key in Redis (its number and min-hash, as `lede_fields` writes it): the
    articles listed under it."""
    found: dict[str, list[str]] = {}
    async for key in client.scan_iter(match=f"{key_prefix}story:lede:*"):
        shard = key.decode().rsplit(":", 1)[1]
        for field, refs in (await client.hgetall(key)).items():
            name = field.decode()
            found[name + shard] = refs.decode().split(",")
    return found


async def test_the_script_keys_an_article_as_python_does(
    client: aioredis.Redis, key_prefix: str
) -> None:
    article = notice(1)
    await StoryRegistry(client, key_prefix, 3600).assign(article)
    in_redis = await lede_fields_in_redis(client, key_prefix)
    expected, _keyed = lede_fields(prepare(article).shingles, lambda _key: False)
    assert len(expected) == LEDE_KEYS and set(in_redis) == set(expected)
    assert all(refs == [article.id] for refs in in_redis.values())


async def test_a_template_feed_does_not_fan_out(client: aioredis.Redis, key_prefix: str) -> None:
    registry = StoryRegistry(client, key_prefix, 3600)
    notices = [notice(n) for n in range(60)]
    stories = []
    for start in range(0, len(notices), 15):
        stories += await registry.assign_many(notices[start : start + 15])
    assert all(story.is_new for story in stories)  # each notice is its own event
    in_redis = await lede_fields_in_redis(client, key_prefix)
    assert max(len(refs) for refs in in_redis.values()) <= REFS_MAX
    assert registry.counts["verified"] <= MAX_CANDIDATES * len(notices)
    # Once the template is the source's, a notice's keys are its own: few candidates each.
    before = registry.counts["candidates"]
    later = [notice(n) for n in range(100, 120)]
    assert all(s.is_new for s in await registry.assign_many(later))
    assert (registry.counts["candidates"] - before) / len(later) < REFS_MAX


async def test_a_copy_of_a_notice_is_found_among_many(
    client: aioredis.Redis, key_prefix: str
) -> None:
    registry = StoryRegistry(client, key_prefix, 3600)
    notices = [notice(n) for n in range(40)]
    await registry.assign_many(notices)
    original = notices[7]
    edited = original.body.replace("kilometres", "kilometers")
    copy = notice(7, source="Island Times", text=f"{edited}\nIsland Times will update this.")
    story = await registry.assign(copy)
    assert not story.is_new and story.story_id == original.id
    local = LocalStories()
    assert [local.assign(a).is_new for a in notices] == [True] * len(notices)
    assert local.assign(copy).story_id == original.id
