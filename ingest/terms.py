"""Term matching: folding with an offset map, term variants, and the presearch index.

Text is folded (casefold, accents stripped, curly quotes and dashes made plain) and cut into
words (Unicode \\w, plus the marks of scripts that write vowels as marks). Matching works on
whole words, so `nato` never fires inside `senator`, in any script.

The index holds every rule's terms at once (Lucene Monitor style presearch): one-word terms,
the most common, in a dict probed with the text's set of words (hashing: the cost follows the
text and the hits, not the number of rules); a one-word term written in two (`cease fire`,
`cease-fire`) through adjacent words joined; phrases in ONE Aho-Corasick automaton over the
words joined by single spaces, each key ` w1 w2 ` spaced so that every hit is whole words.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, product
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


@cache
def _split_re() -> re.Pattern[str]:
    return re.compile(f"({_word_re().pattern})")


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


# term id -> [(first word, last word), or a one-word key whose occurrences are not yet listed]
Places = dict[int, list[tuple[int, int] | str]]


class TextHits:
    """Which terms occur in one text; their positions are worked out only when asked for."""

    def __init__(self, places: Places, text_words: _Words) -> None:
        self.by_term = places  # term id -> word places; membership is all presearch needs
        self._words = text_words
        self._hits: dict[int, tuple[Hit, ...]] = {}
        self._word_starts: list[int] | None = None

    def of(self, term_id: int) -> tuple[Hit, ...]:
        """Where a term occurs, in text order (empty if it does not)."""
        if term_id not in self._hits:
            places: set[tuple[int, int]] = set()
            for place in self.by_term.get(term_id, ()):
                if isinstance(place, str):
                    places.update((i, i) for i in _indices(self._words.tokens, place))
                else:
                    places.add(place)
            hits = [Hit(*self._words.original(a, b), a, b) for a, b in places]
            self._hits[term_id] = tuple(sorted(hits, key=lambda h: (h.start, h.end)))
        return self._hits[term_id]

    def word_at(self, char_index: int) -> int:
        """Index of the word at or before an original character position."""
        if self._word_starts is None:
            self._word_starts = self._words.word_starts()
        return max(0, bisect_right(self._word_starts, char_index) - 1)


class _Words:
    """The words of a folded text and what separates them; positions only when needed."""

    def __init__(self, folded: Folded) -> None:
        self.folded = folded
        # With a group, split gives [separator, word, separator, word, ..., separator].
        self.parts: list[str] = _split_re().split(folded.text)
        self.tokens = self.parts[1::2]
        self._offsets: list[int] | None = None

    def _start(self, part: int) -> int:
        if self._offsets is None:
            self._offsets = list(accumulate(map(len, self.parts), initial=0))
        return self._offsets[part]

    def original(self, first: int, last: int) -> tuple[int, int]:
        return self.folded.to_original(self._start(2 * first + 1), self._start(2 * last + 2))

    def joinable(self, i: int) -> bool:
        """May words i and i+1 be read as one (`cease-fire`, `cease fire`)?"""
        between = self.parts[2 * i + 2]
        if between == "-":
            return True
        a, b = self.tokens[i], self.tokens[i + 1]
        long_enough = min(len(a), len(b)) >= _MIN_SPLIT_PART
        return between == " " and long_enough and a.isalpha() and b.isalpha()

    def word_starts(self) -> list[int]:
        return [self.original(i, i)[0] for i in range(len(self.tokens))]


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


class TermIndex:
    """Every rule's terms in one index; `search` finds all of them in one pass over a text.

    One-word keys (most terms) live in a dict and are found by intersecting it with the text's
    set of words: hashing, so the cost follows the words and the hits, not the number of keys.
    A one-word term written as two words (`cease fire`) is found by looking up each pair of
    adjacent words joined together, the same way. Phrases go into one Aho-Corasick automaton
    over the text's words joined by single spaces.
    """

    def __init__(self, terms: Iterable[tuple[str, TermKind]]) -> None:
        self._ids: dict[tuple[str, TermKind], int] = {}
        keys: dict[tuple[str, ...], set[int]] = {}
        compounds: set[str] = set()
        for text, kind in terms:
            term_id = self._ids.setdefault((text, kind), len(self._ids))
            for variant in variants(text, kind):
                keys.setdefault(variant, set()).add(term_id)
                if kind == "word" and len(variant) == 1:
                    compounds.add(variant[0])
        self._single = {k[0]: tuple(sorted(v)) for k, v in keys.items() if len(k) == 1}
        self._compounds = {k: v for k, v in self._single.items() if k in compounds}
        # Set intersection probes with the words' cached hashes: the fastest lookup CPython has.
        self._single_keys = frozenset(self._single)
        self._compound_keys = frozenset(self._compounds)
        self._automaton = ahocorasick.Automaton()
        for key, ids in keys.items():
            if len(key) > 1:
                self._automaton.add_word(" " + " ".join(key) + " ", (len(key), tuple(sorted(ids))))
        self._phrases = len(self._automaton) > 0
        if self._phrases:
            self._automaton.make_automaton()

    def id_of(self, text: str, kind: TermKind = "word") -> int:
        return self._ids[(text, kind)]

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, text: str) -> TextHits:
        """Every term of the index found in the text, by term id."""
        found: Places = {}
        text_words = _Words(fold(text))
        tokens = text_words.tokens
        for key in self._single_keys.intersection(tokens):
            for term_id in self._single[key]:  # where it occurs is worked out when asked
                found.setdefault(term_id, []).append(key)
        # Adjacent words joined, to find `ceasefire` written `cease fire` or `cease-fire`.
        joined = self._compound_keys.intersection(map(str.__add__, tokens, tokens[1:]))
        pairs = list(map(str.__add__, tokens, tokens[1:])) if joined else []
        for key in joined:
            for index in _indices(pairs, key):
                if text_words.joinable(index):
                    _add(found, self._compounds[key], (index, index + 1))
        if self._phrases and tokens:
            self._scan(" " + " ".join(tokens) + " ", found)
        return TextHits(found, text_words)

    def _scan(self, encoded: str, found: Places) -> None:
        for end, (count, ids) in self._automaton.iter(encoded):
            last = encoded.count(" ", 0, end) - 1  # spaces before the key's end: its last word
            _add(found, ids, (last - count + 1, last))


def _add(found: Places, ids: tuple[int, ...], place: tuple[int, int] | str) -> None:
    for term_id in ids:
        found.setdefault(term_id, []).append(place)


def _indices(items: list[str], item: str) -> list[int]:
    """Every position of item in items (list.index runs in C)."""
    found: list[int] = []
    index = -1
    while True:
        try:
            index = items.index(item, index + 1)
        except ValueError:
            return found
        found.append(index)


_SENTENCE_END_RE = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s)|\n")
_ABBREVIATIONS = frozenset(
    str.split("mr mrs ms dr st gen lt col sen rep gov prof jr sr no vs etc sgt capt maj adm rev")
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
