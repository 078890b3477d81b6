"""Milliseconds per article of each stage of the article path, measured in one process.

Each stage is timed over every article of the feed on its own input, so the figures add up
to about what `normalize` and the match/Redis steps cost together. Used by bench_pipeline.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ingest.delivery.store import Store
from ingest.match.matcher import Matcher
from ingest.match.terms import fold
from ingest.models import Article, Document, RawEntry, Source
from ingest.normalize.article import normalize
from ingest.normalize.dateline import parse_dateline
from ingest.normalize.language import detect_language
from ingest.normalize.simhash import simhash_pair
from ingest.normalize.textnorm import fold_for_dedup, html_to_text
from ingest.parse.documents import parse_document
from ingest.rules.model import Rule
from ingest.settings import Settings
from ingest.stories.registry import StoryRegistry


def per_article_ms(items: list[Any], step: Callable[[Any], object], repeats: int = 3) -> float:
    """Best of `repeats` passes, in ms per item: the machine is shared."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for item in items:
            step(item)
        best = min(best, time.perf_counter() - started)
    return best * 1000 / len(items)


def parse_entries(feed: Path) -> tuple[RawEntry, ...]:
    uri = feed.resolve().as_uri()
    source = Source(url=uri, name=feed.name, kind="file", interval_s=300)
    return parse_document(Document(url=uri, body=feed.read_bytes()), source).entries


def normalize_stages(entries: tuple[RawEntry, ...], articles: list[Article]) -> Iterator[str]:
    texts = [html_to_text(e.content) for e in entries]
    stages: list[tuple[str, list[Any], Callable[[Any], object]]] = [
        ("html to text", [e.content for e in entries], html_to_text),
        ("dateline", list(zip(texts, entries, strict=True)), lambda p: parse_dateline(p[0], None)),
        ("language", [a.text for a in articles], detect_language),
        ("simhash (pair)", [a.body for a in articles], simhash_pair),
        ("folding for dedup", [a.text for a in articles], fold_for_dedup),
        ("folding for presearch", [a.text for a in articles], fold),
    ]
    for name, items, step in stages:
        yield f"  {name}: {per_article_ms(items, step):.3f}"


def redis_ms(articles: list[Article], redis_url: str) -> float:
    settings = Settings(
        _env_file=None, redis_url=redis_url, key_prefix=f"bench-{uuid.uuid4().hex[:8]}:"
    )  # type: ignore[call-arg]

    async def go() -> float:
        store = Store.from_settings(settings)
        registry = StoryRegistry(store.client, settings.key_prefix, settings.story_window_s)
        try:
            started = time.perf_counter()
            await store.unseen_articles([a.id for a in articles])
            size = settings.match_batch_articles
            for start in range(0, len(articles), size):
                await registry.assign_many(articles[start : start + size])
            await store.mark_articles_seen(a.id for a in articles)
            await store.remember_articles(articles)
            return (time.perf_counter() - started) * 1000 / len(articles)
        finally:
            keys = [k async for k in store.client.scan_iter(match=f"{settings.key_prefix}*")]
            for start in range(0, len(keys), 500):
                await store.client.delete(*keys[start : start + 500])
            await store.close()

    return asyncio.run(go())


def stage_report(feed: Path, redis_url: str) -> Iterable[str]:
    entries = parse_entries(feed)
    count = len(entries)
    yield f"parse (feedparser + entries): {per_article_ms([feed], parse_entries) / count:.3f}"
    articles = [normalize(e) for e in entries]
    yield f"normalize (all of it): {per_article_ms(list(entries), normalize):.3f}"
    yield from normalize_stages(entries, articles)
    matcher = Matcher([Rule("ceasefire-word", "alerts:bench", all=("ceasefire",))], None)
    texts = [a.text for a in articles]
    yield f"presearch (fold + index + candidates): {per_article_ms(texts, matcher._presearch):.3f}"
    whole = per_article_ms([articles], matcher.match_many) / count
    yield f"match_many, 1 keyword rule: {whole:.3f}"
    redis = redis_ms(articles, redis_url)
    yield (
        "stories and Redis (unseen check, SimHash of the content + story registry, mark seen, "
        f"remember): {redis:.3f}"
    )
