"""A summary-only feed over real HTTP: the page's main text is what rules see, once per entry
version; page furniture never alerts; a page that cannot be had leaves the feed's text."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.fetch.feedstate import FeedStateStore
from ingest.models import Source
from ingest.service.metrics import Metrics
from tests.fetch.server import Reply
from tests.fulltext.helpers import HTML, feed, item, pipeline_on, write_rules
from tests.service.feedserver import serve

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(60)]

PAGES = Path(__file__).resolve().parent / "pages"
RULES = {
    "harvest": ["grain harvest"],  # only in the page's body
    "ceasefire": ["ceasefire"],  # only in the page's menu, related list and comments
    "volcano": ["volcano"],  # only in the page's most-read list, newsletter box and scripts
    "dockers-union": ["dockworkers", "union"],  # in the feed's own text of the 404 entry
}


def summary_feed(base: str) -> bytes:
    return feed(
        item("harbour-1", "Dockworkers walk out at northern harbour as pay talks collapse",
             "Hundreds of dockworkers walked off the job at the northern harbour on Tuesday.",
             f"{base}/business/harbour-strike"),
        item("harbour-2", "Dockworkers' union rejects offer",
             "The dockworkers' union rejected the latest offer, its organiser said.",
             f"{base}/gone"),
        item("harbour-3", "Port statement", "The port issued a statement.", f"{base}/report.pdf"),
    )  # fmt: skip


async def test_the_page_carries_the_match_once_and_the_furniture_never(
    make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(rules_dir=write_rules(tmp_path / "rules", RULES))
    metrics = Metrics()
    with serve() as server:
        routes = server.local.routes
        routes["/business/harbour-strike"] = Reply(
            200, (PAGES / "harbour_strike.html").read_bytes(), HTML
        )
        routes["/report.pdf"] = Reply(200, b"%PDF-1.7", {"Content-Type": "application/pdf"})
        server.pages["/feed.xml"] = summary_feed(server.base_url)
        source = Source(server.base_url + "/feed.xml", "Coastal", "http", 60.0, full_text="auto")
        async with pipeline_on(settings, metrics) as pipeline:
            first = await pipeline.poll_many([source])
            again = await pipeline.poll_many([source])
            counts = await FeedStateStore(pipeline.store.client, settings.key_prefix).counts(
                [source.key]
            )
        page_hits = (
            server.hits("/business/harbour-strike")
            + server.hits("/gone")
            + server.hits("/report.pdf")
        )

    by_rule = {a.match.rule_id: a for a in first.alerts}
    assert sorted(by_rule) == ["dockers-union", "harvest"]
    harvest = by_rule["harvest"].to_json()
    assert "grain harvest" in harvest["snippet"]
    assert harvest["article"]["text_from"] == "page" and harvest["article"]["updated"] is False
    assert (
        harvest["article"]["title"]
        == "Dockworkers walk out at northern harbour as pay talks collapse"
    )
    union = by_rule["dockers-union"].to_json()
    assert union["article"]["text_from"] == "feed"  # its page is gone: the feed's text stands
    assert first.articles == 3  # nothing dropped: the PDF link's entry is matched as given

    assert again.alerts == [] and again.articles == 0
    assert page_hits == 3  # one fetch per entry, none on the next poll
    assert counts[source.key] == {"pages_fetched": 1, "pages_failed": 2, "backfill_skipped": 0}
    pages = {s.labels["outcome"]: s.value for s in metrics.pages.collect()[0].samples
             if s.name.endswith("_total")}  # fmt: skip
    assert pages == {"used": 1, "http_error": 1, "not_html": 1}
    assert metrics.page_extract_seconds.collect()[0].samples  # the extraction time is measured


async def test_never_leaves_the_feed_text_and_fetches_nothing(
    make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(rules_dir=write_rules(tmp_path / "rules", RULES))
    with serve() as server:
        server.local.routes["/business/harbour-strike"] = Reply(
            200, (PAGES / "harbour_strike.html").read_bytes(), HTML
        )
        server.pages["/feed.xml"] = summary_feed(server.base_url)
        source = Source(server.base_url + "/feed.xml", "Coastal", "http", 60.0, full_text="never")
        async with pipeline_on(settings) as pipeline:
            report = await pipeline.poll_many([source])
        hits = server.hits("/business/harbour-strike")
    assert [a.match.rule_id for a in report.alerts] == ["dockers-union"]
    assert hits == 0


async def test_many_slow_pages_queue_without_timing_out_or_holding_up_other_sources(
    make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Twelve slow pages of one feed, two at a time (the host's limit), each within its own
    timeout though all of them take longer; another source's poll is not held up meanwhile."""
    import asyncio
    import time
    from http.server import BaseHTTPRequestHandler

    settings = make_settings(
        rules_dir=write_rules(tmp_path / "rules", RULES),
        concurrency=3, per_host_concurrency=2, page_timeout_s=1.0,
    )  # fmt: skip
    article = (PAGES / "harbour_strike.html").read_bytes()

    def slow_page(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(0.25)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(article)))
        handler.end_headers()
        handler.wfile.write(article)

    finished: list[str] = []
    outcomes: dict[str, int] = {}
    pages_asked_when: dict[str, int] = {}
    with serve() as server:
        port = server.local.server.server_address[1]
        items = []
        for n in range(12):
            server.local.routes[f"/page/{n}"] = slow_page
            items.append(item(f"p{n}", f"Strike {n}", "Dockworkers walked out.",
                              server.base_url + f"/page/{n}"))  # fmt: skip
        server.pages["/slow.xml"] = feed(*items)
        server.pages["/other.xml"] = feed(item("o1", "Harbour calm", "All quiet at the harbour."))
        slow = Source(server.base_url + "/slow.xml", "Slow", "http", 60.0, full_text="auto")
        other = Source(f"http://localhost:{port}/other.xml", "Other", "http", 60.0)

        async with pipeline_on(settings) as pipeline:

            async def poll(source: Source) -> None:
                done = await pipeline.poll(source)
                finished.append(source.name)
                pages_asked_when[source.name] = sum(server.hits(f"/page/{n}") for n in range(12))
                outcomes.update(done.pages)
                await pipeline.handle([done])

            polls = [asyncio.create_task(poll(slow))]
            await asyncio.sleep(0.3)  # the slow feed's pages are under way
            polls.append(asyncio.create_task(poll(other)))
            await asyncio.gather(*polls)
            report = await pipeline.poll_many([slow])  # nothing new: no page asked again
        hits = sum(server.hits(f"/page/{n}") for n in range(12))
    assert finished == ["Other", "Slow"]
    assert pages_asked_when["Other"] <= 6  # it did not wait for the slow feed's page queue
    assert outcomes == {"used": 12}  # none timed out waiting its turn
    assert hits == 12 and report.articles == 0
