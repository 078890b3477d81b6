"""Sniffing a fetched body: bytes to text, which kind of document it is, and the entity guard.

Nothing here parses a document; it decides which parser may see it. What is neither a feed nor
a wire story (an HTML page, binary junk, an empty body) raises ParseError with the reason, and
documents whose DOCTYPE declares entities are refused before any XML parser sees them
(billion laughs, XXE).
"""

from __future__ import annotations

import codecs
import re

from ingest.errors import ParseError
from ingest.parse.parsed import DocumentKind

FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel"})
MAX_JUNK_RATIO = 0.02  # control characters and undecodable bytes allowed in a text story

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
    if is_html_page(stripped):
        raise ParseError(f"{url} is an HTML page, not a feed{_feed_link_hint(stripped)}")
    if not root:
        raise ParseError(f"{url} is markup without any element; not a feed")
    raise ParseError(f"{url} is XML with root <{root}>, not a feed (RSS, Atom, RDF)")


def is_html_page(text: str) -> bool:
    """Whether the body is an HTML page (a site's page rather than a feed)."""
    stripped = text.lstrip()
    return stripped[:15].lower().startswith("<!doctype html") or xml_root_name(stripped) == "html"


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


ENTITIES_REFUSED = (
    "declares XML entities in its DOCTYPE; refused (entity expansion / external entities are "
    "not processed)"
)


def entity_declaration_at(text: str) -> int:
    """Where the first entity declaration starts, or -1 when there is none."""
    return text.find("<!ENTITY")


def refuse_entity_declarations(text: str, url: str) -> None:
    """ParseError when the document declares entities: nothing gets expanded or read."""
    if entity_declaration_at(text) >= 0:
        raise ParseError(f"{url} {ENTITIES_REFUSED}")
