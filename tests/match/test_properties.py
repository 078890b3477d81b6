"""Properties over open-ended text: folding and matching never raise, offsets stay in range,
and a term is always found in a text that contains it between spaces (a term written with
capitals may instead be ruled out there, with a reason: a common word starting a sentence)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ingest.match.casing import CasedTerm
from ingest.match.matcher import Matcher
from ingest.match.termindex import TermIndex
from ingest.match.terms import fold, sentences, word_pattern, words
from ingest.rules.model import EntityCondition, NameSpec, Rule
from tests.match.conftest import article

# Mixed scripts, combining marks, curly quotes and dashes, digits and punctuation.
ALPHABET = st.characters(
    codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs"), exclude_characters="\x00"
)
TEXT = st.text(alphabet=ALPHABET, max_size=80)
WORDY = st.sampled_from(["ceasefire", "cease-fire", "Nato", "São", "перемирие", "وقف", "ß", "İ"])


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(term=st.one_of(TEXT, WORDY), prefix=TEXT, suffix=TEXT)
def test_term_between_spaces_is_always_found(term: str, prefix: str, suffix: str) -> None:
    assume(words(term))
    text = f"{prefix} {term} {suffix}"
    index = TermIndex([(term, "word")])
    found = index.search(text)
    hits = found.of(index.id_of(term))
    inside = len(prefix) + 1, len(prefix) + 1 + len(term)
    if CasedTerm.of(term) is not None:  # it may be ruled out, never for its own case
        ruled_out = [
            r
            for r in found.rejected(index.id_of(term))
            if inside[0] <= r.hit.start and r.hit.end <= inside[1]
        ]
        assert not any("lowercase" in r.reason or "not written" in r.reason for r in ruled_out)
        hits += tuple(r.hit for r in ruled_out)
    assert any(inside[0] <= h.start and h.end <= inside[1] for h in hits)


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(term=st.one_of(TEXT, WORDY, st.text(alphabet=st.characters(codec="ascii"), max_size=20)))
def test_a_terms_words_are_the_words_of_its_folded_text(term: str) -> None:
    assert words(term) == word_pattern().findall(fold(term).text)


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(text=TEXT)
def test_fold_keeps_a_map_back_to_the_original(text: str) -> None:
    folded = fold(text)
    if folded.offsets is not None:
        assert len(folded.offsets) == len(folded.text)
        assert list(folded.offsets) == sorted(folded.offsets)
    for start in range(len(folded.text)):
        begin, end = folded.to_original(start, start + 1)
        assert 0 <= begin < end <= len(text)
    for begin, end in sentences(text):
        assert 0 <= begin < end <= len(text)


@pytest.mark.timeout(60)
@settings(max_examples=150, deadline=None)
@given(terms=st.lists(st.one_of(TEXT, WORDY), min_size=1, max_size=5), body=TEXT, title=TEXT)
def test_matching_never_raises(terms: list[str], body: str, title: str) -> None:
    terms = [t for t in terms if words(t)]
    assume(terms)
    rule = Rule(
        "r",
        "alerts:r",
        any=tuple(terms),
        entities=(EntityCondition("PERSON", (NameSpec(terms[0], tuple(terms[1:])),)),),
    )
    matcher = Matcher([rule, Rule("s", "alerts:s", all=tuple(terms))], None)
    (matches,) = matcher.match_many([article(body, title)])
    for match in matches:
        assert len(match.snippet) <= 310
    assert matcher.explain(article(body, title), "r").rule_id == "r"


LETTERS = st.sampled_from(["abcdefghijklmnopqrstuvwxyz", "абвгдежзиклмнопрстуфхцчшщыэюя"])


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(data=st.data(), alphabet=LETTERS)
def test_term_inside_a_longer_word_never_matches(data: st.DataObject, alphabet: str) -> None:
    def letters(low: int, high: int) -> str:
        return data.draw(st.text(alphabet=alphabet, min_size=low, max_size=high))

    term, left, right = letters(3, 8), letters(1, 4), letters(0, 4)
    index = TermIndex([(term, "word")])
    assert index.search(f"The {left}{term}{right} case.").of(index.id_of(term)) == ()
