"""Builders for the full-text, developing-story and backfill tests: feeds whose items may lack
a date, rule folders, and a Pipeline on the real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path

from ingest.delivery.store import Store
from ingest.fetch.fetcher import Fetcher
from ingest.match.matcher import Matcher
from ingest.match.nlp import load_nlp
from ingest.rules.files import load_rules_dir
from ingest.service.metrics import Metrics
from ingest.service.pipeline import Pipeline
from ingest.settings import Settings

HTML = {"Content-Type": "text/html; charset=utf-8"}
# Alert channels are streams named by the channel: tests put theirs under their key prefix
# (tests/fulltext/conftest.py sets it), so the cleanup of the test's keys takes them too.
CHANNEL_PREFIX = ""


def item(
    guid: str, title: str, text: str, link: str = "", published: datetime | None = None
) -> str:
    """One RSS item; `text` is the description (paragraphs on lines), `published` optional."""
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n") if p.strip())
    date = f"<pubDate>{format_datetime(published)}</pubDate>" if published else ""
    link = link or f"https://wire.example/{guid}"
    return (
        f"<item><title>{escape(title)}</title><link>{escape(link)}"
        f'</link><guid isPermaLink="false">{escape(guid)}</guid>{date}'
        f"<description>{escape(paragraphs)}</description></item>"
    )


def feed(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Wire</title>'
        f"<link>https://wire.example/</link><description>t</description>{''.join(items)}"
        "</channel></rss>"
    ).encode()


def write_rules(folder: Path, rules: dict[str, list[str]]) -> Path:
    """One rule file: rule id -> the terms it needs (all of them), on channel
    <CHANNEL_PREFIX>alerts:<id>."""
    folder.mkdir(exist_ok=True)
    lines = ["rules:"]
    for rule_id, terms in rules.items():
        channel = f"{CHANNEL_PREFIX}alerts:{rule_id}"
        lines += [f"  - id: {rule_id}", f"    channel: {channel}", f"    all: {terms}"]
    (folder / "rules.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@asynccontextmanager
async def pipeline_on(
    settings: Settings, metrics: Metrics | None = None
) -> AsyncIterator[Pipeline]:
    """A Pipeline with its own clients (one per simulated worker), closed afterwards."""
    store = Store.from_settings(settings)
    matcher = Matcher(load_rules_dir(settings.rules_dir), load_nlp("blank", 8))
    try:
        async with Fetcher(settings) as fetcher:
            pipeline = Pipeline(settings, store, fetcher, lambda: matcher, metrics or Metrics())
            try:
                yield pipeline
            finally:
                pipeline.close()
    finally:
        await store.close()
