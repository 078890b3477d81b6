"""A developing story: one GUID whose text grows, then a republished copy. Each rule alerts
once for the story, at the version that first matches it (`article.updated` says so); an
unchanged entry costs no matching; two workers sharing Redis give the same alerts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.models import Alert, Source
from ingest.service.pipeline import Pipeline
from tests.fetch.server import Reply
from tests.fulltext.helpers import HTML, feed, item, pipeline_on, write_rules
from tests.service.feedserver import serve

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(90)]

TITLE = "Putin receives envoys in Moscow as regional talks open"
STORY = Path(__file__).resolve().parent / "cases" / "developing"
V1 = (STORY / "v1.txt").read_text(encoding="utf-8").strip()  # names the leader
V2 = V1 + "\n" + (STORY / "v2_added.txt").read_text(encoding="utf-8").strip()  # + the ceasefire
V3 = V2.replace("envyos", "envoys")  # a typo fixed
# A write-through: the wire puts the news on top and keeps little of the first version.
V2_TOP = (STORY / "v2_top.txt").read_text(encoding="utf-8").strip()
RULES = {"leader": ["Putin"], "ceasefire-leader": ["ceasefire", "Putin"]}


def versions(base: str) -> list[bytes]:
    link = f"{base}/world/putin-envoys"
    return [
        feed(item("wire-2291", TITLE, V1, link)),
        feed(item("wire-2291", TITLE, V1, link)),  # the same again: nothing to do
        feed(item("wire-2291", TITLE, V2, link)),
        feed(item("wire-2291", TITLE, V3, link)),
        feed(item("wire-2291", TITLE, V3, link), item("wire-2307", TITLE, V3, link + "-2")),
    ]


def summary(alerts: list[Alert]) -> list[tuple[str, bool]]:
    return sorted((a.match.rule_id, a.article.updated) for a in alerts)


EXPECTED = [
    ([("leader", False)], 1),  # version 1 names the leader
    ([], 0),  # unchanged: no article, no matching
    ([("ceasefire-leader", True)], 1),  # version 2 adds the ceasefire: the new rule alerts
    ([], 1),  # version 3 fixes a typo: matched again, nothing new
    ([], 1),  # version 4: the same text under a new GUID joins the story
]


async def run_versions(
    make_settings: Callable[..., object], tmp_path: Path, workers: int
) -> list[tuple[list[tuple[str, bool]], int]]:
    settings = make_settings(rules_dir=write_rules(tmp_path / "rules", RULES))
    seen: list[tuple[list[tuple[str, bool]], int]] = []
    with serve() as server:
        source = Source(server.base_url + "/wire.xml", "Wire", "http", 60.0, full_text="auto")
        pipelines: list[Pipeline] = []
        contexts = [pipeline_on(settings) for _ in range(workers)]  # type: ignore[arg-type]
        for context in contexts:
            pipelines.append(await context.__aenter__())
        try:
            for n, body in enumerate(versions(server.base_url)):
                server.pages["/wire.xml"] = body
                report = await pipelines[n % workers].poll_many([source])  # workers take turns
                seen.append((summary(report.alerts), report.articles))
        finally:
            for context in contexts:
                await context.__aexit__(None, None, None)
        page_hits = server.hits("/world/putin-envoys")
    assert page_hits == 0  # whole stories: `auto` fetches no page
    return seen


async def test_each_rule_alerts_once_at_the_version_that_matches_it(
    make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    assert await run_versions(make_settings, tmp_path, workers=1) == EXPECTED


async def test_two_workers_taking_turns_give_the_same_alerts(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert await run_versions(make_settings, tmp_path, workers=2) == EXPECTED


async def test_a_syndicated_copy_of_the_updated_version_joins_the_story(
    make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The story keeps the fuller text: another outlet's copy of version 3 (its own headline and
    footer) is a copy of the story, so neither rule alerts again."""
    settings = make_settings(rules_dir=write_rules(tmp_path / "rules", RULES))
    with serve() as server:
        wire = Source(server.base_url + "/wire.xml", "Wire", "http", 60.0, full_text="auto")
        gazette = Source(server.base_url + "/gazette.xml", "Gazette", "http", 60.0)
        link = f"{server.base_url}/world/putin-envoys"
        async with pipeline_on(settings) as pipeline:
            server.pages["/wire.xml"] = feed(item("wire-2291", TITLE, V1, link))
            first = await pipeline.poll_many([wire])
            server.pages["/wire.xml"] = feed(item("wire-2291", TITLE, V2, link))
            second = await pipeline.poll_many([wire])
            copy = (
                V3.replace("(Wire)", "(Wire via Gazette)")
                + "\nThe Gazette's Moscow desk contributed."
            )
            server.pages["/gazette.xml"] = feed(
                item(
                    "gz-88",
                    "Kremlin agrees 30-day truce as envoys meet Putin",
                    copy,
                    "https://gazette.example/88",
                )
            )
            third = await pipeline.poll_many([gazette])
    assert summary(first.alerts) == [("leader", False)]
    assert summary(second.alerts) == [("ceasefire-leader", True)]
    assert third.articles == 1 and third.alerts == []


