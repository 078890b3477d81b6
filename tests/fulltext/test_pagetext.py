"""Main text of article pages of our own making (pages/*.html|xhtml, expectations beside them
in *.yaml): the story is kept, the page furniture (menus, related links, comments, cookie and
paywall notices, footers) is left out."""

from __future__ import annotations

from html import escape
from pathlib import Path

import lxml.html
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.parse import pagetext
from ingest.parse.pagetext import _BLOCKS, FURNITURE_WORDS, discarded, furniture, main_text

PAGES = Path(__file__).resolve().parent / "pages"
CASES = sorted(PAGES.glob("*.yaml"))
PAGE_FILES = sorted(p for p in PAGES.iterdir() if p.suffix in (".html", ".xhtml"))

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


RUSSIAN = (
    "<html><head><title>Переговоры</title></head><body><nav><a href='/'>Главная</a></nav>"
    "<article><h1>Переговоры о перемирии возобновились в Стамбуле</h1>"
    "<p>Делегации двух стран возобновили во вторник переговоры о перемирии в Стамбуле, "
    "сообщили дипломатические источники.</p><p>По словам посредников, стороны обсуждают обмен "
    "пленными и безопасность судоходства в Черном море.</p><p>Следующий раунд запланирован на "
    "конец месяца, если нынешние договоренности будут соблюдаться.</p></article></body></html>"
)


def test_the_charset_the_answer_declares_is_used() -> None:
    page = RUSSIAN.encode("windows-1251")  # no meta charset: only the HTTP header says it
    text = main_text(page, "https://x.example/a", "", charset="windows-1251")
    assert "обмен пленными" in text and "безопасность судоходства" in text
    assert main_text(page, "https://x.example/a", "", charset="no-such-charset")  # still read


def test_a_story_body_whose_class_names_a_paywall_is_kept() -> None:
    paragraphs = "".join(
        f"<p>Paragraph {n} of the story says what the council decided about the harbour "
        f"budget and why the vote was delayed again.</p>"
        for n in range(6)
    )
    page = (
        "<html><body><div class='cookie-consent'><p>We use cookies.</p></div><main>"
        "<h1>Council delays harbour budget vote</h1>"
        f"<div class='article-body paywall-content'>{paragraphs}</div></main></body></html>"
    ).encode()
    text = main_text(page, "https://x.example/a", "Council delays harbour budget vote")
    assert "Paragraph 5 of the story" in text and "cookies" not in text


# The furniture rule as the XPath it was first written as (one contains() per word, on the
# class and id lowered by translate()): `furniture` must pick exactly the blocks it picks.
_LOWERED = ("translate(concat(' ', @class, ' ', @id, ' '), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
            "'abcdefghijklmnopqrstuvwxyz')")  # fmt: skip
FURNITURE_XPATH = (
    "//*[" + " or ".join(f"self::{tag}" for tag in _BLOCKS) + "]["
    + " or ".join(f"contains({_LOWERED}, '{word}')" for word in FURNITURE_WORDS)
    + "][not(.//h1) and not(.//article)]"
)  # fmt: skip


@pytest.mark.parametrize("page", PAGE_FILES, ids=[p.name for p in PAGE_FILES])
def test_furniture_is_what_the_xpath_rule_picks_on_the_pages(page: Path) -> None:
    tree = lxml.html.fromstring(page.read_bytes())
    assert furniture(tree) == tree.xpath(FURNITURE_XPATH)


_NAME = st.sampled_from([*FURNITURE_WORDS, "main", "story", "Ad", "x"]).map(
    lambda w: w.upper() if len(w) % 2 else w.capitalize()
) | st.text(alphabet="abcdeIKNOSTÄİ-_ ", max_size=12)
_TAGS = st.sampled_from([*_BLOCKS, "span", "article", "h1", "nav", "main"])


@st.composite
def _blocks(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(_TAGS)
    attrs = "".join(
        f' {attr}="{escape(" ".join(draw(st.lists(_NAME, max_size=3))))}"'
        for attr in ("class", "id") if draw(st.booleans())
    )  # fmt: skip
    inner = "".join(draw(st.lists(_blocks(depth + 1), max_size=3))) if depth < 3 else ""
    return f"<{tag}{attrs}>t{inner}</{tag}>tail"


@settings(max_examples=150, deadline=None)
@given(st.lists(_blocks(), min_size=1, max_size=4))
def test_furniture_is_what_the_xpath_rule_picks(blocks: list[str]) -> None:
    tree = lxml.html.fromstring(f"<html><body>{''.join(blocks)}</body></html>")
    assert furniture(tree) == tree.xpath(FURNITURE_XPATH)


@pytest.mark.parametrize("page", PAGE_FILES, ids=[p.stem for p in PAGE_FILES])
def test_dropping_what_trafilatura_discards_by_tag_changes_no_text(
    page: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    html, url = page.read_bytes(), f"https://outlet.example/{page.stem}"
    pruned = main_text(html, url)
    monkeypatch.setattr(pagetext, "discarded", lambda tree: [])
    assert main_text(html, url) == pruned


def test_discarded_are_the_outermost_tags_without_a_headline() -> None:
    tree = lxml.html.fromstring(
        "<html><body><nav id='top'><ul><li><nav id='inner'>x</nav></li></ul></nav>"
        "<nav id='wrong-way-round'><h1>Headline</h1><p>Story</p></nav>"
        "<main><p>Story<script>var x;</script></p><footer id='f'><svg><path/></svg></footer>"
        "</main><style>p{}</style></body></html>"
    )
    found = [(e.tag, e.get("id")) for e in discarded(tree)]
    assert found == [("nav", "top"), ("script", None), ("footer", "f"), ("style", None)]


@pytest.mark.parametrize(
    "page", [b"<svg><path/></svg>", b"<nav>Home</nav>", b"<script>x()</script>",
             b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><text>a</text></svg>'],
)  # fmt: skip
def test_a_page_of_nothing_but_a_discarded_element_gives_no_text(page: bytes) -> None:
    assert main_text(page, "https://x.example/a") == ""
