"""What of an article is its own, and the verification of a candidate copy (pure functions)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.normalize.textnorm import fold_for_dedup
from ingest.stories.content import (
    _SPELLING,
    _TOKEN,
    _WORD,
    MIN_CONTENT_WORDS,
    Features,
    _numbers,
    content_lines,
    is_editor_note,
    unit_key,
    verify,
    words_of,
)
from ingest.stories.sketch import (
    LEDE_KEYS,
    Kept,
    lede_fields,
    lede_shingles,
    word_hash,
    word_hashes,
)

pytestmark = pytest.mark.timeout(60)

TABLES = yaml.safe_load((Path(__file__).parent / "tables" / "notes.yaml").read_text("utf-8"))
FOOTER = (Path(__file__).parent / "cases" / "footers" / "lakeside_patch.txt").read_text("utf-8")

STORY = (
    "The city council approved a budget of $2.1 billion on Wednesday after a long meeting. "
    "It adds 60 police officers and extends late-night bus service on weekends.\n"
    "Mayor Karen Alvarez said the plan would make Portland safer and better connected.\n"
    "Council member Darnell Price voted against it and warned about optimistic forecasts."
)


def features(text: str, title: str = "") -> Features:
    return Features.of_text(title, text)


def kept(text: str, title: str = "") -> Kept:
    """What the registry keeps of an earlier article, through its stored form."""
    return Kept.decode(features(text, title).kept().encode())


def lede_keys(words: list[str]) -> list[str]:
    return lede_fields(lede_shingles(words), lambda _key: False)[0]


@pytest.mark.parametrize("line", TABLES["notes"])
def test_editor_notes_are_recognised(line: str) -> None:
    assert is_editor_note(line)


@pytest.mark.parametrize("line", TABLES["not_notes"])
def test_story_sentences_are_not_notes(line: str) -> None:
    assert not is_editor_note(line)


def test_content_leaves_out_notes_and_repeated_sentences() -> None:
    text = "(Updates with reaction)\nFirst sentence here. Boilerplate sentence.\nLast line."
    repeated = {unit_key("Boilerplate   SENTENCE.")}  # case and spacing do not matter
    assert content_lines(text, repeated.__contains__) == ["First sentence here.", "Last line."]


def test_british_and_american_spelling_compare_equal() -> None:
    assert words_of("defence organisation centre labour travelled") == words_of(
        "defense organization center labor traveled"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Civilisations realise", ["civilizations", "realize"]),
        ("colours, the Centre's THÉÂTRE", ["colors", "the", "center", "s", "theater"]),
        ("rise tour wards ogue", ["rise", "tour", "wards", "ogue"]),  # too short to fold
        ("towards afterwards travelling", ["towards", "afterward", "traveling"]),
        ("analysed analyse paralysed", ["analysed", "analyze", "paralysed"]),  # only "yse"
        ("tourism ourselves", ["tourism", "ourselves"]),  # the ending must close the word
    ],
)
def test_spelling_is_folded_at_the_end_of_a_word(text: str, words: list[str]) -> None:
    assert words_of(text) == words


def _fold_each_word(word: str) -> str:
    """The spelling fold as it was first written, word by word."""
    for british, american in _SPELLING:
        if word.endswith(british) and len(word) > len(british) + 2:
            return word[: -len(british)] + american
    return word


_ENDINGS = st.sampled_from([british for british, _ in _SPELLING])
_SPELLED = st.lists(
    st.tuples(st.text(alphabet="aeilorstuwyé1_", max_size=5), _ENDINGS | st.just("")).map("".join),
    max_size=12,
).map(" ".join)


@settings(max_examples=500, deadline=None)
@given(_SPELLED | st.text(max_size=40))
def test_spelling_fold_over_the_text_is_the_fold_of_each_word(text: str) -> None:
    # words_of folds the whole text in one pass: the same words as folding each one.
    folded = text.casefold() if text.isascii() else fold_for_dedup(text)
    assert words_of(text) == [_fold_each_word(w) for w in _WORD.findall(folded)]


def test_word_hashes_are_those_kept_forms_were_written_with() -> None:
    # Kept forms in Redis hold these hashes: a process of another version must read them alike.
    words = ["earthquake", "the", "kilometers", "zelensky", "7512"]
    assert word_hashes(words) == [49722, 28134, 51389, 11170, 28237]
    assert [word_hash(w) for w in words] == word_hashes(words)


def test_a_story_is_a_copy_of_itself_and_of_its_trimmed_copy() -> None:
    assert verify(features(STORY), kept(STORY)) is None
    trimmed = "\n".join(STORY.split("\n")[:2])
    assert verify(features(STORY), kept(trimmed)) is None


def test_a_copy_with_note_credit_and_footer_is_a_copy() -> None:
    copy = f"(Adds quote from Price)\n{STORY}\nReporting by Metro Wire.\n{FOOTER}"
    assert verify(features(STORY, "Budget passes"), kept(copy, "Council OKs budget")) is None


def test_different_stories_with_one_footer_are_not_copies() -> None:
    other = (
        "Firefighters rescued a family of ducklings from a storm drain on Oak Street this "
        "morning. The birds were returned to the pond behind the library."
    )
    why = verify(features(f"{STORY}\n{FOOTER}"), kept(f"{other}\n{FOOTER}"))
    assert (why or "").startswith("the openings differ, 0.")


def test_template_notices_that_differ_in_place_and_numbers_are_not_copies() -> None:
    template = (
        "A magnitude {m} earthquake struck {km} kilometres south of {place} at {t} UTC on "
        "Monday, the United States Geological Survey said. The quake was recorded at a depth "
        "of {d} kilometres. There were no immediate reports of damage or casualties, and the "
        "agency issued a green alert for shaking-related fatalities and economic losses."
    )
    one = template.format(m="5.4", km="23", place="Hualien", t="03:12", d="18")
    two = template.format(m="4.9", km="31", place="Hualien", t="05:40", d="21")
    assert (verify(features(one), kept(two)) or "").startswith("names or numbers differ")
    assert verify(features(one), kept(one.replace("kilometres", "kilometers"))) is None


def test_little_text_never_merges() -> None:
    short = "Central bank holds rates. Details to follow."
    assert len(short.split()) < MIN_CONTENT_WORDS
    assert verify(features(short), kept(short)) == "too little text of its own, 7 < 25 words"


def _texts(letters: str) -> st.SearchStrategy[str]:
    """Texts of paragraphs of sentences, words drawn from `letters`."""
    word = st.text(alphabet=letters, min_size=3, max_size=9)
    sentence = st.lists(word, min_size=6, max_size=16, unique=True).map(
        lambda w: " ".join(w).capitalize() + "."
    )
    paragraph = st.lists(sentence, min_size=1, max_size=3).map(" ".join)
    return st.lists(paragraph, min_size=2, max_size=6).map("\n".join)


_TEXT = _texts("abcdefghijklmnopqrstuvwxyz")


@settings(max_examples=30, deadline=None)
@given(_TEXT, _TEXT)
def test_verification_is_symmetric(a: str, b: str) -> None:
    assert (verify(features(a), kept(b)) is None) == (verify(features(b), kept(a)) is None)


@settings(max_examples=30, deadline=None)
@given(_texts("abcdefghijklm"), _texts("nopqrstuvwxyz"))
def test_a_shared_footer_never_makes_stories_copies(a: str, b: str) -> None:
    # Two stories without a word in common, each followed by the same long footer.
    assert verify(features(f"{a}\n{FOOTER}"), kept(f"{b}\n{FOOTER}")) is not None


@settings(max_examples=30, deadline=None)
@given(_TEXT, st.integers(min_value=2, max_value=6))
def test_a_copy_trimmed_to_its_opening_paragraphs_is_a_copy(text: str, keep: int) -> None:
    trimmed = "\n".join(text.split("\n")[:keep])
    if len(trimmed.split()) < MIN_CONTENT_WORDS:
        return
    assert verify(features(text), kept(trimmed)) is None
    assert set(lede_keys(list(features(text).opening))) & set(
        lede_keys(list(features(trimmed).opening))
    )


def test_lede_keys_are_stable_and_only_for_text() -> None:
    words = words_of("Russia and Ukraine agreed on Tuesday to stop attacks on ships.")
    keys = lede_keys(words)
    assert len(keys) == LEDE_KEYS and keys == lede_keys(list(words))
    assert all(len(key) == 13 for key in keys)
    assert lede_keys([]) == []


_NUMBERISH = st.text(alphabet=st.sampled_from(list("ab9 0.,:_'’-éÉ٣²\n")), max_size=60)


@settings(max_examples=500, deadline=None)
@given(_NUMBERISH | st.text(max_size=60))
def test_numbers_are_the_tokens_that_open_with_a_digit(text: str) -> None:
    # Features.of reads ASCII text's numbers with _NUMBER alone: _TOKEN's digit tokens.
    assert _numbers(text) == [t for t in _TOKEN.findall(text) if t[0].isdigit()]
