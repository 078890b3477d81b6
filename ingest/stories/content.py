"""What of an article is the story's own, and what two copies of one story must agree on.

Feeds, press wires and outlets append the same text to every item (a syndication footer, an
"About the company" paragraph, a disclaimer), and put lines above the lede (the headline again,
a kicker). A comparison of whole texts mostly compares that text, so two different stories that
share it look like copies, and one story under two headlines does not. Two defences, both here
as pure functions (the registry and `rules test` apply them):

* `split_content`/`content_lines` drop what is not the story's own before anything is compared:
  heading lines above the first sentence (`normalize.headings`), editor's notes ("(Updates with
  ...)", "UPDATE 2-"), and sentences the caller knows repeat across the stories of one source
  (the registry keeps per-source counts of `unit_key`s in Redis).
* `verify` decides a candidate pair on what makes a story its own, so it holds for the first
  item of a new source too, when there is no history yet: each opening (the lede sentence) must
  be found in the other text, the shorter text must be mostly in the longer, and the
  distinctive words of the openings (numbers, names, places) must not disagree on both sides
  (same-template bulletins that differ only in place and numbers are different stories). Items
  with little text of their own never merge. The article at hand is compared in full
  (`Features`) with what was kept of the earlier one (`sketch.Kept`: its opening, a sample of its
  word pairs, its names and numbers), and every estimate errs towards "different".

Copies of one story survive all three tests: syndication re-titles, adds a credit line or an
update note, trims the tail, copy-edits spelling; it keeps the lede and its names and numbers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ingest.normalize.headings import is_editor_note, leading_headings
from ingest.normalize.textnorm import fold_for_dedup, split_sentences
from ingest.stories.sketch import (
    DISTINCTIVE_MAX,
    OPENING_WORDS,
    RANK_MULTIPLIER,
    VOCABULARY_MAX,
    Kept,
    bottom_sample,
    pair_hashes_of,
    word_hash,
    word_hashes,
)

# Chosen with bench/bench_dedup_cases.py over the labelled cases in tests/stories/cases/ (104
# items in 22 groups: 32 copy pairs, 246 pairs of different stories), which measured:
#   copies: every lede sentence shares >= 0.86 of its word pairs with the other text (median
#   1.00); the shorter text shares >= 0.70 of its pairs with the longer (median 0.99);
#   different stories: lede share median 0.00; the few at 1.00 are template notices and shared
#   headers/disclaimers, stopped by the names and numbers or by the cover share.
#   With these values: 0 false merges of 246 (and none across groups) and 0 missed merges of
#   32, in one window, each group alone (no history) and in reverse order; SimHash alone, as
#   before, merged 63 of the 246 (25.6%) and missed 19 of the 32 copies (59.4%).
#   LEDE_SHARE anywhere in 0.2-0.8 gives the same result (the margin); COVER_SHARE 0.3 lets 3
#   different pairs through (stories after a shared top disclaimer), 0.7 misses 2 copies.
# A false merge loses an alert and a missed merge only repeats one, so every test errs towards
# "different story": the values sit well inside the copies' range.
MIN_CONTENT_WORDS = 25  # less text of its own than this: never merged (only exact repeats)
LEDE_SENTENCES = 2  # the lede: the first sentences of the content ...
LEDE_MIN_WORDS = 4  # ... that have this many words ("Police seek witnesses." is skipped)
LEDE_SHARE = 0.5  # share of each lede sentence's word pairs that must occur in the other text
COVER_SHARE = 0.5  # share of the shorter text's word pairs that must occur in the longer one
OPENING_SENTENCES = 3  # where the distinctive words of a story are looked for
NAME_MIN_CHARS = 6  # names this long match a spelling within two letters (Zelenskiy, Zelensky)
UNIT_HEX = 16  # 64-bit sentence keys for the per-source counts
# The other text is known by its `Kept` form: a share is estimated on at least this many of
# its sampled pairs, else counted on what is known for sure (which errs towards "different").
SAMPLED_MIN = 12

_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_TOKEN = re.compile(r"\d+(?:[.,:]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)?")
# British spellings to American ones, so a copy-edited copy compares equal. Applied to every
# word on both sides, so a rule that also rewrites an unrelated word costs nothing.
_SPELLING = (
    ("isations", "izations"), ("isation", "ization"), ("ising", "izing"), ("ised", "ized"),
    ("isers", "izers"), ("iser", "izer"), ("ises", "izes"), ("ise", "ize"), ("yse", "yze"),
    ("ours", "ors"), ("our", "or"), ("ence", "ense"), ("tres", "ters"), ("tre", "ter"),
    ("ogue", "og"), ("lled", "led"), ("lling", "ling"), ("wards", "ward"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    words: tuple[str, ...]  # folded: case, accents, British spelling
    key: str  # stable whatever the sentence's case, accents or quote style

    @classmethod
    def of(cls, text: str) -> Sentence:
        words = tuple(words_of(text))
        joined = " ".join(words).encode("utf-8")
        return cls(text, words, hashlib.blake2b(joined, digest_size=UNIT_HEX // 2).hexdigest())


Lines = list[list[Sentence]]  # a text: its lines, each a list of sentences


def split_content(body: str, title: str = "") -> Lines:
    """The sentences of each line of `body`, editor's notes and the heading lines above the
    first sentence (the title again, a kicker: see `headings`) left out; words folded once."""
    raw = body.split("\n")
    headings = leading_headings(raw, title)
    lines: Lines = []
    for line in raw[headings if headings < len(raw) else 0 :]:
        if line.strip() and not is_editor_note(line):
            lines.append([Sentence.of(text) for text in split_sentences(line)])
    return [line for line in lines if line]


def own_content(lines: Lines, repeated: Callable[[str], bool]) -> Lines:
    """`lines` without the sentences whose key is `repeated` (a source's boilerplate)."""
    kept = [[s for s in line if not repeated(s.key)] for line in lines]
    return [line for line in kept if line]


def content_lines(body: str, repeated: Callable[[str], bool] = lambda _key: False) -> list[str]:
    """The lines of `body` that are the story's own: editor's notes and sentences `repeated`
    (by `unit_key`) left out."""
    return [" ".join(s.text for s in line) for line in own_content(split_content(body), repeated)]


def unit_key(sentence: str) -> str:
    return Sentence.of(sentence).key


def _british_endings(spelling: Iterable[tuple[str, str]]) -> re.Pattern[str]:
    """A British ending that closes a word with at least three letters before it ("rise" and
    "tour" stay). Branches by first letter: the scan (in C) skips the letters no ending opens
    with and tries one branch at the others; the length is checked only after an ending."""
    by_first: dict[str, list[str]] = {}
    for british, _american in spelling:
        rest = f"{re.escape(british[1:])}\\b(?<=\\w{{{len(british) + 3}}})"
        by_first.setdefault(british[0], []).append(rest)
    branches = [f"{re.escape(first)}(?:{'|'.join(rests)})" for first, rests in by_first.items()]
    return re.compile(f"(?:{'|'.join(branches)})")


# No ending ends another, so a word has at most one: the order of _SPELLING does not matter.
_BRITISH_ENDINGS = _british_endings(_SPELLING)
_AMERICAN = dict(_SPELLING).__getitem__


def words_of(text: str) -> list[str]:
    # ASCII needs no accent stripping: casefolding is the whole fold for the words. Spellings
    # are folded in one pass over the text, not word by word: as fast as a cache of folded
    # words was when warm, and nothing kept (such a cache grew with every new name and number).
    folded = text.casefold() if text.isascii() else fold_for_dedup(text)
    return _WORD.findall(_BRITISH_ENDINGS.sub(lambda found: _AMERICAN(found[0]), folded))


def _number(token: str) -> str:
    # "7,512" and "7512" are one number; "03:12" and "3:12" one time.
    parts = re.split(r"([.:])", token.replace(",", ""))
    return "".join(p.lstrip("0") or "0" if p not in ".:" else p for p in parts)


def _numbers(text: str) -> list[str]:
    """The tokens of `text` that open with a digit."""
    if text.isascii():  # one cheaper pass: in ASCII a digit is \d, which no letter run takes
        return _NUMBER.findall(text)
    return [t for t in _TOKEN.findall(text) if t[0].isdigit()]  # "²" is a digit, not \d


def _distinctive(sentences: Iterable[Sentence]) -> set[str]:
    """Numbers, and capitalised words that do not open a sentence: names, places, days."""
    found: set[str] = set()
    for sentence in sentences:
        for index, token in enumerate(_TOKEN.findall(sentence.text)):
            if token[0].isdigit():
                found.add(_number(token))
            elif index > 0 and token[0].isupper():
                found.update(words_of(token))
    return found


@dataclass(frozen=True, slots=True)
class Features:
    """What `verify` compares of the article at hand, computed once per text."""

    words: int  # words of content
    lede: tuple[frozenset[int], ...]  # word pairs of each lede sentence (hashed)
    pairs: frozenset[int]  # word pairs of the whole content (hashed)
    vocabulary: frozenset[str]  # every word and number of title and content
    distinctive: frozenset[str]  # numbers and names of the opening sentences
    opening: tuple[str, ...]  # the first OPENING_WORDS words
    opening_hashes: tuple[int, ...]  # their `word_hash`es
    lede_spans: tuple[tuple[int, int], ...]  # the lede sentences' word positions in `opening`
    title_words: tuple[str, ...]
    numbers: tuple[str, ...]  # of title and content, in order, each once

    @classmethod
    def of(cls, title: str, lines: Lines) -> Features:
        sentences = [s for line in lines for s in line]
        content = [w for s in sentences for w in s.words]
        spans = _lede_spans(sentences)
        numbers = [_number(t) for t in _numbers(title)]
        numbers += [_number(t) for s in sentences for t in _numbers(s.text)]
        title_words = words_of(title)
        hashes = word_hashes(content)
        pairs = pair_hashes_of(hashes)  # pair i: words i and i + 1
        return cls(
            words=len(content),
            lede=tuple(frozenset(pairs[a : b - 1]) for a, b in spans),
            pairs=frozenset(pairs),
            vocabulary=frozenset(title_words) | frozenset(content) | frozenset(numbers),
            distinctive=frozenset(_distinctive(sentences[:OPENING_SENTENCES])),
            opening=tuple(content[:OPENING_WORDS]),
            opening_hashes=tuple(hashes[:OPENING_WORDS]),
            lede_spans=tuple((a, min(b, OPENING_WORDS)) for a, b in spans if a < OPENING_WORDS),
            title_words=tuple(title_words),
            numbers=tuple(dict.fromkeys(numbers)),
        )

    @classmethod
    def of_text(cls, title: str, text: str) -> Features:
        return cls.of(title, split_content(text, title))

    def kept(self) -> Kept:
        """What a later article needs to verify this one as its copy (see `sketch`)."""
        extra = dict.fromkeys(word_hashes((*self.title_words, *self.numbers)))
        return Kept(
            words=self.words,
            pair_count=len(self.pairs),
            opening=self.opening_hashes,
            lede_spans=self.lede_spans,
            sample=bottom_sample(self.pairs),
            vocabulary=frozenset(list(extra)[:VOCABULARY_MAX]),
            distinctive=tuple(sorted(self.distinctive))[:DISTINCTIVE_MAX],
        )


def _lede_spans(sentences: Sequence[Sentence]) -> list[tuple[int, int]]:
    """Word positions of the lede sentences in the content."""
    spans: list[tuple[int, int]] = []
    at = 0
    for sentence in sentences:
        if len(sentence.words) >= LEDE_MIN_WORDS and len(spans) < LEDE_SENTENCES:
            spans.append((at, at + len(sentence.words)))
        at += len(sentence.words)
    return spans


def verify(
    a: Features, b: Kept, lede_share: float = LEDE_SHARE, cover_share: float = COVER_SHARE
) -> str | None:
    """None when `a` and the article kept as `b` can be copies of one story; else why they
    are not, with the figure that decided."""
    if (fewest := min(a.words, b.words)) < MIN_CONTENT_WORDS:
        return f"too little text of its own, {fewest} < {MIN_CONTENT_WORDS} words"
    if (lede := lede_overlap(a, b)) < lede_share:
        return f"the openings differ, {lede:.2f} < {lede_share:.2f}"
    if (cover := cover_overlap(a, b)) < cover_share:
        return f"the texts differ beyond the opening, {cover:.2f} < {cover_share:.2f}"
    only_a = {t for t in a.distinctive if word_hash(t) not in b.words_known}
    only_b = _missing(frozenset(b.distinctive), a.vocabulary)
    if only_a and only_b:
        return f"names or numbers differ: {_some(only_a)} / {_some(only_b)}"
    return None


def lede_overlap(a: Features, b: Kept) -> float:
    """The smallest share, over the lede sentences of both, of a sentence's word pairs found in
    the other text: a story's own opening is in its copy, sentence by sentence. Of `b` only the
    opening and a sample of pairs are known: a pair of `a` found in neither counts as missing."""
    if not a.lede or not b.lede:
        return 0.0
    shares = [len(s & b.known) / len(s) for s in a.lede]
    shares += [len(s & a.pairs) / len(s) for s in b.lede if s]
    return min(shares)


def cover_overlap(a: Features, b: Kept) -> float:
    """The share of the shorter text's word pairs found in the longer one, estimated on the
    pairs sampled the same way from both (see `sketch.Kept.sample`)."""
    if not a.pairs or not b.sample:
        return 0.0
    if b.words < a.words:  # b's sample is a uniform sample of b's pairs
        return len(b.sample & a.pairs) / len(b.sample)
    threshold = b.threshold
    drawn = [p for p in a.pairs if (p * RANK_MULTIPLIER) & 0xFFFFFFFF <= threshold]
    if len(drawn) >= min(SAMPLED_MIN, len(a.pairs)):
        return sum(p in b.sample for p in drawn) / len(drawn)
    return len(a.pairs & b.known) / len(a.pairs)


def _some(tokens: set[str]) -> str:
    return ", ".join(sorted(tokens)[:3])


def _missing(tokens: frozenset[str], vocabulary: frozenset[str]) -> set[str]:
    return {t for t in tokens if t not in vocabulary and not _spelled_alike(t, vocabulary)}


def _spelled_alike(token: str, vocabulary: frozenset[str]) -> bool:
    """A long name found with another ending (transliterations: Zelenskiy, Zelensky)."""
    if len(token) < NAME_MIN_CHARS or not token.isalpha():
        return False
    stem = token[: len(token) - 2]
    return any(
        word.startswith(stem) and abs(len(word) - len(token)) <= 2 and word.isalpha()
        for word in vocabulary
    )
