"""False and missed story merges over the labelled cases in tests/stories/cases/.

    .venv/bin/python bench/bench_dedup_cases.py [--redis]

Every pair of items in a case group is labelled: copies of one story (must merge) or different
stories (must never merge: a false merge loses an alert). Printed:

  * end to end, the story each item ends in: with SimHash alone (the rule before issue 9), and
    with the current assignment (`LocalStories`, the registry's rules in memory) with all groups
    in one window, each group alone (new sources, no history) and in reverse order; with
    `--redis`, through the Redis registry too (WIREWATCH_TEST_REDIS_URL, a throwaway prefix);
  * the margins of `content.verify` on every labelled pair: how much of each lede and of the
    shorter text the other holds, for copies and for different stories;
  * a sweep of LEDE_SHARE and COVER_SHARE, pair by pair (verification alone, no lookup), so the
    chosen values can be seen between the copies and the different stories.

The figures are the ones cited in ingest/stories/content.py and in the README.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections import Counter
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.normalize.simhash import bands, is_near, simhash_pair  # noqa: E402
from ingest.stories.content import (  # noqa: E402
    COVER_SHARE,
    LEDE_SHARE,
    MIN_CONTENT_WORDS,
    Features,
    cover_overlap,
    lede_overlap,
    verify,
)
from ingest.stories.copies import LocalStories, prepare  # noqa: E402
from ingest.stories.sketch import Kept  # noqa: E402
from tests.stories.casebook import Item, all_items, group_files, load_group  # noqa: E402

REDIS_URL = os.environ.get("WIREWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

StoryOf = dict[str, str]


def rates(items: list[Item], story_of: StoryOf) -> tuple[int, int, int, int, int]:
    """(false merges, different pairs, missed merges, copy pairs) within each group, and false
    merges between groups (every group's stories are different from every other group's)."""
    false = different = missed = copies = across = 0
    for a, b in combinations(items, 2):
        same = story_of[a.article.id] == story_of[b.article.id]
        if a.group != b.group:
            across += same
        elif a.label == b.label:
            copies += 1
            missed += not same
        else:
            different += 1
            false += same
    return false, different, missed, copies, across


def simhash_only(items: list[Item]) -> StoryOf:
    """The rule before issue 9: an exact repeat, or the nearest SimHash pair sharing a band."""
    story_of: StoryOf = {}
    seen: list[tuple[tuple[int, int], str]] = []  # (SimHash pair of the whole body, story)
    exact: dict[str, str] = {}
    for item in items:
        a = item.article
        mine = simhash_pair(a.body)  # of the whole body, as normalize computed it then
        story = exact.get(a.fingerprint)
        if story is None and mine[0]:
            near = [
                ((mine[0] ^ theirs[0]).bit_count(), s)
                for theirs, s in seen
                if is_near(mine, theirs) and set(bands(mine[0])) & set(bands(theirs[0]))
            ]
            story = min(near)[1] if near else None
        story = story or a.id
        exact[a.fingerprint] = story
        seen.append((mine, story))
        story_of[a.id] = story
    return story_of


def local(items: list[Item]) -> StoryOf:
    stories = LocalStories()
    return {i.article.id: stories.assign(i.article).story_id for i in items}


def each_group_alone(_items: list[Item]) -> StoryOf:
    story_of: StoryOf = {}
    for path in group_files():
        story_of.update(local(load_group(path)))
    return story_of


async def through_redis(items: list[Item]) -> StoryOf:
    import redis.asyncio as aioredis

    from ingest.stories.registry import StoryRegistry

    client = aioredis.Redis.from_url(REDIS_URL)
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    try:
        registry = StoryRegistry(client, prefix, 3600)
        return {i.article.id: (await registry.assign(i.article)).story_id for i in items}
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def line(name: str, items: list[Item], story_of: StoryOf) -> None:
    false, different, missed, copies, across = rates(items, story_of)
    print(
        f"  {name:<32} false merges {false:3d}/{different} ({false / different:5.1%}),"
        f" {across:3d} across groups   missed merges {missed:2d}/{copies} ({missed / copies:5.1%})"
    )


def labelled(items: list[Item]) -> list[tuple[bool, Features, Kept, str]]:
    """(is a copy pair, the later one's features, what is kept of the earlier one, label) for
    every pair within a group: the registry verifies a new article against a kept one."""
    features = {i.article.id: prepare(i.article).features for i in items}
    kept = {key: Kept.decode(f.kept().encode()) for key, f in features.items()}
    return [
        (a.label == b.label, features[b.article.id], kept[a.article.id],
         f"{a.label}#{a.index}~{b.index}")
        for a, b in combinations(items, 2)
        if a.group == b.group
    ]  # fmt: skip


def margins(pairs: list[tuple[bool, Features, Kept, str]]) -> None:
    measured = [(copy, lede_overlap(a, b), cover_overlap(a, b), name)
                for copy, a, b, name in pairs
                if min(a.words, b.words) >= MIN_CONTENT_WORDS]  # fmt: skip
    for copy, what in ((True, "copies"), (False, "different stories")):
        ledes = sorted(m[1] for m in measured if m[0] == copy)
        covers = sorted(m[2] for m in measured if m[0] == copy)
        print(f"  {what:<18} lede share {_spread(ledes)}   cover share {_spread(covers)}")
    reasons = Counter(
        (verify(a, b) or "passes").split(":")[0].split(",")[0]
        for copy, a, b, _ in pairs
        if not copy
    )
    print(f"  different stories stopped by: {dict(reasons)}")


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"min {values[0]:.2f} median {values[len(values) // 2]:.2f} max {values[-1]:.2f}"


def sweep(pairs: list[tuple[bool, Features, Kept, str]]) -> None:
    print("  lede  cover   false  missed   (verification alone, pair by pair)")
    for lede in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        for cover in (0.3, COVER_SHARE, 0.7):
            same = [verify(a, b, lede, cover) is None for _copy, a, b, _name in pairs]
            false = sum(s and not p[0] for s, p in zip(same, pairs, strict=True))
            missed = sum(p[0] and not s for s, p in zip(same, pairs, strict=True))
            chosen = " <- chosen" if (lede, cover) == (LEDE_SHARE, COVER_SHARE) else ""
            print(f"  {lede:4.1f}  {cover:4.1f}   {false:5d}  {missed:6d}{chosen}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis", action="store_true", help="also through the Redis registry")
    args = parser.parse_args()
    items = all_items()
    print(f"{len(items)} items in {len(group_files())} groups")
    print("\nend to end (labelled pairs within a group; any merge across groups is false too)")
    line("SimHash alone (before issue 9)", items, simhash_only(items))
    line("all groups in one window", items, local(items))
    line("each group alone (new sources)", items, each_group_alone(items))
    reverse = items[::-1]
    line("reverse order (copies first)", reverse, local(reverse))
    if args.redis:
        line("Redis registry, one window", items, asyncio.run(through_redis(items)))
    pairs = labelled(items)
    print("\nmargins of the verification")
    margins(pairs)
    print("\nthreshold sweep")
    sweep(pairs)


if __name__ == "__main__":
    main()
