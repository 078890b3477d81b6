"""Term folding: folded text with a map back to the original, words, variants, sentences.

Text is folded (casefold, accents stripped, curly quotes and dashes made plain) and cut into
words (Unicode \\w, plus the marks of scripts that write vowels as marks). Matching works on
whole words, so `nato` never fires inside `senator`, in any script. A term stands for a few
spellings: plurals and joined phrases for words, transliterations for names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import product
from typing import Literal

TermKind = Literal["word", "name"]

_PLAIN = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u0060\u00b4", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\t\n\r\x0b\x0c\u00a0\u2007\u202f\u2028\u2029", " "),
        "\u0640": "",  # Arabic tatweel only stretches a word
    }
)
_MAX_NAME_VARIANTS = 32


@cache
def _fold_char(char: str) -> str:
    plain = char.translate(_PLAIN).casefold()
    code = ord(char)
    # Accents are stripped for alphabets where they are optional in practice (Latin, Greek,
    # Cyrillic, Hebrew and Arabic points); in Indic and other scripts the marks are letters.
    if code < 0x0800 or 0x1E00 <= code < 0x2000:
        decomposed = unicodedata.normalize("NFKD", plain)
        return "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of a term: original character span and word positions."""

    start: int
    end: int
    first_word: int
    last_word: int


@dataclass(frozen=True, slots=True)
class Folded:
    """Folded text, and for each folded character the index of the original one."""

    text: str
    offsets: tuple[int, ...] | None  # None: the same positions as the original
    original_length: int

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the folded span [start, end)."""
        if self.offsets is None:
            return start, end
        if start >= end:
            point = self.offsets[start] if start < len(self.offsets) else self.original_length
            return point, point
        return self.offsets[start], self.offsets[end - 1] + 1


# The characters folding can change: every non-ASCII one, and of ASCII the capitals, the
# whitespace made plain and the backtick. All others fold to themselves.
_CHANGEABLE = re.compile("[^\x00-\x7f]|[A-Z\t\n\r\x0b\x0c`]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def _fold_match(found: re.Match[str]) -> str:
    return _fold_char(found.group())


def fold(text: str) -> Folded:
    """Fold text for matching, keeping a map back to the original for snippets."""
    if text.isascii():
        return Folded(text.translate(_PLAIN).lower(), None, len(text))
    if all(len(_fold_char(c)) == 1 for c in set(_NON_ASCII.findall(text))):
        # One character for one everywhere: positions are unchanged, and only the characters
        # that change are visited (a Python call for each character costs more than the rest).
        return Folded(_CHANGEABLE.sub(_fold_match, text), None, len(text))
    parts: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        parts.append(folded)
        offsets.extend([index] * len(folded))
    return Folded("".join(parts), tuple(offsets), len(text))


@cache
def _word_re() -> re.Pattern[str]:
    # Vowel signs in Indic and Southeast Asian scripts are marks, not \w: keep them in the word.
    marks = [chr(c) for c in range(0x0800, 0x10000) if unicodedata.category(chr(c)) in ("Mn", "Mc")]
    return re.compile("[\\w" + re.escape("".join(marks)) + "]+")


def word_pattern() -> re.Pattern[str]:
    """What a word is, in any script: for words of original (unfolded) text too."""
    return _word_re()


@cache
def _split_re() -> re.Pattern[str]:
    return re.compile(f"({_word_re().pattern})")


def split_words(folded_text: str) -> list[str]:
    """A folded text as [separator, word, separator, word, ..., separator]."""
    return _split_re().split(folded_text)


def words(text: str) -> list[str]:
    """The folded words of a term or name."""
    if text.isalpha() and text.isascii():
        return [text.lower()]  # most terms: one plain word, which folding only lowers
    return _word_re().findall(fold(text).text)


def _plural_forms(word: str) -> list[str]:
    if not (word.isascii() and word.isalpha() and len(word) > 1):
        return [word]
    if word.endswith(("s", "x", "z", "ch", "sh", "o")):
        return [word, word + "es", word + "s"]  # taxes, buses, vetoes; but also memos
    if word.endswith("y") and word[-2] not in "aeiou":
        return [word, word[:-1] + "ies"]  # parties (a bare `partys` is not English)
    return [word, word + "s"]


def word_variants(parts: Sequence[str]) -> set[tuple[str, ...]]:
    """Spellings of a term: plurals of its last word; a phrase of 2-3 words also joined."""
    if not parts:
        return set()
    shapes = [tuple(parts)]
    if 2 <= len(parts) <= 3:
        shapes.append(("".join(parts),))
    return {(*shape[:-1], last) for shape in shapes for last in _plural_forms(shape[-1])}


# Transliterated Slavic surnames end in -iy/-y/-yy/-ii/-i (Zelenskiy, Zelensky, Zelenskyy) and
# -ov/-off, -ev/-eff (Rachmaninov, Rachmaninoff). Endings of one group stand in for each other.
_ENDING_GROUPS = (("iy", "yy", "ii", "yi", "ij", "y", "i"), ("off", "ov"), ("eff", "ev"))


def _spellings(word: str) -> set[str]:
    found = {word}
    for group in _ENDING_GROUPS:
        for ending in group:  # longest first within a group, so `iy` wins over `y`
            stem = word[: -len(ending)]
            if (
                word.endswith(ending)
                and len(stem) >= 4
                and stem.isascii()
                and stem[-1] not in "aeiouy"
            ):
                found.update(stem + e for e in group)
                break
    return found


def name_variants(parts: Sequence[str]) -> set[tuple[str, ...]]:
    """Spellings of a name: each word with its transliteration variants."""
    combos = product(*(sorted(_spellings(p)) for p in parts))
    return {tuple(c) for _, c in zip(range(_MAX_NAME_VARIANTS), combos, strict=False)}


def variants(text: str, kind: TermKind) -> set[tuple[str, ...]]:
    parts = words(text)
    return word_variants(parts) if kind == "word" else name_variants(parts)


_SENTENCE_END_RE = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s)|\n")
ABBREVIATIONS = frozenset(
    str.split("mr mrs ms dr st gen lt col sen rep gov prof jr sr no vs etc sgt capt maj adm rev")
)


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a text: a cheap splitter at . ! ? and line ends (titles are one line)."""
    spans, start = [], 0
    for match in _SENTENCE_END_RE.finditer(text):
        before = text[start : match.start()].rsplit(None, 1)
        last_word = before[-1].lower() if before else ""
        abbreviated = last_word in ABBREVIATIONS or len(last_word) == 1 or "." in last_word
        if match.group() == "." and abbreviated:
            continue  # `Mr. Putin`, `U.S.`, `J. Smith`
        if text[start : match.end()].strip():
            spans.append((start, match.end()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans
