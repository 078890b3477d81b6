"""Wire story titles; parse_document on arbitrary bytes gives data or ParseError, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from ingest.errors import ParseError
from ingest.models import Document, Source
from ingest.parse.documents import parse_document, wire_title

SOURCE = Source(url="/spool", name="s", kind="spool", interval_s=60)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "KYIV, Ukraine (AP) — Russian drones hit the grid. Power was cut.",
            "Russian drones hit the grid.",
        ),
        (
            "NEW YORK, March 18 (Reuters) - Stocks rose on Tuesday! Then fell.",
            "Stocks rose on Tuesday!",
        ),
        ("GENEVA (AFP): Talks ended. Nobody spoke.", "Talks ended."),
        (
            "BEIRUT, 18 March - Gen. Aoun met U.N. envoys on Monday. More followed.",
            "Gen. Aoun met U.N. envoys on Monday.",
        ),
        ("Ceasefire holds in Gaza\nGAZA (Reuters) - The truce held.", "Ceasefire holds in Gaza"),
        (
            "NATO - Russia talks stall over missile deployment",
            "NATO - Russia talks stall over missile deployment",
        ),
        (
            "Officials said " + "very " * 40 + "much. Second sentence here.",
            "Officials said " + "very " * 40 + "much.",
        ),
        (
            "One sentence with no end " + "and more " * 60,
            ("One sentence with no end " + "and more " * 60)[:299].rsplit(" ", 1)[0] + "…",
        ),
    ],
)
def test_wire_title(text: str, title: str) -> None:
    assert wire_title(text) == title


PREFIXES = st.sampled_from(
    [
        b"",
        b"<?xml version='1.0'?>",
        b"<rss version='2.0'><channel>",
        b"<feed xmlns='http://www.w3.org/2005/Atom'>",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b'{"version": "https://jsonfeed.org/version/1", "items": ',
        b"<!DOCTYPE rss [",
        b"WASHINGTON, March 17 (Alliance News): ",
    ]
)


@given(
    prefix=PREFIXES,
    body=st.binary(max_size=800),
    content_type=st.sampled_from(
        ["", "text/xml; charset=bogus", "application/rss+xml; charset=utf-16"]
    ),
)
@hyp_settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.timeout(120)
def test_parse_document_never_crashes(prefix: bytes, body: bytes, content_type: str) -> None:
    doc = Document(url="file:///spool/x", body=prefix + body, content_type=content_type)
    try:
        parsed = parse_document(doc, SOURCE)
    except ParseError:
        return
    for entry in parsed.entries:
        assert isinstance(entry.title, str) and isinstance(entry.content, str)
        assert entry.published is None or entry.published.tzinfo is not None
