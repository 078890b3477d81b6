"""RSS, Atom and RDF feeds -> RawEntry, through feedparser.

The only module that imports feedparser. A broken feed is data (`bozo`): as long as entries
come out, they are used. Callers sniff first (`ingest.parse.sniff`): by the time a body gets here it
has an RSS/Atom/RDF root and declares no entities.
"""

from __future__ import annotations

import calendar
import io
from datetime import UTC, datetime
from typing import Any

import feedparser

from ingest.errors import ParseError
from ingest.models import Document, RawEntry, Source
from ingest.parse.parsed import ParsedDocument, web_link

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})


def parse_feed(doc: Document, source: Source) -> ParsedDocument:
    headers = {"content-location": doc.url, "content-type": xml_content_type(doc.content_type)}
    try:
        parsed = feedparser.parse(
            io.BytesIO(doc.body),
            response_headers=headers,
            # Entries' HTML only ever reaches `ingest.normalize.textnorm.html_to_text`, which
            # keeps visible text alone (scripts, styles, applets and the like vanish, links
            # are dropped): feedparser's own sanitizing and link rewriting would re-parse and
            # re-serialise every entry for nothing, a third of its time.
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser's loose parser can still trip on hostile input
        raise ParseError(f"{doc.url}: feed parser failed: {type(exc).__name__}: {exc}") from exc
    feed = parsed.get("feed", {})
    if not parsed.entries and not parsed.get("version"):
        reason = parsed.get("bozo_exception") or "no feed format recognised"
        raise ParseError(f"{doc.url}: not a usable feed: {reason}")
    language = feed.get("language") or None
    entries = tuple(
        entry for item in parsed.entries if (entry := _feed_entry(item, doc, source, language))
    )
    return ParsedDocument(entries, _ttl_s(feed.get("ttl")), str(feed.get("title", "")), "feed")


def xml_content_type(content_type: str) -> str:
    """The body was sniffed as a feed: a missing or non-XML type (a misconfigured server's
    text/html, text/plain) becomes application/xml, keeping any charset it declared."""
    mime, _, params = content_type.partition(";")
    if "xml" in mime.lower():
        return content_type
    return f"application/xml;{params}" if params.strip() else "application/xml"


def _feed_entry(item: Any, doc: Document, source: Source, language: str | None) -> RawEntry | None:
    title = str(item.get("title", "")).strip()
    content, content_type, content_language = _best_content(item)
    link = web_link(item.get("link"))
    if not (title or content or link):
        return None
    return RawEntry(
        source_name=source.name,
        source_url=doc.url,
        title=title,
        content=content,
        content_is_html=content_type in HTML_TYPES,
        guid=item.get("id") or None,
        link=link,
        summary=str(item.get("summary", "")) if item.get("content") else "",
        published=_struct_utc(item.get("published_parsed") or item.get("updated_parsed")),
        language=content_language or language,
    )


def _best_content(item: Any) -> tuple[str, str, str | None]:
    """(text, type, language): full content when given, else the summary."""
    for detail in item.get("content") or ():
        if detail.get("value"):
            return str(detail["value"]), str(detail.get("type", "")), detail.get("language")
    detail = item.get("summary_detail") or {}
    summary = str(item.get("summary", ""))
    return summary, str(detail.get("type", "text/html")), detail.get("language")


def _struct_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _ttl_s(value: Any) -> float | None:
    """RSS <ttl> is in minutes."""
    try:
        minutes = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60 if 0 < minutes < 1e6 else None
