"""Document -> RawEntry: a feed (RSS, Atom, RDF, JSON Feed) or one plain-text wire story.

The only module that imports feedparser. A broken feed is data (`bozo`): as long as entries
come out, they are used. What is neither a feed nor a wire story (an HTML page, binary junk,
an empty body) raises ParseError with the reason. Documents whose DOCTYPE declares entities
are refused before any XML parser sees them (billion laughs, XXE).
"""

from __future__ import annotations

import calendar
import codecs
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import feedparser

from ingest.errors import ParseError
from ingest.models import Document, RawEntry, Source

FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})
MAX_JUNK_RATIO = 0.02  # control characters and undecodable bytes allowed in a text story
HEADLINE_MAX_CHARS = 150  # a first line this short, without a dateline, is the headline
TITLE_MAX_CHARS = 300

DocumentKind = Literal["feed", "json", "text"]


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    entries: tuple[RawEntry, ...]
    ttl_s: float | None = None  # the feed's <ttl>, in seconds
    title: str = ""
    kind: DocumentKind = "feed"


def parse_document(doc: Document, source: Source) -> ParsedDocument:
    """Entries of one fetched document; raises ParseError when it holds none we can use."""
    text = decode_text(doc.body, doc.content_type)
    kind = classify(text, doc.url)
    if kind == "feed":
        refuse_entity_declarations(text, doc.url)
        return parse_feed(doc, source)
    if kind == "json":
        return parse_json_feed(text, doc, source)
    return parse_wire_story(text, doc, source)


# ---- sniffing -------------------------------------------------------------------------

_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)
_PROLOG_JUNK = re.compile(
    r"(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)", re.S | re.I
)
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)")
_FEED_LINK = re.compile(
    r"<link[^>]+type=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE
)
_HREF = re.compile(r"href=[\"']([^\"']+)", re.IGNORECASE)


# Byte-order marks and the XML spec's appendix F patterns for "<?xml" / "<" without a BOM.
_UNICODE_SNIFF = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),  # "<?xm" in EBCDIC
)


def decode_text(body: bytes, content_type: str = "") -> str:
    """Bytes to text, never failing: BOM or XML byte pattern, UTF-8, declared charset, cp1252."""
    for signature, codec in _UNICODE_SNIFF:
        if body.startswith(signature):
            text = body.decode(codec, errors="replace").lstrip("\ufeff")
            return _redecode_ebcdic(body, text) if codec == "cp037" else text
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(content_type)
    codecs_to_try = [declared.group(1)] if declared else []
    for codec in [*codecs_to_try, "cp1252"]:
        try:
            return body.decode(codec, errors="replace")
        except LookupError:  # an unknown charset name: try the next
            continue
    return body.decode("latin-1")


_XML_ENCODING = re.compile(r"<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)")


def _redecode_ebcdic(body: bytes, text: str) -> str:
    """EBCDIC code pages differ in punctuation: re-read with the one the declaration names."""
    declared = _XML_ENCODING.match(text)
    try:
        return body.decode(declared.group(1), errors="replace") if declared else text
    except LookupError:
        return text


def classify(text: str, url: str) -> DocumentKind:
    """feed, json or text; raises ParseError for empty bodies, HTML pages and binary junk."""
    stripped = text.strip()
    if not stripped:
        raise ParseError(f"empty document at {url}")
    _refuse_binary(stripped, url)
    if stripped.startswith("{"):
        return "json"
    if not stripped.startswith("<"):
        return "text"
    root = xml_root_name(stripped)
    if root in FEED_ROOTS:
        return "feed"
    if root == "html" or stripped[:15].lower().startswith("<!doctype html"):
        raise ParseError(f"{url} is an HTML page, not a feed{_feed_link_hint(stripped)}")
    if not root:
        raise ParseError(f"{url} is markup without any element; not a feed")
    raise ParseError(f"{url} is XML with root <{root}>, not a feed (RSS, Atom, RDF)")


