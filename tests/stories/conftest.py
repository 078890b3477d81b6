"""The real Redis for the story tests (story assignment is a Lua script: its semantics matter)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from ingest.models import Article
from ingest.stories import copies
from tests.conftest import TEST_REDIS_URL


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    """A client on WIREWATCH_TEST_REDIS_URL; fails (does not skip) when Redis is down."""
    connection = aioredis.Redis.from_url(TEST_REDIS_URL)
    try:
        await connection.ping()
        yield connection
    finally:
        await connection.aclose()


HashPair = tuple[int, int]


class ForcedHashes:
    """Makes story assignment see chosen SimHashes for chosen articles (collisions, far hashes
    that share a band), which real texts give only rarely."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._by_text: dict[str, HashPair] = {}
        real = copies.simhash_pair
        monkeypatch.setattr(
            copies, "simhash_pair", lambda text: self._by_text.get(text) or real(text)
        )

    def of(self, article: Article) -> HashPair:
        """The (SimHash, check hash) story assignment uses for `article`."""
        prepared = copies.prepare(article)
        return prepared.simhash, prepared.simhash_check

    def force(self, article: Article, pair: HashPair) -> None:
        self._by_text["\n".join(copies.prepare(article).lines)] = pair


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> ForcedHashes:
    return ForcedHashes(monkeypatch)
