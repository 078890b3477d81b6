"""Fixtures for the rules tests: the NER model, loaded once per session, and article builders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.match.nlp import Ner, load_nlp
from ingest.models import Article, SourceRef

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"


@pytest.fixture(scope="session")
def ner() -> Ner:
    """The real small English model, without tagger/parser (loading takes about a second)."""
    return load_nlp("auto", batch_size=16)


@pytest.fixture(scope="session")
def blank_ner() -> Ner:
    return load_nlp("blank", batch_size=16)


def article(body: str, title: str = "", article_id: str = "a1") -> Article:
    return Article(
        id=article_id,
        url=f"https://example.org/{article_id}",
        title=title,
        body=body,
        published=None,
        source=SourceRef("test", "https://example.org/"),
        dateline=None,
        summary="",
        language="en",
    )


@pytest.fixture
def make_article() -> Callable[..., Article]:
    return article
