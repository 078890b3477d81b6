"""No flood from a new source: its first poll alerts only entries published within
WIREWATCH_BACKFILL_S; older ones are recorded as seen (and counted); later polls match every
new entry whatever its date; undated entries are new; local files and spools are exempt."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ingest.models import Source, utcnow
from ingest.service.report import feeds_report
from tests.fulltext.helpers import feed, item, pipeline_on, write_rules
from tests.service.feedserver import serve

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(60)]

RULES = {"harbour": ["harbour"]}
BODY = "The harbour authority said {n} ships were waiting at anchor on {when}."


def entry(guid: str, age: timedelta | None) -> str:
    published = utcnow() - age if age is not None else None
    text = BODY.format(n=len(guid), when=guid)
    return item(guid, f"Harbour update {guid}", text, published=published)


async def test_first_poll_alerts_only_recent_entries_then_every_new_one(
    make_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    rules = write_rules(tmp_path / "rules", RULES)
    feeds_file = tmp_path / "feeds.yaml"
    settings = make_settings(rules_dir=rules, backfill_s=86400, feeds_file=feeds_file)
    archive = [entry(f"old-{n}", timedelta(days=3 + n)) for n in range(5)]
    with serve() as server:
        url = server.base_url + "/feed.xml"
        feeds_file.write_text(f"feeds:\n  - url: {url}\n    name: Harbour\n", encoding="utf-8")
        source = Source(url, "Harbour", "http", 60.0, full_text="never")
        async with pipeline_on(settings) as pipeline:
            server.pages["/feed.xml"] = feed(
                entry("fresh", timedelta(hours=2)), entry("undated", None), *archive
            )
            first = await pipeline.poll_many([source])
            server.pages["/feed.xml"] = feed(
                entry("late-old", timedelta(days=10)),  # new to us, published long ago
                entry("fresh", timedelta(hours=2)), entry("undated", None), *archive,
            )  # fmt: skip
            second = await pipeline.poll_many([source])
            third = await pipeline.poll_many([source])
        table = await feeds_report(settings)

    assert sorted(a.article.title for a in first.alerts) == [
        "Harbour update fresh", "Harbour update undated"
    ]  # fmt: skip
    assert first.articles == 2  # the archive is never even normalized
    assert [a.article.title for a in second.alerts] == ["Harbour update late-old"]
    assert third.articles == 0 and third.alerts == []
    header, row = table.splitlines()[:2]
    assert "OLD SKIPPED" in header
    column = header.index("OLD SKIPPED")
    assert row[column:].split()[0] == "5"


async def test_zero_turns_the_limit_off(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(rules_dir=write_rules(tmp_path / "rules", RULES), backfill_s=0)
    with serve() as server:
        source = Source(server.base_url + "/feed.xml", "Harbour", "http", 60.0, full_text="never")
        server.pages["/feed.xml"] = feed(*(entry(f"old-{n}", timedelta(days=30)) for n in range(3)))
        async with pipeline_on(settings) as pipeline:
            report = await pipeline.poll_many([source])
    assert len(report.alerts) == 3


async def test_local_feed_files_are_exempt(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(rules_dir=write_rules(tmp_path / "rules", RULES), backfill_s=86400)
    local = tmp_path / "archive.xml"
    local.write_bytes(feed(*(entry(f"old-{n}", timedelta(days=30)) for n in range(3))))
    source = Source(str(local), "Archive", "file", 60.0)
    async with pipeline_on(settings) as pipeline:
        report = await pipeline.poll_many([source])
    assert len(report.alerts) == 3


async def test_the_bundled_sample_still_alerts(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import ROOT

    rules = write_rules(tmp_path / "rules", {"ceasefire": ["ceasefire"]})
    settings = make_settings(rules_dir=rules, backfill_s=86400)
    sample = ROOT / "seeds" / "sample-feed.xml"
    source = Source(str(sample), "Sample", "file", 60.0)
    async with pipeline_on(settings) as pipeline:
        report = await pipeline.poll_many([source])
    assert report.alerts
