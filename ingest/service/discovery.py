"""A site's address finds its feed: a `url:` that answers a web page is polled through the feed
its `<link rel="alternate">` names, as feed readers do.

The page is read once; the feed found is kept in the source's state (`feed_url`) and polled
directly from then on, with its own ETag / Last-Modified. When that feed goes away (404, 410)
or turns into a page itself, the page is read again. Every request goes through the same
`Fetcher` as any poll: private addresses refused unless allowed, size cap, timeouts. A page
that names no feed is an error of that source (`FeedNotFound`), never a crash.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

from ingest.errors import FeedNotFound, HttpStatusError
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.schedule import SourceState
from ingest.models import Document, FetchResult, Source
from ingest.parse.feedlinks import FeedLink, feed_links
from ingest.parse.sniff import decode_text, is_html_page

GONE_STATUSES = frozenset({404, 410})
SNIFF_BYTES = 4096  # enough to see `<!DOCTYPE html>` or `<html` after a prolog and comments


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched web page and the feeds it names (the preferred one first)."""

    url: str  # after redirects
    links: tuple[FeedLink, ...]


def page_note(feeds_file: Path, source: Source, feed_url: str) -> str:
    """What is said when a source's address turns out to be a page."""
    return f"{feeds_file}:{source.line}: {source.url} is a web page; polling its feed {feed_url}"


async def page_of(result: FetchResult) -> Page | None:
    """The page the fetch brought back, or None when it brought a feed (or nothing new)."""
    if result.not_modified or len(result.documents) != 1:
        return None
    document = result.documents[0]
    if not is_html_page(decode_text(document.body[:SNIFF_BYTES], document.content_type)):
        return None
    # Reading a hostile page's markup can take a second or more: keep the event loop free.
    return await asyncio.to_thread(_read_page, document)


def _read_page(document: Document) -> Page:
    text = decode_text(document.body, document.content_type)
    return Page(document.url, tuple(feed_links(text, document.url)))


async def fetch_feed(fetcher: Fetcher, source: Source, state: SourceState) -> FetchResult:
    """Poll a source; when its address answers a web page, the feed that page names."""
    if source.kind != "http":
        return await fetcher.fetch(source, state)
    if state.feed_url:
        known = await _known_feed(fetcher, source, state, state.feed_url)
        if known is not None:
            return known
        state = SourceState()  # the feed went away: read the page again, from scratch
    result = await fetcher.fetch(source, state)
    page = await page_of(result)
    if page is None:
        return result
    if not page.links:
        raise FeedNotFound(f"{source.url}: no feed found on this page")
    return await _first_feed(fetcher, source, page.links[0].url)


async def _known_feed(
    fetcher: Fetcher, source: Source, state: SourceState, feed_url: str
) -> FetchResult | None:
    try:
        result = await fetcher.fetch(replace(source, url=feed_url), state)
    except HttpStatusError as exc:
        if exc.status in GONE_STATUSES:
            return None
        raise
    if await page_of(result) is not None:
        return None
    return replace(result, source=source, feed_url=feed_url)


async def _first_feed(fetcher: Fetcher, source: Source, feed_url: str) -> FetchResult:
    result = await fetcher.fetch(replace(source, url=feed_url), SourceState())
    if await page_of(result) is not None:
        raise FeedNotFound(f"{source.url}: the feed this page names, {feed_url}, is a page too")
    return replace(result, source=source, feed_url=feed_url)
