"""No script, style or other hidden markup reaches article text, from any kind of feed entry.

feedparser's own sanitizing is off (`ingest.parse.xmlfeed`): `html_to_text` alone decides what
is text. Each fixture marks every hidden word LEAK and every visible one SHOWN.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.models import Article, Document, Source
from ingest.normalize.article import normalize
from ingest.parse.documents import parse_document

pytestmark = pytest.mark.timeout(30)

CASES = sorted((Path(__file__).parent / "cases" / "markup").glob("*.xml"))


def articles_of(path: Path) -> list[Article]:
    uri = path.resolve().as_uri()
    source = Source(url=uri, name=path.name, kind="file", interval_s=300)
    entries = parse_document(Document(url=uri, body=path.read_bytes()), source).entries
    return [normalize(entry) for entry in entries]


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_hidden_markup_never_becomes_text(path: Path) -> None:
    articles = articles_of(path)
    assert len(articles) == path.read_text().count("<title") - 1  # the feed's own title
    for article in articles:
        for field in (article.title, article.body, article.summary):
            assert "LEAK" not in field, field
            assert "<" not in field.replace("a < b", ""), field  # no markup left as text
        assert "SHOWN" in article.title and "SHOWN" in article.body


def test_visible_text_around_hidden_markup_is_kept() -> None:
    (*_, third, fourth) = articles_of(Path(__file__).parent / "cases/markup/hostile.rss.xml")
    assert third.body.split("\n") == ["SHOWN body", "SHOWN link", "SHOWN last"]
    assert fourth.body == "SHOWN after a script with markup in it"