async def test_a_summary_feed_refetches_the_page_of_a_changed_entry(
    make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(rules_dir=write_rules(tmp_path / "rules", RULES))

    def page(text: str) -> bytes:
        paragraphs = "".join(f"<p>{p}</p>" for p in text.split("\n"))
        return (
            f"<html><body><nav><a href='/'>Home</a></nav><article><h1>{TITLE}</h1>"
            f"{paragraphs}</article><footer>(c) Wire</footer></body></html>"
        ).encode()

    with serve() as server:
        source = Source(server.base_url + "/wire.xml", "Wire", "http", 60.0, full_text="auto")
        link = f"{server.base_url}/world/putin-envoys"
        routes = server.local.routes
        async with pipeline_on(settings) as pipeline:
            routes["/world/putin-envoys"] = Reply(200, page(V1), HTML)
            server.pages["/wire.xml"] = feed(item("wire-2291", TITLE, "Putin met envoys.", link))
            first = await pipeline.poll_many([source])
            routes["/world/putin-envoys"] = Reply(200, page(V2), HTML)
            unchanged = await pipeline.poll_many([source])  # the entry did not change: no fetch
            server.pages["/wire.xml"] = feed(
                item("wire-2291", TITLE, "Putin agreed to a truce.", link)
            )
            changed = await pipeline.poll_many([source])
        hits = server.hits("/world/putin-envoys")
    assert summary(first.alerts) == [("leader", False)]
    assert unchanged.articles == 0 and hits == 2
    assert summary(changed.alerts) == [("ceasefire-leader", True)]
    assert changed.alerts[0].article.text_from == "page"


async def test_an_update_stays_in_the_story_its_first_version_joined(
    make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The wire's version 1 is a copy of a story another outlet carried first; its version 2
    is rewritten from the top (no longer a copy of anything) and still stays in that story, so
    the leader rule (already alerted there) does not alert again."""
    settings = make_settings(rules_dir=write_rules(tmp_path / "rules", RULES))
    with serve() as server:
        wire = Source(server.base_url + "/wire.xml", "Wire", "http", 60.0, full_text="auto")
        herald = Source(server.base_url + "/herald.xml", "Herald", "http", 60.0)
        link = f"{server.base_url}/world/putin-envoys"
        async with pipeline_on(settings) as pipeline:
            server.pages["/herald.xml"] = feed(item("h-1", TITLE, V1, "https://herald.example/1"))
            herald_first = await pipeline.poll_many([herald])
            server.pages["/wire.xml"] = feed(item("wire-2291", TITLE, V1, link))
            wire_copy = await pipeline.poll_many([wire])
            server.pages["/wire.xml"] = feed(item("wire-2291", TITLE, V2_TOP, link))
            wire_update = await pipeline.poll_many([wire])
    assert summary(herald_first.alerts) == [("leader", False)]
    assert wire_copy.articles == 1 and wire_copy.alerts == []
    assert summary(wire_update.alerts) == [("ceasefire-leader", True)]
