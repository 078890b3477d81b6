"""When an entry's page is wanted (cases/wants_page.yaml), and when a page's text replaces the
feed's: only when it says more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.models import RawEntry
from ingest.service.fulltext import SHORT_TEXT_CHARS, wants_page, with_page_text

CASES = yaml.safe_load(
    (Path(__file__).resolve().parent / "cases" / "wants_page.yaml").read_text(encoding="utf-8")
)["cases"]


def entry(case: dict[str, Any]) -> RawEntry:
    return RawEntry(
        source_name="Test", source_url="https://x.example/feed.xml",
        title=case.get("title", "Grid operators warn of winter shortages"),
        content=case["content"], content_is_html=bool(case.get("html")),
        summary=case.get("summary", ""),
        link=case.get("link", "https://x.example/story"),
    )  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_wants_page(case: dict[str, Any]) -> None:
    assert wants_page(entry(case), case["mode"]) is case["want"]


def test_the_threshold_separates_the_table() -> None:
    complete = next(c for c in CASES if c["name"] == "a complete story")["content"]
    assert len(complete) >= SHORT_TEXT_CHARS


def test_page_text_replaces_the_feed_text_only_when_longer() -> None:
    given = entry({"content": "<p>Dockworkers walked out.</p>", "html": True})
    better = with_page_text(given, "Dockworkers walked out on Tuesday.\nThe union said more.")
    assert better is not None and better.text_from == "page" and not better.content_is_html
    assert better.summary == "Dockworkers walked out." and better.title == given.title
    assert with_page_text(given, "Walked out.") is None
    assert with_page_text(given, "") is None


WORDS = st.lists(st.sampled_from(["harbour", "talks", "the", "council", "said", "on", "vote"]),
                 min_size=1, max_size=200).map(" ".join)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(WORDS, st.sampled_from(["…", "...", " […]", " [...]", " Read more", " Continue reading »"]))
def test_a_cut_off_text_always_wants_its_page(text: str, marker: str) -> None:
    cut = entry({"content": f"{text.capitalize()} {'words ' * 120}{marker}"})
    assert wants_page(cut, "auto")


@settings(max_examples=60, deadline=None)
@given(WORDS)
def test_a_whole_text_wants_its_page_only_when_short(text: str) -> None:
    sentence = text.capitalize() + "."
    whole = entry({"content": sentence})
    assert wants_page(whole, "auto") is (len(sentence) < SHORT_TEXT_CHARS)
    assert wants_page(whole, "never") is False and wants_page(whole, "always") is True
