"""Article builders and case paths for the matching tests (NER fixtures: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.models import Article, SourceRef

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"


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
