"""Table-driven tests: every case lives in a file under cases/, with its expected result."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from ingest.models import Dateline, RawEntry
from ingest.normalize.article import normalize
from ingest.normalize.dateline import parse_dateline
from ingest.normalize.language import detect_language, language_code
from ingest.normalize.textnorm import (
    drop_boilerplate,
    first_sentences,
    fold_for_dedup,
    html_to_text,
)
from ingest.normalize.urls import canonical_url
from tests.normalize.casefiles import case_id, load

DATELINES: list[dict[str, Any]] = load("datelines.yaml")["datelines"]
URLS: list[dict[str, str]] = load("urls.yaml")["urls"]
HTML: list[dict[str, str]] = load("html.yaml")["html"]
BOILERPLATE: dict[str, list[str]] = load("boilerplate.yaml")


@pytest.mark.timeout(5)
def test_the_dateline_table_covers_enough_prose() -> None:
    negatives = [case for case in DATELINES if case["dateline"] is None]
    assert len(negatives) >= 20


@pytest.mark.timeout(5)
@pytest.mark.parametrize("case", DATELINES, ids=[case_id(c["text"]) for c in DATELINES])
def test_parse_dateline(case: dict[str, Any]) -> None:
    dateline, rest = parse_dateline(case["text"], case.get("published"))
    if case["dateline"] is None:
        assert dateline is None
        assert rest == case["text"]
    else:
        assert dateline == Dateline(**case["dateline"])
        assert rest == case["rest"]


@pytest.mark.timeout(5)
@pytest.mark.parametrize("case", URLS, ids=[case_id(c["url"], 60) for c in URLS])
def test_canonical_url(case: dict[str, str]) -> None:
    assert canonical_url(case["url"]) == case["canonical"]


@pytest.mark.timeout(5)
@pytest.mark.parametrize("case", URLS, ids=[case_id(c["url"], 60) for c in URLS])
def test_canonical_url_is_idempotent(case: dict[str, str]) -> None:
    once = canonical_url(case["url"])
    assert canonical_url(once) == once


@pytest.mark.timeout(5)
@pytest.mark.parametrize("case", HTML, ids=[case_id(c["html"]) for c in HTML])
def test_html_to_text(case: dict[str, str]) -> None:
    assert html_to_text(case["html"]) == case["text"]


@pytest.mark.timeout(5)
@pytest.mark.parametrize("line", BOILERPLATE["drop"])
def test_boilerplate_line_is_dropped(line: str) -> None:
    assert drop_boilerplate(["Before.", line, "After."]) == ["Before.", "After."]


@pytest.mark.timeout(5)
@pytest.mark.parametrize("line", BOILERPLATE["keep"], ids=[case_id(x) for x in BOILERPLATE["keep"]])
def test_reporting_line_is_kept(line: str) -> None:
    assert drop_boilerplate([line]) == [line]


SUMMARIES: list[dict[str, str]] = load("summaries.yaml")["summaries"]
LANGUAGES: dict[str, list[dict[str, Any]]] = load("languages.yaml")


@pytest.mark.timeout(5)
@pytest.mark.parametrize("case", SUMMARIES, ids=[case_id(c["text"]) for c in SUMMARIES])
def test_first_sentences(case: dict[str, str]) -> None:
    summary = first_sentences(case["text"], max_sentences=2, max_chars=300)
    assert summary == case["summary"]
    assert len(summary) <= 300


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "case", LANGUAGES["detected"], ids=[case_id(c["text"], 20) for c in LANGUAGES["detected"]]
)
def test_detect_language(case: dict[str, str]) -> None:
    assert detect_language(case["text"]) == case["code"]


@pytest.mark.timeout(5)
@pytest.mark.parametrize("case", LANGUAGES["declared"], ids=lambda c: repr(c["tag"]))
def test_declared_language_code(case: dict[str, str | None]) -> None:
    assert language_code(case["tag"]) == case["code"]


TITLES: list[dict[str, Any]] = load("titles.yaml")["titles"]


@pytest.mark.timeout(5)
@pytest.mark.parametrize("case", TITLES, ids=[case_id(c["body"] or c["title"]) for c in TITLES])
def test_a_missing_title_is_the_first_sentence(case: dict[str, Any]) -> None:
    entry = RawEntry(
        source_name="Feed",
        source_url="https://feed.example/rss.xml",
        title=case["title"],
        content=case["body"],
        content_is_html=case.get("html", False),
        link=case.get("link"),
        summary=case.get("summary", ""),
    )
    article = normalize(entry)
    assert article.title == case["expected"]
    assert article.to_json()["title"]


@pytest.mark.timeout(5)
def test_a_made_title_leaves_the_article_id_as_it_was() -> None:
    # Ids of title-less items without GUID or link come from their text: they must not change,
    # or items seen before the upgrade would alert again.
    entry = RawEntry("Feed", "https://feed.example/rss.xml", "", "Text only. More text.", False)
    as_given = fold_for_dedup("\nText only. More text.")  # the empty title, then the body
    article = normalize(entry)
    assert article.title == "Text only."
    assert article.id == hashlib.sha256(f"text:{as_given}".encode()).hexdigest()[:20]
    assert article.fingerprint == hashlib.sha256(as_given.encode()).hexdigest()
