"""Delivery benchmark: alerts published per second, and fetch-to-alert latency.

    .venv/bin/python bench/bench_delivery.py [--alerts 5000] [--polls 50]

Needs the Redis of WIREWATCH_TEST_REDIS_URL (default redis://127.0.0.1:6379/15); everything is
written under a throwaway key prefix and deleted afterwards. Prints:
- alerts/second through the atomic claim + XADD + PUBLISH script, one at a time and with
  several publishers at once;
- fetch-to-alert latency (p50, p99) for a new 600-word candidate article: a local HTTP server
  serves the feed, and each poll runs fetch, parse, normalize, story dedup, presearch, NER,
  match and publish, as the service does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.delivery.store import Store  # noqa: E402
from ingest.fetch.fetcher import Fetcher  # noqa: E402
from ingest.match.nlp import load_nlp  # noqa: E402
from ingest.models import Alert, Article, Match, Source, SourceRef  # noqa: E402
from ingest.service.metrics import Metrics  # noqa: E402
from ingest.service.pipeline import Pipeline  # noqa: E402
from ingest.service.rulebook import RuleBook  # noqa: E402
from ingest.settings import Settings  # noqa: E402
from tests.service.conftest import VOCABULARY  # noqa: E402
from tests.service.feedserver import rss, serve  # noqa: E402

REDIS_URL = os.environ.get("WIREWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def settings_for(prefix: str, folder: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis_url=REDIS_URL,
        key_prefix=prefix,
        rules_dir=ROOT / "rules",
        outbox_dir=folder / "outbox",
        allow_private_networks=True,
    )


def article(n: int) -> Article:
    return Article(
        id=f"bench-{n}",
        url=f"https://wire.example/{n}",
        title=f"Story {n}",
        body="ceasefire",
        published=datetime.now(UTC),
        source=SourceRef("bench", "https://wire.example/"),
        dateline=None,
        summary="",
        language="en",
    )


async def publish_rate(store: Store, count: int, channel: str, concurrency: int) -> float:
    match = Match("bench-rule", channel, ("ceasefire",), (), "snippet")
    alerts = [Alert(f"a{n}", match, article(n), datetime.now(UTC)) for n in range(count)]
    queue = iter(alerts)

    async def publisher() -> None:
        for alert in queue:
            await store.publish_alert(alert, alert.alert_id)

    started = time.perf_counter()
    await asyncio.gather(*(publisher() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


def story_600_words(rng: random.Random, n: int) -> str:
    words = " ".join(rng.choice(VOCABULARY) for _ in range(560))
    return (
        f"MOSCOW, March 18 (Reuters) - Russian President Vladimir Putin said on Tuesday he was "
        f"ready to discuss a ceasefire with Ukrainian President Volodymyr Zelenskiy, report {n}. "
        f"{words.capitalize()}."
    )


async def latency(settings: Settings, polls: int) -> list[float]:
    rng = random.Random(7)
    book = RuleBook(
        settings.rules_dir,
        load_nlp(settings.spacy_model, settings.ner_batch_size),
        settings.rules_reload_debounce_ms,
    )
    store = Store.from_settings(settings)
    samples: list[float] = []
    with serve() as server:
        source = Source(f"{server.base_url}/feed.xml", "bench", "http", 60.0)
        async with Fetcher(settings) as fetcher:
            pipeline = Pipeline(settings, store, fetcher, lambda: book.matcher, Metrics())
            for n in range(polls):
                server.pages["/feed.xml"] = rss(
                    [
                        {
                            "title": f"Putin ready for ceasefire talks ({n})",
                            "link": f"https://wire.example/latency/{n}",
                            "guid": f"latency-{n}",
                            "published": "2025-03-18T10:00:00+00:00",
                            "body": story_600_words(rng, n),
                        }
                    ]
                )
                started = time.perf_counter()
                report = await pipeline.poll_many([source])
                elapsed = time.perf_counter() - started
                if len(report.alerts) != 1:
                    raise SystemExit(f"poll {n}: expected one alert, got {len(report.alerts)}")
                samples.append(elapsed)
    await store.close()
    return samples


async def cleanup(settings: Settings, channels: list[str]) -> None:
    store = Store.from_settings(settings)
    keys = [k async for k in store.client.scan_iter(match=f"{settings.key_prefix}*", count=1000)]
    if keys or channels:
        await store.client.delete(*keys, *channels)
    await store.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--polls", type=int, default=51)
    args = parser.parse_args()
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as folder:
        settings = settings_for(prefix, Path(folder))
        channels = [f"{prefix}alerts:one", f"{prefix}alerts:many"]
        store = Store.from_settings(settings)
        try:
            one = await publish_rate(store, args.alerts, channels[0], 1)
            many = await publish_rate(store, args.alerts, channels[1], 8)
            samples = await latency(settings, args.polls)
        finally:
            await store.close()
            await cleanup(settings, channels)
    print(f"publish: {one:,.0f} alerts/s (one publisher), {many:,.0f} alerts/s (8 concurrent)")
    cold, warm = samples[0], samples[1:]
    p50, p99 = percentile(warm, 0.5) * 1000, percentile(warm, 0.99) * 1000
    print(
        f"fetch-to-alert, 600-word candidate article, {len(warm)} polls: p50 {p50:.0f} ms, "
        f"p99 {p99:.0f} ms, mean {statistics.mean(warm) * 1000:.0f} ms "
        f"(first poll, cold model, not counted: {cold * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
