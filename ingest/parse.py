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

from ingest.jsonfeed import parse_json_feed
from ingest.models import Document, Source
from ingest.parsed import DocumentKind, ParsedDocument, web_link
from ingest.sniff import classify, decode_text, refuse_entity_declarations, xml_root_name
from ingest.wirestory import first_sentence, parse_wire_story, wire_title
from ingest.xmlfeed import parse_feed, xml_content_type

__all__ = [
    "DocumentKind",
    "ParsedDocument",
    "classify",
    "decode_text",
    "first_sentence",
    "parse_document",
    "parse_feed",
    "parse_json_feed",
    "parse_wire_story",
    "refuse_entity_declarations",
    "web_link",
    "wire_title",
    "xml_content_type",
    "xml_root_name",
]


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
