"""The presearch index: every rule's terms at once, found in one pass over a text.

The index holds every rule's terms at once (Lucene Monitor style presearch): one-word terms,
the most common, in a dict probed with the text's set of words (hashing: the cost follows the
text and the hits, not the number of rules); a one-word term written in two (`cease fire`,
`cease-fire`) through adjacent words joined; phrases in ONE Aho-Corasick automaton over the
words joined by single spaces, each key ` w1 w2 ` spaced so that every hit is whole words.
Terms written with capitals are indexed folded like the others; only their hits, few by
nature, are then checked against the case of the original text (`casing.py`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from itertools import accumulate

import ahocorasick

from ingest.match.casing import CasedTerm, Layout, Rejected, check
from ingest.match.nlp import common_words
from ingest.match.terms import Folded, Hit, TermKind, fold, split_words, variants

_MIN_SPLIT_PART = 3  # `cease fire` joins to `ceasefire`; `is land` must not become `island`


# term id -> [(first word, last word), or a one-word key whose occurrences are not yet listed]
Places = dict[int, list[tuple[int, int] | str]]


class TextHits:
    """Which terms occur in one text; their positions are worked out only when asked for.

    A term written with capitals is found folded like any other, then stays pending until
    someone needs it: its hits are checked against the case of the text only then
    (`check_case`), so that presearch checks only the terms of rules that could match.
    """

    def __init__(
        self,
        places: Places,
        text_words: _Words,
        pending: Mapping[int, CasedTerm] | None = None,
        is_common: Callable[[str], bool] = lambda word: False,
    ) -> None:
        self.found = places  # term id -> word places, pending terms included
        self.pending = dict(pending or {})  # capitalised terms whose case is not checked yet
        self._words = text_words
        self._is_common = is_common
        self._layout: Layout | None = None
        self._hits: dict[int, tuple[Hit, ...]] = {}
        self._rejected: dict[int, tuple[Rejected, ...]] = {}
        self._word_starts: list[int] | None = None

    @property
    def by_term(self) -> Places:
        """Term id -> word places, every term's case checked: membership is what rules need."""
        if self.pending:
            self.check_case(list(self.pending))
        return self.found

    def check_case(self, term_ids: Iterable[int]) -> None:
        """Keep only the hits whose case supports each term; a term left without is not found."""
        for term_id in term_ids:
            term = self.pending.pop(term_id, None)
            if term is None:
                continue
            if self._layout is None:
                self._layout = Layout(self._words.text, self._is_common)
            kept, rejected = check(term, self._places(term_id), self._layout)
            self._hits[term_id], self._rejected[term_id] = tuple(kept), tuple(rejected)
            if not kept:
                del self.found[term_id]

    def rejected(self, term_id: int) -> tuple[Rejected, ...]:
        """Hits of the folded term that its capitals ruled out, with the reason."""
        if term_id in self.pending:
            self.check_case((term_id,))
        return self._rejected.get(term_id, ())

    def of(self, term_id: int) -> tuple[Hit, ...]:
        """Where a term occurs, in text order (empty if it does not)."""
        if term_id in self.pending:
            self.check_case((term_id,))
        return self._places(term_id)

    def _places(self, term_id: int) -> tuple[Hit, ...]:
        if term_id not in self._hits:
            places: set[tuple[int, int]] = set()
            for place in self.found.get(term_id, ()):
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

    def __init__(self, folded: Folded, text: str) -> None:
        self.folded = folded
        self.text = text  # the original, for the case of capitalised terms
        # With a group, split gives [separator, word, separator, word, ..., separator].
        self.parts = split_words(folded.text)
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


class TermIndex:
    """Every rule's terms in one index; `search` finds all of them in one pass over a text.

    One-word keys (most terms) live in a dict and are found by intersecting it with the text's
    set of words: hashing, so the cost follows the words and the hits, not the number of keys.
    A one-word term written as two words (`cease fire`) is found by looking up each pair of
    adjacent words joined together, the same way. Phrases go into one Aho-Corasick automaton
    over the text's words joined by single spaces.
    """

    def __init__(
        self,
        terms: Iterable[tuple[str, TermKind]],
        is_common: Callable[[str], bool] | None = None,
    ) -> None:
        self._ids: dict[tuple[str, TermKind], int] = {}
        self._cased: dict[int, CasedTerm] = {}  # word terms written with capitals
        self._is_common = is_common or _is_stop_word
        keys: dict[tuple[str, ...], set[int]] = {}
        compounds: set[str] = set()
        for text, kind in terms:
            term_id = self._ids.setdefault((text, kind), len(self._ids))
            cased = CasedTerm.of(text) if kind == "word" else None
            if cased is not None:
                self._cased[term_id] = cased
            for variant in variants(text, kind):
                keys.setdefault(variant, set()).add(term_id)
                if kind == "word" and len(variant) == 1:
                    compounds.add(variant[0])
        self._single = {k[0]: tuple(sorted(v)) for k, v in keys.items() if len(k) == 1}
        # Set intersection probes with the words' cached hashes: the fastest lookup CPython has.
        # Words and joined pairs probe this one table: with many rules a second table of the
        # same keys would not stay in cache beside it, and the probes are most of the cost.
        self._single_keys = frozenset(self._single)
        self._compounds = frozenset(compounds)  # checked only for pairs that hit a key
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
        text_words = _Words(fold(text), text)
        tokens = text_words.tokens
        for key in self._single_keys.intersection(tokens):
            for term_id in self._single[key]:  # where it occurs is worked out when asked
                found.setdefault(term_id, []).append(key)
        # Adjacent words joined, to find `ceasefire` written `cease fire` or `cease-fire`.
        joined = self._single_keys.intersection(map(str.__add__, tokens, tokens[1:]))
        joined &= self._compounds
        pairs = list(map(str.__add__, tokens, tokens[1:])) if joined else []
        for key in joined:
            for index in _indices(pairs, key):
                if text_words.joinable(index):
                    _add(found, self._single[key], (index, index + 1))
        if self._phrases and tokens:
            self._scan(" " + " ".join(tokens) + " ", found)
        cased = self._cased.keys() & found.keys() if self._cased else ()
        pending = {i: self._cased[i] for i in cased}
        return TextHits(found, text_words, pending, self._is_common)

    def _scan(self, encoded: str, found: Places) -> None:
        for end, (count, ids) in self._automaton.iter(encoded):
            last = encoded.count(" ", 0, end) - 1  # spaces before the key's end: its last word
            _add(found, ids, (last - count + 1, last))


def _is_stop_word(word: str) -> bool:
    return word in common_words()  # loaded on the first capitalised term that needs it


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
