"""Document -> RawEntry: a feed (RSS, Atom, RDF, JSON Feed) or one plain-text wire story.

The one place that knows every format; each lives in its own module:

    sniff       bytes to text, which kind of document, the entity-declaration guard
    xmlfeed     RSS / Atom / RDF through feedparser (the only module that imports it)
    jsonfeed    JSON Feed 1.0 / 1.1
    wirestory   a plain-text wire story and its title
    parsed      ParsedDocument, the output of all of them

A broken feed is data (`bozo`): as long as entries come out, they are used. What is neither a
feed nor a wire story raises ParseError with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ingest.errors import ParseError
from ingest.models import Document, RawEntry, Source
from ingest.parse.jsonfeed import parse_json_feed
from ingest.parse.parsed import DocumentKind, ParsedDocument, web_link
from ingest.parse.sniff import classify, decode_text, refuse_entity_declarations, xml_root_name
from ingest.parse.wirestory import first_sentence, parse_wire_story, wire_title
from ingest.parse.xmlfeed import parse_feed, xml_content_type

__all__ = [
    "DocumentKind",
    "Parsed",
    "ParsedDocument",
    "classify",
    "decode_text",
    "first_sentence",
    "parse_document",
    "parse_documents",
    "parse_feed",
    "parse_json_feed",
    "parse_wire_story",
    "refuse_entity_declarations",
    "web_link",
    "wire_title",
    "xml_content_type",
    "xml_root_name",
]


@dataclass(frozen=True, slots=True)
class Parsed:
    entries: list[RawEntry]
    errors: list[str]  # one per document that could not be parsed
    ttl_s: float | None  # the longest <ttl> the documents declared


def parse_documents(source: Source, documents: Iterable[Document]) -> Parsed:
    """Entries of every document; a document that cannot be parsed is an error, not a crash."""
    entries: list[RawEntry] = []
    errors: list[str] = []
    ttls: list[float] = []
    for document in documents:
        try:
            parsed = parse_document(document, source)
        except ParseError as exc:
            message = str(exc)  # most already name the document
            errors.append(message if document.url in message else f"{document.url}: {message}")
            continue
        entries.extend(parsed.entries)
        if parsed.ttl_s:
            ttls.append(parsed.ttl_s)
    return Parsed(entries, errors, max(ttls, default=None))


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
