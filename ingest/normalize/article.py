"""RawEntry -> Article: clean text, dateline split off, canonical URL, language, stable ids."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from ingest.models import Article, Dateline, RawEntry, SourceRef
from ingest.normalize.dateline import parse_dateline
from ingest.normalize.headings import is_heading
from ingest.normalize.language import detect_language, language_code
from ingest.normalize.textnorm import (
    clean_text,
    drop_boilerplate,
    first_sentences,
    fold_for_dedup,
    html_to_text,
)
from ingest.normalize.urls import canonical_url

ID_HEX_CHARS = 20  # 80 bits: no collision in any realistic article volume
SUMMARY_SENTENCES = 2
SUMMARY_MAX_CHARS = 300
TITLE_MAX_CHARS = 100  # a title made from the first sentence, cut at a word boundary


def normalize(entry: RawEntry) -> Article:
    """The normalized Article for one raw feed entry or wire text file."""
    # Titles arrive HTML-escaped even from feeds whose content is plain text.
    title = " ".join(_visible_text(entry.title, _looks_like_html(entry.title)).split())
    full_body = _body_text(entry.content, entry.content_is_html)
    dateline, body = _dateline_and_body(full_body, entry.published, title)
    body = clean_text(body)
    url = canonical_url(entry.link or entry.source_url)
    folded = _folded(title, body)
    summary = _summary(body, entry)
    return Article(
        id=_article_id(entry, folded),
        url=url,
        # An alert always has a title: a feed item without one gets its first sentence (the id
        # and fingerprint above stay those of the item as given).
        title=title or first_sentences(summary, 1, TITLE_MAX_CHARS) or url,
        body=body,
        published=entry.published,
        source=SourceRef(entry.source_name, entry.source_url),
        dateline=dateline,
        summary=summary,
        language=language_code(entry.language) or detect_language(f"{title}\n{body}"),
        fingerprint=_digest(folded),
        guid=entry.guid,
        text_from=entry.text_from,
    )


def _folded(title: str, body: str) -> str:
    """`fold_for_dedup(f"{title}\\n{body}")` without building that string: folding is per
    character and joins at whitespace, so the parts join."""
    return " ".join(part for part in (fold_for_dedup(title), fold_for_dedup(body)) if part)


def _visible_text(text: str, is_html: bool) -> str:
    return html_to_text(text) if is_html else clean_text(text)


def _looks_like_html(text: str) -> bool:
    # Only for one-line fields (title, feed summary), where collapsing newlines costs nothing.
    return ("<" in text and ">" in text) or ("&" in text and ";" in text)


def _body_text(content: str, is_html: bool) -> str:
    lines = _visible_text(content, is_html).split("\n")
    return "\n".join(drop_boilerplate(lines))


# "By Jane Doe", "By JANE DOE and JOHN ROE, Associated Press": a short credit line opening the
# story, before the dateline. Dropped there (only there), so that the dateline is found.
_NAME = r"[A-ZÀ-ÖØ-Þ][\w.'’-]*"  # a capitalised word: "by the end of ..." is prose
_BYLINE = re.compile(rf"^\s*(?:By|BY)\s+{_NAME}(?:(?:,?\s+|,\s*)(?:and\s+)?{_NAME}){{0,8}}\s*$")
_BYLINE_MAX_CHARS = 80


def _dateline_and_body(
    text: str, published: datetime | None, title: str = ""
) -> tuple[Dateline | None, str]:
    """The dateline opening the story, also when a byline, a heading line (the headline again,
    a kicker, an update note) or several stand before it; those lines go with the dateline."""
    dateline, body = parse_dateline(text, published)
    if dateline is not None:
        return dateline, body
    lines = text.split("\n")
    start = 0
    while start < len(lines) and _set_aside(lines[start], title):
        start += 1
        behind, rest = parse_dateline("\n".join(lines[start:]), published)
        if behind is not None:  # only then were they headings: the dateline proves it
            return behind, rest
    return None, text


def _set_aside(line: str, title: str) -> bool:
    """A line that may stand above a dateline: blank, a byline or a heading."""
    if not line.strip() or _is_byline(line):
        return True
    return parse_dateline(line)[0] is None and is_heading(line, title)


def _is_byline(line: str) -> bool:
    return len(line) <= _BYLINE_MAX_CHARS and _BYLINE.match(line) is not None


def _summary(body: str, entry: RawEntry) -> str:
    if body:
        return first_sentences(body, SUMMARY_SENTENCES, SUMMARY_MAX_CHARS)
    feed_summary = _body_text(entry.summary, _looks_like_html(entry.summary))
    _dateline, text = parse_dateline(feed_summary, entry.published)
    return first_sentences(clean_text(text), SUMMARY_SENTENCES, SUMMARY_MAX_CHARS)


def _article_id(entry: RawEntry, folded_text: str) -> str:
    # The kind goes into the hash so a GUID can never collide with a URL or a text.
    if entry.guid and entry.guid.strip():
        return _digest(f"guid:{entry.guid.strip()}")[:ID_HEX_CHARS]
    if entry.link and entry.link.strip():
        return _digest(f"url:{canonical_url(entry.link)}")[:ID_HEX_CHARS]
    return _digest(f"text:{folded_text}")[:ID_HEX_CHARS]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
