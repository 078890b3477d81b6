"""Entries that change trivially on every poll (a timestamp in the content): matched again
each time, never alerting again, and the seen set stays within its cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.fetch.feedstate import FeedStateStore
from ingest.models import Source
from tests.fulltext.helpers import feed, item, pipeline_on, write_rules

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(60)]


async def test_a_timestamp_in_every_entry_costs_matching_but_never_alerts_again(
    make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(rules_dir=write_rules(tmp_path / "rules", {"harbour": ["harbour"]}))
    path = tmp_path / "churn.xml"
    source = Source(str(path), "Churn", "file", 60.0)
    reports = []
    async with pipeline_on(settings) as pipeline:
        pipeline.feed_states = FeedStateStore(
            pipeline.store.client, settings.key_prefix, max_seen=50
        )
        for poll in range(4):
            text = "Ships wait at the harbour ({n}).\nUpdated {poll}."
            entries = [item(f"e{n}", f"Harbour story {n}", text.format(n=n, poll=poll))
                       for n in range(20)]  # fmt: skip
            path.write_bytes(feed(*entries))
            reports.append(await pipeline.poll_many([source]))
        members = await pipeline.store.client.zcard(pipeline.feed_states.seen_key(source.key))
        path.write_bytes(path.read_bytes())  # the same versions again: a new mtime, no change
        unchanged = await pipeline.poll_many([source])
    assert [len(r.alerts) for r in reports] == [20, 0, 0, 0]
    assert [r.articles for r in reports] == [20, 20, 20, 20]
    assert all(a.article.updated is False for a in reports[0].alerts)
    assert members <= 50
    assert unchanged.articles == 0
