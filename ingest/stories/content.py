"""What of an article is the story's own, and what two copies of one story must agree on.

Feeds, press wires and outlets append the same text to every item (a syndication footer, an
"About the company" paragraph, a disclaimer). SimHash over such an item mostly hashes that text,
so two different stories that share it look like copies. Two defences, both here as pure
functions (the registry and `rules test` apply them):

* `content_lines` drops what is not the story's own before anything is hashed: editor's notes
  ("(Updates with ...)", "UPDATE 2-"), and sentences the caller knows repeat across the stories
  of one source (the registry keeps per-source counts of `unit_key`s in Redis).
* `verify` decides a candidate pair on what makes a story its own, so it holds for the first
  item of a new source too, when there is no history yet: each opening (the lede sentence) must
  be found in the other text, and the distinctive words of the openings (numbers, names, places)
  must not disagree on both sides (same-template bulletins that differ only in place and numbers
  are different stories). Items with little text of their own never merge.

Copies of one story survive all three tests: syndication re-titles, adds a credit line or an
update note, trims the tail, copy-edits spelling; it keeps the lede and its names and numbers.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from ingest.normalize.textnorm import fold_for_dedup, split_sentences

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
# Copies are also looked up by their lede, so a copy whose tail was trimmed or that carries an
# outlet's footer (its SimHash then far from the original's) is still found: LEDE_KEYS min-hashes
# of the 3-word shingles of the first LEDE_WINDOW words; two ledes with shingle overlap J share
# at least one key with probability 1 - (1 - J)^LEDE_KEYS (97% at J = 0.6).
LEDE_WINDOW = 40
LEDE_KEYS = 4

_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_TOKEN = re.compile(r"\d+(?:[.,:]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)?")
# Editor's notes are about the copy, not the story: they open or close updated wire copy.
_NOTE = re.compile(
    r"""^(?:
        \(\s*(?:updates?|adds?|corrects?|recasts?|refiles?|changes?|removes?|rewrites?)\b[^)]*\)\.?$
      | (?-i:UPDATE|UPDATED|CORRECTED|REFILE|CORRECTION)\b
      | (?:update|updated|editor'?s\s+note|correction|clarification)\b[^.!?]{0,60}:
      | updated\s+(?:at|on)\b
      | this\s+(?:story|article|report)\s+(?:has\s+been|was)\s+(?:updated|corrected|amended)\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# British spellings to American ones, so a copy-edited copy compares equal. Applied to every
# word on both sides, so a rule that also rewrites an unrelated word costs nothing.
_SPELLING = (
    ("isations", "izations"), ("isation", "ization"), ("ising", "izing"), ("ised", "ized"),
    ("isers", "izers"), ("iser", "izer"), ("ises", "izes"), ("ise", "ize"), ("yse", "yze"),
    ("ours", "ors"), ("our", "or"), ("ence", "ense"), ("tres", "ters"), ("tre", "ter"),
    ("ogue", "og"), ("lled", "led"), ("lling", "ling"), ("wards", "ward"),
)  # fmt: skip


def is_editor_note(line: str) -> bool:
    return len(line) <= 200 and _NOTE.match(line.strip()) is not None


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


def split_content(body: str) -> Lines:
    """The sentences of each line of `body`, editor's notes left out; words folded once."""
    lines: Lines = []
    for line in body.split("\n"):
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


def lede_keys(words: Sequence[str]) -> list[str]:
    """Min-hash keys of the first LEDE_WINDOW words of a content (none for a text without)."""
    words = list(words[:LEDE_WINDOW])
    if not words:
        return []
    found = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))}
    # One digest per shingle, cut into LEDE_KEYS independent 64-bit hashes.
    digests = [
        hashlib.blake2b(s.encode("utf-8"), digest_size=8 * LEDE_KEYS, key=b"lede").digest()
        for s in found
    ]
    return [f"{k}:{min(d[8 * k : 8 * k + 8] for d in digests).hex()}" for k in range(LEDE_KEYS)]


@lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    for british, american in _SPELLING:
        if word.endswith(british) and len(word) > len(british) + 2:
            return word[: -len(british)] + american
    return word


def words_of(text: str) -> list[str]:
    # ASCII needs no accent stripping: casefolding is the whole fold for the words.
    folded = text.casefold() if text.isascii() else fold_for_dedup(text)
    return [_fold_word(w) for w in _WORD.findall(folded)]


def _pairs(words: Sequence[str]) -> frozenset[int]:
    """The adjacent word pairs of `words`, each as its hash: only ever compared within one
    process, and ints weigh less than strings in the features a registry keeps."""
    if len(words) < 2:
        return frozenset(hash((w,)) for w in words)
    return frozenset(map(hash, pairwise(words)))


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
    """What `verify` compares, computed once per text."""

    words: int  # words of content
    lede: tuple[frozenset[int], ...]  # word pairs of each lede sentence (hashed)
    pairs: frozenset[int]  # word pairs of the whole content (hashed)
    vocabulary: frozenset[str]  # every word and number of title and content
    distinctive: frozenset[str]  # numbers and names of the opening sentences
    opening: tuple[str, ...]  # the first LEDE_WINDOW words, for `lede_keys`

    @classmethod
    def of(cls, title: str, lines: Lines) -> Features:
        sentences = [s for line in lines for s in line]
        content = [w for s in sentences for w in s.words]
        lede = [s.words for s in sentences if len(s.words) >= LEDE_MIN_WORDS][:LEDE_SENTENCES]
        numbers = {_number(t) for s in sentences for t in _numbers(s.text)}
        numbers |= {_number(t) for t in _numbers(title)}
        return cls(
            words=len(content),
            lede=tuple(_pairs(words) for words in lede),
            pairs=_pairs(content),
            vocabulary=frozenset(words_of(title)) | frozenset(content) | numbers,
            distinctive=frozenset(_distinctive(sentences[:OPENING_SENTENCES])),
            opening=tuple(content[:LEDE_WINDOW]),
        )

    @classmethod
    def of_text(cls, title: str, text: str) -> Features:
        return cls.of(title, split_content(text))


def verify(
    a: Features, b: Features, lede_share: float = LEDE_SHARE, cover_share: float = COVER_SHARE
) -> str | None:
    """None when `a` and `b` can be copies of one story; else why they are not."""
    if min(a.words, b.words) < MIN_CONTENT_WORDS:
        return "too little text of its own"
    if lede_overlap(a, b) < lede_share:
        return "the openings differ"
    if cover_overlap(a, b) < cover_share:
        return "the texts differ beyond the opening"
    only_a = _missing(a.distinctive, b.vocabulary)
    only_b = _missing(b.distinctive, a.vocabulary)
    if only_a and only_b:
        return f"names or numbers differ: {_some(only_a)} / {_some(only_b)}"
    return None


def lede_overlap(a: Features, b: Features) -> float:
    """The smallest share, over the lede sentences of both, of a sentence's word pairs found in
    the other text: a story's own opening is in its copy, sentence by sentence."""
    if not a.lede or not b.lede:
        return 0.0
    shares = [len(s & other.pairs) / len(s) for one, other in ((a, b), (b, a)) for s in one.lede]
    return min(shares)


def cover_overlap(a: Features, b: Features) -> float:
    """The share of the shorter text's word pairs found in the longer one."""
    shorter, longer = (a, b) if a.words <= b.words else (b, a)
    return len(shorter.pairs & longer.pairs) / len(shorter.pairs) if shorter.pairs else 0.0


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
