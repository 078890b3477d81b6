"""A source failing for longer than stale_after_s is reported once (log) and flagged (metric)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ingest.delivery.store import Store
from ingest.fetch.fetcher import Fetcher
from ingest.models import Source
from ingest.service.metrics import Metrics
from ingest.service.pipeline import Pipeline

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(30)]


async def test_stale_source_is_reported_once(make_settings, caplog) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(stale_after_s=0.2)
    store = Store.from_settings(settings)
    metrics = Metrics()
    dead = Source("http://127.0.0.1:9/feed.xml", "Dead feed", "http", 60.0)

    def no_matcher():  # type: ignore[no-untyped-def]
        raise AssertionError("nothing to match from a dead source")

    async with Fetcher(settings) as fetcher:
        pipeline = Pipeline(settings, store, fetcher, no_matcher, metrics)
        with caplog.at_level(logging.WARNING, logger="ingest.service.pipeline"):
            await pipeline.poll_many([dead])
            stale_after_first = metrics.stale.labels(source="Dead feed")._value.get()
            await asyncio.sleep(0.3)
            for _ in range(3):
                await pipeline.poll_many([dead])
    await store.close()
    reports = [r.getMessage() for r in caplog.records if "is stale" in r.getMessage()]
    assert stale_after_first == 0
    assert len(reports) == 1 and "Dead feed" in reports[0] and "failing" in reports[0]
    assert metrics.stale.labels(source="Dead feed")._value.get() == 1
