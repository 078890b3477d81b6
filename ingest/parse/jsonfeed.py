"""JSON Feed 1.0/1.1 (https://jsonfeed.org) -> RawEntry; feedparser 6 does not read it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ingest.errors import ParseError
from ingest.models import Document, RawEntry, Source
from ingest.parse.parsed import ParsedDocument, web_link


def parse_json_feed(text: str, doc: Document, source: Source) -> ParsedDocument:
    """Entries of a JSON Feed; ParseError for invalid JSON or JSON that is not a JSON Feed."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"{doc.url}: invalid JSON: {exc}") from exc
    version = data.get("version", "") if isinstance(data, dict) else ""
    if not (isinstance(version, str) and "jsonfeed.org" in version):
        raise ParseError(f"{doc.url} is JSON but not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items") if isinstance(data.get("items"), list) else []
    language = _str_or_none(data.get("language"))
    entries = tuple(
        entry
        for item in items
        if isinstance(item, dict) and (entry := _json_entry(item, doc, source, language))
    )
    return ParsedDocument(entries, None, str(data.get("title") or ""), "json")


def _json_entry(
    item: dict[str, Any], doc: Document, source: Source, language: str | None
) -> RawEntry | None:
    html, plain = _str_or_none(item.get("content_html")), _str_or_none(item.get("content_text"))
    summary = _str_or_none(item.get("summary")) or ""
    title = (_str_or_none(item.get("title")) or "").strip()
    link = web_link(item.get("url"))
    content = html or plain or summary
    if not (title or content or link):
        return None
    return RawEntry(
        source_name=source.name,
        source_url=doc.url,
        title=title,
        content=content,
        content_is_html=bool(html) or (not plain and bool(summary) and "<" in summary),
        guid=_str_or_none(item.get("id")),
        link=link,
        summary=summary if (html or plain) else "",
        published=_iso_utc(item.get("date_published") or item.get("date_modified")),
        language=_str_or_none(item.get("language")) or language,
    )


def _str_or_none(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def _iso_utc(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
