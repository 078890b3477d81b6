"""Main text of article pages of our own making (pages/*.html|xhtml, expectations beside them
in *.yaml): the story is kept, the page furniture (menus, related links, comments, cookie and
paywall notices, footers) is left out."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.parse.pagetext import main_text

PAGES = Path(__file__).resolve().parent / "pages"
CASES = sorted(PAGES.glob("*.yaml"))

pytestmark = pytest.mark.timeout(60)


def page_of(case: Path) -> Path:
    return next(p for p in PAGES.glob(f"{case.stem}.*") if p.suffix in (".html", ".xhtml"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_main_text_keeps_the_story_and_drops_the_furniture(case: Path) -> None:
    expected = yaml.safe_load(case.read_text(encoding="utf-8"))
    text = main_text(page_of(case).read_bytes(), f"https://outlet.example/{case.stem}",
                     expected["title"])  # fmt: skip
    for phrase in expected["body_has"]:
        assert phrase in text, f"{case.name}: the story lost {phrase!r}"
    for word in expected["body_lacks"]:
        assert word not in text, f"{case.name}: page furniture {word!r} is in the text"
    assert not text.startswith(expected["title"])  # the page's headline is the entry's title


def test_there_are_pages_in_several_languages() -> None:
    languages = {page_of(case).read_text(encoding="utf-8").split('lang="')[1][:2] for case in CASES}
    assert len(CASES) >= 4 and {"en", "de", "fr", "es"} <= languages


def test_an_empty_page_gives_no_text() -> None:
    assert main_text(b"", "https://x.example/") == ""
    assert main_text(b"  \n ", "https://x.example/") == ""


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode))
def test_any_bytes_give_text_or_nothing(body: bytes) -> None:
    assert isinstance(main_text(body, "https://x.example/a", "Title"), str)
