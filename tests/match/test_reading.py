"""The model reads only what the text leaves in doubt: full names settle, surnames get their
sentences, `LABEL: any` gets everything; and reading less changes no answer."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.match.matcher import Matcher, MatchStats
from ingest.match.nlp import Ner, load_nlp
from ingest.match.reading import Reading, chunks, standalone, windows
from ingest.match.terms import Hit, sentences
from ingest.rules.files import parse_rules
from ingest.rules.model import EntityCondition, NameSpec, Rule
from ingest.yamlfile import load_yaml_file
from tests.match.conftest import CASES, article

LEADERS = EntityCondition(
    "PERSON", tuple(NameSpec(n) for n in ("Vladimir Putin", "Volodymyr Zelenskiy", "Donald Trump"))
)
LEADER_RULE = Rule("leaders", "t:leaders", all=("ceasefire",), entities=(LEADERS,))
FILLER = [
    "Markets in Asia opened higher on Monday.",
    "Oil prices slipped after a report on stockpiles.",
    "The central bank kept its main rate on hold.",
    "Shipping costs rose for a third straight week.",
    "Analysts expect a quieter session later in the week.",
]


def _read(matcher: Matcher, text: str) -> tuple[list[str], MatchStats]:
    stats = MatchStats()
    (matches,) = matcher.match_many([article(text)], stats)
    return [m.rule_id for m in matches], stats


@pytest.mark.timeout(30)
def test_full_names_settle_without_loading_the_model() -> None:
    ner = load_nlp("auto", batch_size=8)  # a fresh one: nothing has loaded its pipeline yet
    text = " ".join([*FILLER, "Donald Trump said the ceasefire would hold."])
    matched, stats = _read(Matcher([LEADER_RULE], ner), text)
    assert matched == ["leaders"]
    assert (stats.candidates, stats.ner_articles, stats.ner_chars) == (1, 0, 0)
    assert not ner.loaded


@pytest.mark.timeout(30)
def test_a_lowercase_surname_is_settled_by_the_text() -> None:
    ner = load_nlp("auto", batch_size=8)
    matched, stats = _read(
        Matcher([LEADER_RULE], ner), "A ceasefire on trump cards, said the club."
    )
    assert matched == []
    assert (stats.candidates, stats.ner_chars) == (1, 0)
    assert not ner.loaded


@pytest.mark.timeout(30)
def test_a_surname_beside_nothing_name_like_is_settled_by_the_full_name() -> None:
    ner = load_nlp("auto", batch_size=8)
    text = "Donald Trump spoke on Sunday. Trump’s envoy pushed for a ceasefire, said Trump."
    matched, stats = _read(Matcher([LEADER_RULE], ner), text)
    assert matched == ["leaders"]
    assert stats.ner_chars == 0 and not ner.loaded


STANDALONE = [  # text, the mention (its last occurrence), whether nothing could make it longer
    ("Donald Trump spoke. Trump said no.", "Trump", True),
    ("Trump’s envoy pushed for a ceasefire.", "Trump", True),
    ("The aide (Putin's chief of staff) left.", "Putin", True),
    ("“We will see,” said Putin, adding nothing.", "Putin", True),
    ("Joe Biden and his son Hunter Biden left.", "Biden", False),
    ("Johnson & Johnson shares fell.", "Johnson", False),
    ("Shares of Johnson & Co fell.", "Johnson", False),
    ("Shares of Trump Tower owners rose.", "Trump", False),
    ("President Putin said so.", "Putin", False),
    ("Donald J. Trump signed it.", "Trump", False),
    ("Mr. Trump signed it.", "Trump", False),
    ("It was signed. Trump left.", "Trump", True),
    ("The Trump-era rules went.", "Trump", False),
    ("The Bank of England held.", "England", False),
    ("He met Trump 2 times.", "Trump", False),
    ("In an interview with Russian outlet Izvestia, Grushko insisted.", "Grushko", False),
    ("Talks with Grushko, Lavrov and others.", "Grushko", False),
    ("The rate was 1.0842 dollars.", "1", False),
    ("When asked, Grushko said no.", "Grushko", True),
    ("They met Grushko, who said no.", "Grushko", True),
]


@pytest.mark.parametrize(("text", "mention", "expected"), STANDALONE)
def test_standalone_mentions(text: str, mention: str, expected: bool) -> None:
    start = text.rindex(mention)
    assert standalone(Hit(start, start + len(mention), 0, 0), text) is expected


@pytest.mark.timeout(30)
def test_a_surname_alone_is_read_with_one_sentence_each_side(ner: Ner) -> None:
    doubt = "Putin said on Tuesday that the ceasefire could start within days."
    text = " ".join([*FILLER, doubt, *FILLER])
    matched, stats = _read(Matcher([LEADER_RULE], ner), text)
    assert matched == ["leaders"]
    spans = sentences(text)
    at = next(i for i, (s, e) in enumerate(spans) if text[s:e].strip() == doubt)
    assert stats.ner_chars == spans[at + 1][1] - spans[at - 1][0]
    assert stats.ner_chars < len(text) / 3


@pytest.mark.timeout(30)
def test_label_any_reads_every_sentence(ner: Ner) -> None:
    rule = Rule("people", "t:p", all=("ceasefire",), entities=(EntityCondition("PERSON", None),))
    text = " ".join([*FILLER, "Donald Trump said the ceasefire would hold.", *FILLER])
    matched, stats = _read(Matcher([rule], ner), text)
    assert matched == ["people"]
    assert stats.ner_chars == len(text)


def _case_params() -> list[Any]:
    return [pytest.param(path, id=path.stem) for path in sorted(CASES.glob("*.yaml"))]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("path", _case_params())
def test_windows_give_the_answers_of_whole_articles(path: Any, ner: Ner) -> None:
    data = load_yaml_file(path)
    rules = parse_rules(data["rules"], str(path))
    items = [
        article(c["text"], c.get("title", ""), f"a{i}") for i, c in enumerate(data["articles"])
    ]
    whole = Matcher(rules, ner, scope="whole").match_many(items)
    windowed = Matcher(rules, ner).match_many(items)
    assert windowed == whole


_SENTENCE = st.text(alphabet="abc Z", min_size=1, max_size=20).map(lambda s: s.strip() + ".")


@given(st.lists(_SENTENCE, min_size=1, max_size=12), st.data())
def test_chunks_cover_each_hit_and_its_neighbours_once(parts: list[str], data: Any) -> None:
    text = " ".join(parts)
    spans = sentences(text)
    if not spans:
        return
    points = data.draw(st.lists(st.integers(0, len(text) - 1), max_size=5))
    hits = [Hit(p, p + 1, 0, 0) for p in points]
    reading = Reading(sentences=frozenset(windows(hits, spans)))
    ranges = chunks(reading, spans, len(text))
    assert ranges == sorted(ranges)
    assert all(a[1] < b[0] for a, b in pairwise(ranges))
    for hit in hits:
        number = max(i for i, (s, _) in enumerate(spans) if s <= hit.start or i == 0)
        for near in range(max(0, number - 1), min(len(spans), number + 2)):
            start, end = spans[near]
            assert any(a <= start and end <= b for a, b in ranges)
    assert bool(ranges) == bool(hits)
