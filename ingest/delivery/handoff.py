"""The hand-off between `--role fetch` and `--role match` workers: a Redis Stream of articles
read through one consumer group, so the heavy NLP stage can run in processes of its own.

An entry is acknowledged after its alerts are published (or kept in the outbox). Entries a dead
matcher read but never acknowledged are claimed by a live one after `claim_idle_ms`; the alert
claims make that redo harmless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ingest.delivery.store import Store
from ingest.models import Article, SourceRef
from ingest.stories.registry import Story

GROUP = "matchers"


@dataclass(frozen=True, slots=True)
class Handed:
    entry_id: str
    article: Article
    story: Story


def encode(article: Article, story: Story) -> dict[Any, Any]:
    sources = [[s.name, s.url] for s in story.sources]
    return {
        "article": json.dumps(article.to_record(), ensure_ascii=False),
        "story": json.dumps({"id": story.story_id, "sources": sources, "new": story.is_new}),
    }


def decode(entry_id: str, fields: dict[str, str]) -> Handed:
    story = json.loads(fields["story"])
    sources = tuple(SourceRef(name, url) for name, url in story["sources"])
    article = Article.from_record(json.loads(fields["article"]))
    return Handed(entry_id, article, Story(story["id"], sources, story["new"]))


class ArticleQueue:
    def __init__(self, store: Store, maxlen: int = 100_000, claim_idle_ms: int = 60_000) -> None:
        self.store = store
        self.key = f"{store.prefix}articles"
        self.maxlen = maxlen
        self.claim_idle_ms = claim_idle_ms

    async def put(self, items: list[tuple[Article, Story]]) -> None:
        async with self.store.client.pipeline(transaction=False) as pipe:
            for article, story in items:
                pipe.xadd(self.key, encode(article, story), maxlen=self.maxlen, approximate=True)
            await self.store.guard(pipe.execute())

    async def take(self, consumer: str, count: int, block_ms: int) -> list[Handed]:
        """Stale entries of dead consumers first, then new ones (waiting up to block_ms)."""
        await self.store.ensure_group(self.key, GROUP, "0")
        claimed = await self.store.guard(
            self.store.client.xautoclaim(
                self.key, GROUP, consumer, self.claim_idle_ms, "0-0", count=count
            )
        )
        entries = [e for e in claimed[1] if e[1]]  # deleted entries come back empty
        if not entries:
            batches = await self.store.guard(
                self.store.client.xreadgroup(
                    GROUP, consumer, {self.key: ">"}, count=count, block=block_ms
                )
            )
            entries = [e for _, found in batches or [] for e in found]
        return [decode(entry_id, fields) for entry_id, fields in entries]

    async def ack(self, entry_ids: list[str]) -> None:
        if entry_ids:
            await self.store.guard(self.store.client.xack(self.key, GROUP, *entry_ids))
