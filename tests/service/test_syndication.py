"""Three outlets carry one wire story, a fourth outlet writes its own on the same topic:
one alert for the syndicated story listing every outlet, and one for the different story."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ingest.delivery.store import Store
from ingest.fetch.fetcher import Fetcher
from ingest.match.matcher import Matcher
from ingest.match.nlp import load_nlp
from ingest.models import Source
from ingest.rules.files import load_rules_dir
from ingest.service.metrics import Metrics
from ingest.service.pipeline import Pipeline
from tests.conftest import ROOT, one_rule_folder
from tests.service.feedserver import rss, serve
from tests.stories.casebook import CASES, load_group

STORIES = ROOT / "tests" / "normalize" / "cases" / "stories"
OUTLETS = {
    "Reuters": "black_sea_reuters.txt",
    "Daily Herald": "black_sea_daily_herald.txt",
    "Gazette": "black_sea_gazette.txt",
    "Other Agency": "black_sea_other_agency.txt",
}

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(60)]


def outlet_feed(outlet: str, file_name: str) -> bytes:
    title, _blank, body = (STORIES / file_name).read_text(encoding="utf-8").split("\n", 2)
    slug = outlet.lower().replace(" ", "-")
    item = {
        "title": title,
        "link": f"https://{slug}.example/black-sea",
        "guid": f"{slug}-1",
        "published": "2025-03-25T12:00:00+00:00",
        "body": body,
    }
    return rss([item], outlet)


async def test_syndicated_copies_alert_once_listing_every_outlet(
    make_settings,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rules = one_rule_folder(tmp_path, "black-sea", "alerts:sea", "Black Sea")
    settings = make_settings(rules_dir=rules)
    store = Store.from_settings(settings)
    matcher = Matcher(load_rules_dir(rules), load_nlp("blank", 8))
    metrics = Metrics()
    caplog.set_level(logging.INFO, logger="ingest.stories")
    with serve() as server:
        sources = []
        for outlet, file_name in OUTLETS.items():
            path = f"/{outlet.replace(' ', '')}.xml"
            server.pages[path] = outlet_feed(outlet, file_name)
            sources.append(Source(server.base_url + path, outlet, "http", 60.0))
        async with Fetcher(settings) as fetcher:
            pipeline = Pipeline(settings, store, fetcher, lambda: matcher, metrics)
            report = await pipeline.poll_many(sources)
            again = await pipeline.poll_many(sources)
    await store.close()

    assert report.articles == 4 and len(report.alerts) == 2
    by_outlet = {a.article.source.name: a for a in report.alerts}
    assert set(by_outlet) == {"Reuters", "Other Agency"}  # the first copy speaks for the story
    syndicated = by_outlet["Reuters"]
    assert {s.name for s in syndicated.also_seen_in} == {"Daily Herald", "Gazette"}
    assert "also_seen_in" in syndicated.to_json()
    assert not by_outlet["Other Agency"].also_seen_in
    assert again.articles == 0 and not again.alerts
    # Every merge is visible: a log line per copy naming the first outlet, and a metric.
    copies = [r.getMessage() for r in caplog.records if "is a copy of story" in r.getMessage()]
    assert len(copies) == 2
    assert all(line.endswith("first seen at Reuters") for line in copies)
    assert metrics.story_copies.labels(how="near")._value.get() == 2
    # The candidates verified are kept decoded, and the metric counts them.
    kept = metrics.registry.get_sample_value("wirewatch_story_features_kept")
    assert kept is not None and 1 <= kept <= 2, kept


async def test_different_stories_sharing_a_long_footer_each_alert(
    make_settings,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """One local feed: short police stories, each followed by the outlet's long footer."""
    stories = load_group(CASES / "police_blotter_shared_footer.yaml")
    items = [
        {
            "title": s.article.title,
            "link": f"https://lakeside.example/blotter/{s.index}",
            "guid": f"blotter-{s.index}",
            "published": "2026-11-30T06:00:00+00:00",
            "body": s.article.body,
        }
        for s in stories
    ]
    rules = one_rule_folder(tmp_path, "local", "alerts:local", "Lakeside Patch")
    settings = make_settings(rules_dir=rules)
    store = Store.from_settings(settings)
    matcher = Matcher(load_rules_dir(rules), load_nlp("blank", 8))
    alerts = []
    with serve() as server:
        source = Source(server.base_url + "/blotter.xml", "Lakeside Patch", "http", 60.0)
        async with Fetcher(settings) as fetcher:
            pipeline = Pipeline(settings, store, fetcher, lambda: matcher, Metrics())
            # The feed grows between polls, as a live one does: the first items meet an empty
            # history, the later ones a history in which the footer is known.
            for shown in (4, 8, len(items)):
                server.pages["/blotter.xml"] = rss(items[:shown], "Lakeside Patch")
                alerts += (await pipeline.poll_many([source])).alerts
    await store.close()

    assert len(items) >= 12
    assert sorted(a.article.url for a in alerts) == sorted(i["link"] for i in items)
