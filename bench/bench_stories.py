"""Story registry benchmark: how assigning an article to a story scales with the window.

    .venv/bin/python bench/bench_stories.py [--stories 10000] [--probe 500]

Fills a story window in Redis (WIREWATCH_TEST_REDIS_URL, default database 15, a throwaway key
prefix deleted afterwards) with N distinct stories, then times assigning further new articles.
Each assignment scans the LSH band entries it shares with other stories, so its cost grows with
the window: the figure to watch for a busy deployment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis.asyncio as aioredis  # noqa: E402

from ingest.models import Article, SourceRef  # noqa: E402
from ingest.stories.registry import StoryRegistry  # noqa: E402

REDIS_URL = os.environ.get("WIREWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


WORDS = [f"w{i}" for i in range(5000)]


def random_article(rng: random.Random, n: int) -> Article:
    # Random words: each article is a story of its own with enough text to be looked up (its
    # SimHash bands and lede keys), which is the cost this measures.
    body = " ".join(rng.choice(WORDS) for _ in range(60)) + "."
    return Article(
        id=f"a{n}", url=f"https://x.example/{n}", title="", body=body, published=datetime.now(UTC),
        source=SourceRef("bench", "https://x.example/"), dateline=None, summary="",
        language="en", fingerprint=f"f{n}",
    )  # fmt: skip


async def clear(client: aioredis.Redis, prefix: str) -> None:
    keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
    if keys:
        await client.delete(*keys)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--probe", type=int, default=500)
    args = parser.parse_args()
    client = aioredis.Redis.from_url(REDIS_URL)
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    registry = StoryRegistry(client, prefix, 3600)
    rng = random.Random(1)
    try:
        for size in sorted({0, args.stories // 10, args.stories}):
            for n in range(size):
                await registry.assign(random_article(rng, n))
            started = time.perf_counter()
            for n in range(args.probe):
                await registry.assign(random_article(rng, 10**12 + n))
            per_ms = (time.perf_counter() - started) * 1000 / args.probe
            print(f"window of ~{size:>6} stories: {per_ms:.2f} ms per assignment")
            await clear(client, prefix)
    finally:
        await clear(client, prefix)
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
