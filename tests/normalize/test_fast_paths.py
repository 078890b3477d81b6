"""The fast paths of the normalize stage give what their plain definitions give.

Each reference below is the definition written the slow, obvious way (the code these fast
paths replaced); the product code must agree with it on any text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.normalize.article import _folded
from ingest.normalize.language import PREFIX_CHARS, detect_language
from ingest.normalize.simhash import HASH_BITS, shingles, simhash, simhash_pair
from ingest.normalize.textnorm import _collapse_spaces, clean_text, fold_for_dedup

pytestmark = pytest.mark.timeout(120)

_WORDS = st.sampled_from(
    ["Kyiv", "ceasefire", "Ukraine's", "café", "ÉCOLE", "“quoted”", "—", "İstanbul", "straße",
     "Зеленський", "北京", "a", "the", "talks", "\n", "  ", "x1", "ﬁnal", "𝕬"]
)  # fmt: skip
_TEXTS = st.one_of(st.text(max_size=200), st.lists(_WORDS, max_size=80).map(" ".join))
_ODD = st.text(st.characters(codec="utf-8"), max_size=60)  # controls, marks, odd spaces


_PUNCT = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′`´", "'"),
        **dict.fromkeys("“”„‟″«»", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
    }
)


def reference_fold(text: str) -> str:
    def strip_marks(value: str) -> str:
        decomposed = unicodedata.normalize("NFKD", value)
        return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")

    folded = strip_marks(strip_marks(text).casefold())
    return re.sub(r"\s+", " ", folded.translate(_PUNCT)).strip()


def reference_clean_text(text: str) -> str:
    breaks = {ord("\r"): "\n", 0x2028: "\n", 0x2029: "\n", 0x0B: "\n", 0x0C: "\n", 0x85: "\n"}
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").translate(breaks))
    text = text.translate(dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff\u180e")))
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")
    lines = (re.sub(r"[^\S\n]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def reference_simhash(text: str, key: bytes = b"") -> int:
    hashes = [
        int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8, key=key).digest(), "big")
        for s in shingles(text)
    ]
    value = 0
    for bit in range(HASH_BITS):
        if sum((h >> bit) & 1 for h in hashes) > len(hashes) / 2:
            value |= 1 << bit
    return value


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_simhash_is_the_per_bit_majority_of_shingle_hashes(text: str) -> None:
    assert simhash(text) == reference_simhash(text)
    assert simhash_pair(text) == (
        reference_simhash(text),
        reference_simhash(text, b"wirewatch-simhash-check"),
    )


def test_simhash_of_two_shingles_keeps_the_bits_both_set() -> None:
    # 1 of 2 is not a majority: a tie leaves the bit clear.
    first, second = (reference_simhash(s) for s in shingles("one two three four"))
    assert simhash("one two three four") == first & second


@settings(max_examples=500, deadline=None)
@given(st.one_of(_TEXTS, _ODD))
def test_fold_for_dedup_is_its_definition(text: str) -> None:
    assert fold_for_dedup(text) == reference_fold(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_TEXTS, _ODD), st.one_of(_TEXTS, _ODD))
def test_title_and_body_folded_apart_join_to_the_fold_of_both(title: str, body: str) -> None:
    assert _folded(title, body) == reference_fold(f"{title}\n{body}")


@settings(max_examples=500, deadline=None)
@given(st.one_of(_TEXTS, _ODD))
def test_clean_text_is_its_definition(text: str) -> None:
    assert clean_text(text) == reference_clean_text(text)
    assert all(c in "\n" or unicodedata.category(c) != "Cc" for c in clean_text(text))


def test_language_is_read_from_a_prefix_cut_at_a_word() -> None:
    english = "Russia and Ukraine agreed on Tuesday to stop attacks on shipping. "
    french = "La Russie et l'Ukraine ont accepté mardi de cesser les attaques contre les navires. "
    long_text = english * (PREFIX_CHARS // len(english) + 1) + french * 40
    assert detect_language(long_text) == "en"  # the French tail is past the prefix
    assert detect_language(french * 40 + english * 40) == "fr"


def test_language_of_a_text_opening_with_figures_reads_on() -> None:
    figures = "12.5 " * (PREFIX_CHARS // 5 + 10)
    assert detect_language(figures + "Russland und die Ukraine haben sich geeinigt.") == "de"
    assert detect_language(figures) == "und"


def test_clean_text_deletes_exactly_the_controls_and_invisibles() -> None:
    every = "".join(map(chr, range(0x20000)))  # all planes with assigned controls and more
    breaks = "\r\x0b\x0c\x85\u2028\u2029"
    kept = set(clean_text(every.replace("\n", "").translate(dict.fromkeys(map(ord, breaks)))))
    invisible = set("\u00ad\u200b\u2060\ufeff\u180e")
    dropped = {c for c in every if unicodedata.category(c) == "Cc" and c not in "\t\n"}
    assert not kept & (dropped | invisible)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_TEXTS, _ODD))
def test_html_text_whitespace_is_collapsed_as_by_the_regex(data: str) -> None:
    assert _collapse_spaces(data) == re.sub(r"\s+", " ", data)
