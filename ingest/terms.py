"""Term matching: folding with an offset map, term variants, and the presearch index.

Text is folded (casefold, accents stripped, curly quotes and dashes made plain) and cut into
words (Unicode \\w, plus the marks of scripts that write vowels as marks). The words are joined
with single spaces into one string, and every term variant is a key ` w1 w2 ` in ONE
Aho-Corasick automaton: the spaces around a key make every hit a whole-word hit, so `nato`
never fires inside `senator`, and one pass over the text finds every rule's terms at once.
Compounds written apart (`cease fire`, `cease-fire`) are found by a second pass over adjacent
word pairs joined together, which keeps the key count at a few per term.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import product
from typing import Literal

import ahocorasick

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
_MIN_SPLIT_PART = 3  # `cease fire` joins to `ceasefire`; `is land` must not become `island`
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


def fold(text: str) -> Folded:
    """Fold text for matching, keeping a map back to the original for snippets."""
    if text.isascii():
        return Folded(text.translate(_PLAIN).lower(), None, len(text))
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


def words(text: str) -> list[str]:
    """The folded words of a term or name."""
    return _word_re().findall(fold(text).text)


@dataclass(frozen=True, slots=True)
class Hit:
    """One occurrence of a term: original character span and word positions."""

    start: int
    end: int
    first_word: int
    last_word: int


@dataclass(frozen=True, slots=True)
class TextHits:
    """Every term found in one text, and where each word of the text starts."""

    by_term: dict[int, tuple[Hit, ...]]
    word_starts: tuple[int, ...]  # original start of each word, to place entity mentions

    def word_at(self, char_index: int) -> int:
        """Index of the word at or before an original character position."""
        return max(0, bisect_right(self.word_starts, char_index) - 1)


def _plural_forms(word: str) -> list[str]:
    if not (word.isascii() and word.isalpha() and len(word) > 1):
        return [word]
    forms = [word, word + "s", word + "es"]
    if word.endswith("y") and word[-2] not in "aeiou":
        forms.append(word[:-1] + "ies")
    return forms


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


class TermIndex:
    """One automaton over every term; `search` returns the hits of all terms in one pass."""

    def __init__(self, terms: Iterable[tuple[str, TermKind]]) -> None:
        self._ids: dict[tuple[str, TermKind], int] = {}
        keys: dict[str, set[int]] = {}
        for text, kind in terms:
            term_id = self._ids.setdefault((text, kind), len(self._ids))
            for variant in variants(text, kind):
                keys.setdefault(" " + " ".join(variant) + " ", set()).add(term_id)
        self._automaton = ahocorasick.Automaton()
        for key, ids in keys.items():
            self._automaton.add_word(key, (key.count(" ") - 1, tuple(sorted(ids))))
        if keys:
            self._automaton.make_automaton()
        self._empty = not keys

    def id_of(self, text: str, kind: TermKind = "word") -> int:
        return self._ids[(text, kind)]

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, text: str) -> TextHits:
        folded = fold(text)
        spans = [m.span() for m in _word_re().finditer(folded.text)]
        originals = [folded.to_original(s, e) for s, e in spans]
        found: dict[int, list[Hit]] = {}
        if not self._empty and spans:
            tokens = [folded.text[s:e] for s, e in spans]
            self._scan(tokens, originals, found)
            self._scan_pairs(folded.text, spans, tokens, originals, found)
        hits = {k: tuple(sorted(set(v), key=lambda h: (h.start, h.end))) for k, v in found.items()}
        return TextHits(hits, tuple(s for s, _ in originals))

    def _scan(
        self, tokens: list[str], originals: list[tuple[int, int]], found: dict[int, list[Hit]]
    ) -> None:
        encoded = " " + " ".join(tokens) + " "
        starts = _token_starts(tokens)
        for end, (count, ids) in self._automaton.iter(encoded):
            last = bisect_right(starts, end - 1) - 1
            first = last - count + 1
            hit = Hit(originals[first][0], originals[last][1], first, last)
            for term_id in ids:
                found.setdefault(term_id, []).append(hit)

    def _scan_pairs(
        self,
        folded: str,
        spans: list[tuple[int, int]],
        tokens: list[str],
        originals: list[tuple[int, int]],
        found: dict[int, list[Hit]],
    ) -> None:
        pairs = [i for i in range(len(tokens) - 1) if _joinable(folded, spans, tokens, i)]
        if not pairs:
            return
        joined = [tokens[i] + tokens[i + 1] for i in pairs]
        starts = _token_starts(joined)
        for end, (count, ids) in self._automaton.iter(" " + " ".join(joined) + " "):
            if count != 1:
                continue  # a phrase key would straddle two unrelated pairs
            first = pairs[bisect_right(starts, end - 1) - 1]
            hit = Hit(originals[first][0], originals[first + 1][1], first, first + 1)
            for term_id in ids:
                found.setdefault(term_id, []).append(hit)


def _token_starts(tokens: list[str]) -> list[int]:
    starts, position = [], 1
    for token in tokens:
        starts.append(position)
        position += len(token) + 1
    return starts


def _joinable(folded: str, spans: list[tuple[int, int]], tokens: list[str], i: int) -> bool:
    between = folded[spans[i][1] : spans[i + 1][0]]
    if between == "-":
        return True
    short = min(len(tokens[i]), len(tokens[i + 1])) < _MIN_SPLIT_PART
    return between == " " and not short and tokens[i].isalpha() and tokens[i + 1].isalpha()


_SENTENCE_END_RE = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s)|\n")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "gen",
        "lt",
        "col",
        "sen",
        "rep",
        "gov",
        "prof",
        "jr",
        "sr",
        "no",
        "vs",
        "etc",
        "sgt",
        "capt",
        "maj",
        "adm",
        "rev",
    ]
)


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a text: a cheap splitter at . ! ? and line ends (titles are one line)."""
    spans, start = [], 0
    for match in _SENTENCE_END_RE.finditer(text):
        before = text[start : match.start()].rsplit(None, 1)
        last_word = before[-1].lower() if before else ""
        abbreviated = last_word in _ABBREVIATIONS or len(last_word) == 1 or "." in last_word
        if match.group() == "." and abbreviated:
            continue  # `Mr. Putin`, `U.S.`, `J. Smith`
        if text[start : match.end()].strip():
            spans.append((start, match.end()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans
