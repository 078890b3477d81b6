"""Small builders shared by the fetch tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from ingest.models import Source


def rss(count: int, title: str = "Test wire", stamp: datetime | None = None) -> bytes:
    """An RSS 2.0 feed with `count` items, numbered from 0."""
    start = stamp or datetime(2025, 3, 17, 9, 0, tzinfo=UTC)
    items = "".join(
        f"<item><title>{escape(title)} story {n}</title>"
        f"<link>https://wire.example/{n}</link><guid>wire-{n}</guid>"
        f"<pubDate>{format_datetime(start + timedelta(minutes=n), usegmt=True)}</pubDate>"
        f"<description>Body of story {n}, with a few words in it.</description></item>"
        for n in range(count)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://wire.example/</link>{items}</channel></rss>"
    ).encode()


def http_source(url: str, allow_private: bool = False, interval_s: float = 300) -> Source:
    return Source(
        url=url, name="test", kind="http", interval_s=interval_s, allow_private=allow_private
    )


class MidRandom(random.Random):
    """uniform() returns the middle of its range: jitter without randomness."""

    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2
