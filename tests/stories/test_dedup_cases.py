"""The labelled dedup cases (tests/stories/cases/): zero false merges, every copy merged.

Run through the Redis registry (the service) and the in-memory assignment (`rules test`), with
all groups in one story window (per-source history builds up, as on a live feed) and with each
group alone (the first items of new sources: the verification has to hold on its own), and in
reverse order (the copy first, the original after).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import pytest
import redis.asyncio as aioredis

from ingest.stories.copies import LocalStories, prepare
from ingest.stories.registry import Story, StoryRegistry
from ingest.stories.sketch import Kept, lede_shingles
from tests.stories.casebook import Item, all_items, group_files, labelled_pairs, load_group

pytestmark = pytest.mark.timeout(60)

ITEMS = all_items()


def mistakes(items: list[Item], story_of: dict[str, str]) -> tuple[list[str], list[str]]:
    """(false merges, missed merges) as readable pairs."""
    false, missed = [], []
    for a, b in combinations(items, 2):
        same = story_of[a.article.id] == story_of[b.article.id]
        pair = f"{a.label}#{a.index} ~ {b.label}#{b.index}"
        if same and a.label != b.label:
            false.append(pair)
        elif not same and a.label == b.label:
            missed.append(pair)
    return false, missed


def assign_locally(items: list[Item]) -> dict[str, str]:
    stories = LocalStories()
    return {i.article.id: stories.assign(i.article).story_id for i in items}


def test_the_case_set_is_large_and_labelled_both_ways() -> None:
    copies, different = labelled_pairs(ITEMS)
    assert len(group_files()) >= 15 and len(copies) >= 25 and len(different) >= 150
    assert len({i.article.id for i in ITEMS}) == len(ITEMS)


@pytest.mark.parametrize(
    "order", [lambda items: items, lambda items: items[::-1]], ids=["in order", "reversed"]
)
def test_in_memory_all_groups_in_one_window(order: Callable[[list[Item]], list[Item]]) -> None:
    items = order(ITEMS)
    false, missed = mistakes(items, assign_locally(items))
    assert false == []
    assert missed == []


@pytest.mark.parametrize("path", group_files(), ids=lambda p: p.stem)
def test_in_memory_each_group_alone(path) -> None:  # type: ignore[no-untyped-def]
    items = load_group(path)
    false, missed = mistakes(items, assign_locally(items))
    assert false == []
    assert missed == []


@pytest.mark.usefixtures("real_redis_cleanup")
async def test_registry_all_groups_in_one_window(client: aioredis.Redis, key_prefix: str) -> None:
    registry = StoryRegistry(client, key_prefix, 3600)
    story_of = {i.article.id: (await registry.assign(i.article)).story_id for i in ITEMS}
    false, missed = mistakes(ITEMS, story_of)
    assert false == []
    assert missed == []


@pytest.mark.usefixtures("real_redis_cleanup")
async def test_registry_each_group_alone(client: aioredis.Redis, key_prefix: str) -> None:
    for n, path in enumerate(group_files()):
        registry = StoryRegistry(client, f"{key_prefix}{n}:", 3600)
        items = load_group(path)
        story_of = {i.article.id: (await registry.assign(i.article)).story_id for i in items}
        false, missed = mistakes(items, story_of)
        assert false == [], path.name
        assert missed == [], path.name


@pytest.mark.usefixtures("real_redis_cleanup")
async def test_registry_in_batches_groups_as_one_by_one(
    client: aioredis.Redis, key_prefix: str
) -> None:
    # A poll hands the registry its new articles as a batch: the stories must be the ones
    # assigning them one at a time gives (which copy in a batch starts its story may differ).
    one_by_one = StoryRegistry(client, f"{key_prefix}single:", 3600)
    expected = [(await one_by_one.assign(i.article)) for i in ITEMS]
    batched = StoryRegistry(client, f"{key_prefix}batch:", 3600)
    got = []
    for start in range(0, len(ITEMS), 16):
        got += await batched.assign_many([i.article for i in ITEMS[start : start + 16]])
    assert grouping(got) == grouping(expected)
    for story_id in {s.story_id for s in got}:
        assert sum(s.is_new for s in got if s.story_id == story_id) == 1


def grouping(stories: list[Story]) -> set[frozenset[int]]:
    """Which positions share a story, whatever its id."""
    groups: dict[str, set[int]] = {}
    for n, story in enumerate(stories):
        groups.setdefault(story.story_id, set()).add(n)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.parametrize("item", ITEMS, ids=lambda i: i.article.id[:12])
def test_what_is_read_before_the_features_agrees_with_them(item: Item) -> None:
    # prepare() counts the words and shingles the lede without the features (computed only for
    # a candidate or a kept article): the same figures as the features give.
    prepared = prepare(item.article)
    assert prepared.words == prepared.features.words
    assert prepared.shingles == lede_shingles(prepared.features.opening)
    assert Kept.decode(prepared.doc()) == prepared.features.kept()
