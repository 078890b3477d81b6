"""A near-duplicate candidate must be confirmed by the second SimHash (against the real Redis)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from ingest.normalize.simhash import CHECK_BITS, hamming, is_near, simhash, simhash_pair
from ingest.stories.registry import StoryRegistry
from tests.stories.conftest import ForcedHashes
from tests.stories.test_stories import WINDOW_S, article_from

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(15)]


async def test_same_simhash_but_far_check_hash_is_another_story(
    client: aioredis.Redis, key_prefix: str, hashes: ForcedHashes
) -> None:
    base = article_from("black_sea_reuters.txt", "Reuters")
    impostor = article_from("black_sea_other_agency.txt", "Other Agency")
    (near, check), (_, impostor_check) = hashes.of(base), hashes.of(impostor)
    # as if the 64-bit hashes of two different stories collided
    hashes.force(impostor, (near, impostor_check))
    assert hashes.of(impostor) == (near, impostor_check)
    assert hamming(check, impostor_check) > CHECK_BITS
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    first = await registry.assign(base)
    second = await registry.assign(impostor)
    assert first.is_new and second.is_new and first.story_id != second.story_id


async def test_real_copies_pass_both_hashes(
    client: aioredis.Redis, key_prefix: str, hashes: ForcedHashes
) -> None:
    reuters = article_from("black_sea_reuters.txt", "Reuters")
    gazette = article_from("black_sea_gazette.txt", "Gazette")
    assert is_near(hashes.of(reuters), hashes.of(gazette))
    registry = StoryRegistry(client, key_prefix, WINDOW_S)
    first = await registry.assign(reuters)
    second = await registry.assign(gazette)
    assert second.story_id == first.story_id and not second.is_new


def test_pair_is_the_simhash_and_an_independent_check() -> None:
    text = "Russia and Ukraine agreed on Tuesday to stop attacks on energy sites"
    primary, check = simhash_pair(text)
    assert primary == simhash(text) and check not in (0, primary)
