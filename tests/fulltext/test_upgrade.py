"""State written before entry versions were kept (seen ids without versions, articles marked
"1"): the first poll after the upgrade alerts nothing again, and later changes are updates."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.models import RawEntry, Source
from ingest.normalize.article import normalize
from ingest.service.pipeline import entry_key
from tests.fulltext.helpers import feed, item, pipeline_on, write_rules
from tests.service.feedserver import serve

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(60)]

TEXT = "The harbour authority said {ships} ships were waiting at anchor. " * 12


async def test_old_state_is_taken_over_without_alerting_again(
    make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    rules = {"harbour": ["harbour"], "strike": ["strike"]}
    settings = make_settings(rules_dir=write_rules(tmp_path / "rules", rules))
    old = RawEntry("Wire", "", "Harbour queue", "", False, guid="w-1", link="https://w.example/1")
    with serve() as server:
        source = Source(server.base_url + "/w.xml", "Wire", "http", 60.0, full_text="auto")
        async with pipeline_on(settings) as pipeline:
            server.pages["/w.xml"] = feed(item("w-1", "Harbour queue", TEXT.format(ships=14)))
            before = await pipeline.poll_many([source])
            # Back to what the previous version left: the entry id seen without its version,
            # the article marked "1" (its claim, story and alert stay as they were).
            await pipeline.store.client.delete(pipeline.feed_states.seen_key(source.key))
            await pipeline.feed_states.mark_seen(source.key, [entry_key(old)])
            await pipeline.store.mark_articles_seen([normalize(old).id])
            first = await pipeline.poll_many([source])
            again = await pipeline.poll_many([source])
            server.pages["/w.xml"] = feed(
                item("w-1", "Harbour queue", TEXT.format(ships=14) + " Dockers went on strike.")
            )
            changed = await pipeline.poll_many([source])
    assert [a.match.rule_id for a in before.alerts] == ["harbour"]
    assert first.alerts == [] and again.articles == 0
    assert [(a.match.rule_id, a.article.updated) for a in changed.alerts] == [("strike", True)]
