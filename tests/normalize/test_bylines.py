"""Bylines before the dateline, from tests/normalize/cases/bylines.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingest.models import RawEntry
from ingest.normalize.article import normalize

CASES = yaml.safe_load(
    (Path(__file__).parent / "cases" / "bylines.yaml").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c["text"][:30])
def test_byline_then_dateline(case: dict[str, str]) -> None:
    article = normalize(RawEntry("wire", "https://wire.example/", "", case["text"], False))
    assert (article.dateline.place if article.dateline else None) == case["place"]
    assert article.body.startswith(case["body_starts"])