def xml_root_name(text: str) -> str:
    """The lower-cased local name of the first element, after prolog, comments and DOCTYPE."""
    position = 0
    while match := _PROLOG_JUNK.match(text, position):
        if match.end() == position:
            break
        position = match.end()
    root = _ROOT.match(text, position)
    return root.group(1).rsplit(":", 1)[-1].lower() if root else ""


_JUNK = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")  # controls, undecodable bytes


def _refuse_binary(text: str, url: str) -> None:
    sample = text[:65536]
    junk = len(_JUNK.findall(sample))
    if "\x00" in sample or junk > MAX_JUNK_RATIO * len(sample):
        raise ParseError(f"{url} is binary data, not a feed or a text story")


def _feed_link_hint(html: str) -> str:
    link = _FEED_LINK.search(html[:65536])
    href = _HREF.search(link.group(0)) if link else None
    return f" (it links to a feed at {href.group(1)}; use that URL)" if href else ""


def refuse_entity_declarations(text: str, url: str) -> None:
    """ParseError when the document declares entities: nothing gets expanded or read."""
    if "<!ENTITY" in text:
        raise ParseError(
            f"{url} declares XML entities in its DOCTYPE; refused (entity expansion / external "
            "entities are not processed)"
        )


# ---- feeds ----------------------------------------------------------------------------


def parse_feed(doc: Document, source: Source) -> ParsedDocument:
    headers = {"content-location": doc.url, "content-type": xml_content_type(doc.content_type)}
    try:
        parsed = feedparser.parse(io.BytesIO(doc.body), response_headers=headers)
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


def web_link(value: Any) -> str | None:
    """An http(s) link, or None (feedparser also offers ids like `urn:` as links)."""
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


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


def parse_json_feed(text: str, doc: Document, source: Source) -> ParsedDocument:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org); feedparser 6 does not read it."""
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


# ---- plain-text wire stories ------------------------------------------------------------

_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z .'’/-]{1,40}?"
    r"(?:,\s*[^:()\n]{1,40}?\s*(?:\([^()\n]{1,60}\))?|\s*\([^()\n]{1,60}\))"
    r"\s*[:\-–—]+\s*"
)
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z](?:\.[A-Z])*|\b(?:Mr|Mrs|Ms|Dr|St|Gen|Sen|Rep|Gov|Lt|Col|Capt|Sgt|Prof|Jr|Sr|"
    r"No|Inc|Corp|Co|Ltd|vs|Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec))\.?$"
)


def parse_wire_story(text: str, doc: Document, source: Source) -> ParsedDocument:
    """A plain-text file is one story: the whole text is the content."""
    content = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not any(ch.isalpha() for ch in content[:4096]):
        raise ParseError(f"{doc.url}: no words in it; not a text story")
    title = wire_title(content)
    entry = RawEntry(
        source_name=source.name,
        source_url=doc.url,
        title=title,
        content=content,
        content_is_html=False,
    )
    return ParsedDocument((entry,), None, title, "text")


def wire_title(text: str) -> str:
    """The first line if it is a short headline, else the first sentence after the dateline."""
    first_line = text.split("\n", 1)[0].strip()
    dateline = _DATELINE.match(first_line)
    if dateline is None and len(first_line) <= HEADLINE_MAX_CHARS:
        return first_line
    body = first_line[dateline.end() :] if dateline else first_line
    return _shorten(first_sentence(body) or first_line)


def first_sentence(text: str) -> str:
    for match in _SENTENCE_END.finditer(text):
        before = text[: match.start() + 1]
        if not _ABBREVIATION.search(before.rstrip(".")) or before.endswith(("!", "?")):
            return text[: match.end()].strip()
    return text.strip()


def _shorten(title: str) -> str:
    if len(title) <= TITLE_MAX_CHARS:
        return title
    return title[:TITLE_MAX_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
