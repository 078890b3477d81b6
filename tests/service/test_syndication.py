"""Three outlets carry one wire story, a fourth outlet writes its own on the same topic:
one alert for the syndicated story listing every outlet, and one for the different story."""

from __future__ import annotations

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
from tests.conftest import ROOT
from tests.service.feedserver import rss, serve

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
    make_settings,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "sea.yaml").write_text(
        "rules:\n  - id: black-sea\n    channel: alerts:sea\n    all: [Black Sea]\n",
        encoding="utf-8",
    )
    settings = make_settings(rules_dir=rules)
    store = Store.from_settings(settings)
    matcher = Matcher(load_rules_dir(rules), load_nlp("blank", 8))
    with serve() as server:
        sources = []
        for outlet, file_name in OUTLETS.items():
            path = f"/{outlet.replace(' ', '')}.xml"
            server.pages[path] = outlet_feed(outlet, file_name)
            sources.append(Source(server.base_url + path, outlet, "http", 60.0))
        async with Fetcher(settings) as fetcher:
            pipeline = Pipeline(settings, store, fetcher, lambda: matcher, Metrics())
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
