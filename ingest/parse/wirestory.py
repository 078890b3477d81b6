"""A plain-text wire story -> one RawEntry: the whole text is the content, a title is found.

The title is the first line when it is a short headline; otherwise the first sentence after
the dateline, cut at TITLE_MAX_CHARS.
"""

from __future__ import annotations

import re

from ingest.errors import ParseError
from ingest.models import Document, RawEntry, Source
from ingest.parse.parsed import ParsedDocument

HEADLINE_MAX_CHARS = 150  # a first line this short, without a dateline, is the headline
TITLE_MAX_CHARS = 300

_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z .'’/-]{1,40}?"
    r"(?:,\s*[^:()\n]{1,40}?\s*(?:\([^()\n]{1,60}\))?|\s*\([^()\n]{1,60}\))"
    r"\s*[:\-–—]+\s*"
)
_SENTENCE_STOP = re.compile(r"[.!?…][\"'”’)]*$")  # a line ending like a sentence, not a headline
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
        content=_without_headline(content),
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


def _without_headline(text: str) -> str:
    """The story without its headline line, so that the body starts at the dateline.

    Only a line that reads as a headline goes: short, no dateline, no closing full stop, and
    more text after it. A first line that is a sentence stays part of the story.
    """
    first_line, _, rest = text.partition("\n")
    headline = first_line.strip()
    is_headline = (
        rest.strip()
        and len(headline) <= HEADLINE_MAX_CHARS
        and _DATELINE.match(headline) is None
        and not _SENTENCE_STOP.search(headline)
    )
    return rest.strip() if is_headline else text


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
