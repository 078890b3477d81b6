"""Case-aware terms: the data behind "common word", and properties over open-ended text."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ingest.match.casing import CasedTerm, shape, word_need
from ingest.match.nlp import common_words
from ingest.match.termindex import TermIndex
from ingest.match.terms import words

pytestmark = pytest.mark.timeout(60)

ALPHABET = st.characters(
    codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs"), exclude_characters="\x00"
)
TEXT = st.text(alphabet=ALPHABET, max_size=80)
ASCII_TEXT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,!?-'\n")
NAMES = st.sampled_from(
    ["US", "WHO", "NATO", "Apple", "Turkey", "May", "iPhone", "Киев", "US sanctions"]
)


def test_common_words_are_spacy_stop_words_not_names() -> None:
    common = common_words()
    assert {"who", "us", "may", "will", "it"} <= common
    assert not {"turkey", "apple", "nato", "unesco", "china"} & common


@pytest.mark.parametrize(
    ("word", "expected"),
    [("us", "lower"), ("US", "upper"), ("Us", "title"), ("iPhone", "other"), ("NGOs", "title"),
     ("A", "title"), ("وقف", "lower"), ("Киев", "title"), ("ǅa", "title")],
)  # fmt: skip
def test_shapes(word: str, expected: str) -> None:
    assert shape(word) == expected


def test_what_each_word_of_a_term_asks_for() -> None:
    assert [word_need(w) for w in ("sanctions", "US", "Apple", "iPhone")] == [
        "any",
        "acronym",
        "name",
        "name",
    ]
    assert CasedTerm.of("interest rate") is None
    term = CasedTerm.of("US sanctions")
    assert term is not None and term.needs == ("acronym", "any")


@settings(max_examples=200, deadline=None)
@given(term=st.one_of(NAMES, TEXT), text=TEXT)
def test_a_term_with_capitals_never_matches_lowercase_text(term: str, text: str) -> None:
    assume(words(term) and CasedTerm.of(term) is not None)
    index = TermIndex([(term, "word")])
    lowered = f"{text} {term} {text}".lower()
    assert index.search(lowered).of(index.id_of(term)) == ()


@settings(max_examples=200, deadline=None)
@given(text=ASCII_TEXT, term=st.sampled_from(["ceasefire", "us", "who", "turkey", "nato"]))
def test_a_lowercase_term_ignores_the_case_of_the_text(text: str, term: str) -> None:
    index = TermIndex([(term, "word")])
    term_id = index.id_of(term)
    found = [term_id in index.search(t).by_term for t in (text, text.upper(), text.swapcase())]
    assert len(set(found)) == 1
