"""Pure pieces of fetching an entry's linked page (`full_text:` in feeds.yaml).

A link in a feed is untrusted input: `page_may_reach_private` decides, hop by hop, whether a
page request may reach a private address (only when the settings allow it everywhere, or the
source allows it for itself and the hop stays on the feed's own host). `HostPauses` keeps the
hosts that asked for a pause (429/503 and Retry-After) so that no page is asked of them until it
is over; `is_html` is the content-type gate: pages are HTML or XHTML, nothing else.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from ingest.models import Source
from ingest.settings import Settings

PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PAUSE_STATUSES = frozenset({429, 503})  # the server asks us to come back later


def is_html(content_type: str) -> bool:
    """Whether a Content-Type names HTML or XHTML; an absent one is sniffed from the body."""
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media in HTML_TYPES


def declared_charset(content_type: str) -> str:
    """The charset a Content-Type names ("" when none)."""
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'")
    return ""


def looks_like_html(body: bytes) -> bool:
    """For pages without a Content-Type: markup near the start, not a binary file."""
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body", b"<!--"))


def page_may_reach_private(url_host: str, source: Source, settings: Settings) -> bool:
    """Whether a page request to `url_host` may reach private addresses."""
    if settings.allow_private_networks:
        return True
    feed_host = urlsplit(source.url).hostname or ""
    return source.allow_private and url_host.lower() == feed_host.lower()


class HostPauses:
    """Hosts that asked for a pause, until when (time.monotonic())."""

    def __init__(self, default_pause_s: float) -> None:
        self._default_pause_s = default_pause_s
        self._until: dict[str, float] = {}

    def pause(self, host: str, retry_after_s: float | None) -> None:
        wait_s = self._default_pause_s if retry_after_s is None else retry_after_s
        now = time.monotonic()
        # Pauses are few: the ones over are dropped here, also of hosts never asked again.
        for ended in [h for h, until in self._until.items() if until <= now]:
            del self._until[ended]
        self._until[host] = max(now + wait_s, self._until.get(host, 0.0))

    def remaining_s(self, host: str) -> float:
        """Seconds until `host` may be asked again; 0 when it may now."""
        until = self._until.get(host)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            del self._until[host]
            return 0.0
        return left
