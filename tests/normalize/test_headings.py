"""Heading lines above the first sentence, from tests/normalize/cases/headings.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingest.models import RawEntry
from ingest.normalize.article import normalize
from ingest.normalize.headings import is_heading, leading_headings

CASES = yaml.safe_load(
    (Path(__file__).parent / "cases" / "headings.yaml").read_text(encoding="utf-8")
)["cases"]

pytestmark = pytest.mark.timeout(10)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["text"][:30])
def test_a_dateline_behind_heading_lines_is_found(case: dict[str, str]) -> None:
    entry = RawEntry("wire", "https://wire.example/", case["title"], case["text"], False)
    article = normalize(entry)
    dateline = article.dateline
    assert (dateline.place if dateline else None) == case["place"]
    assert (dateline.agency if dateline else None) == case["agency"]
    assert article.body.startswith(case["body_starts"])


@pytest.mark.parametrize(
    ("line", "title", "expected"),
    [
        ("EXCLUSIVE", "", True),
        ("ANALYSIS: Why the truce may not hold.", "", True),
        ("Black Sea deal reached, U.S. says.", "U.S. says Black Sea deal reached", True),
        ("Police seek witnesses after a crash on Main Street", "", True),
        ("Police are seeking witnesses after a crash on Main Street.", "", False),
        ("The truce holds, the ministry said on Tuesday.", "Truce holds", False),
        (" ".join(["word"] * 25), "", False),
        ("", "", False),
    ],
)
def test_what_is_a_heading(line: str, title: str, expected: bool) -> None:
    assert is_heading(line, title) is expected


def test_leading_headings_stop_at_the_first_sentence() -> None:
    lines = ["EXCLUSIVE", "", "Deal reached", "The deal was reached on Monday.", "More here"]
    assert leading_headings(lines, "Deal reached") == 3
