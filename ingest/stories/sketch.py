"""What the story stage keeps of an article, small and stable across processes.

A later article is verified against an earlier one (`content.verify`) without the earlier text:
the registry keeps a `Kept`, a few hundred bytes per article, in Redis, and returns it with the
candidate, so verifying costs no extra round trip and Redis no text.

* Words are hashed to 16 bits (crc32, the same in every process), a word pair to 32 bits (the
  two word hashes side by side): two texts' pairs are compared as sets of ints.
* `Kept.opening`: the hashes of the first OPENING_WORDS words of the content, in order: the pairs
  of the opening and the lede sentences (`lede_spans`) are derived from it.
* `Kept.sample`: the SAMPLE_PAIRS pairs of the whole content with the lowest mixed rank (a
  bottom-k sample): consistent across texts, so the share of one text's pairs in another is
  estimated without either text (see `content.cover_overlap`).
* `Kept.vocabulary`: hashes of the title's words and the content's numbers; with the opening's
  words, where the other side's names and numbers are looked for.

Lede keys (`lede_shingles`, `lede_fields`): LEDE_KEYS min-hashes of the 3-word shingles of the
opening, leaving out the shingles the source's earlier stories share (a template's fixed words:
"the United States Geological Survey said"), so that a key names what is particular to a story
and a template feed does not put all its notices under the same keys.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from zlib import crc32

OPENING_WORDS = 64  # words of the opening kept in order (the lede sentences lie in it)
SAMPLE_PAIRS = 64  # word pairs of the whole content kept as a bottom-k sample
VOCABULARY_MAX = 48  # hashes of title words and numbers kept
DISTINCTIVE_MAX = 24  # names and numbers of the opening kept as text
# Lede keys: min-hashes of the 3-word shingles of the first LEDE_WINDOW words of the content;
# two ledes with shingle overlap J share at least one key with probability 1 - (1 - J)^LEDE_KEYS
# (99.6% at J = 0.6, 98% at J = 0.48).
LEDE_WINDOW = 40
LEDE_KEYS = 6
LEDE_HEX = 12  # 48 bits of each min-hash: 4 hex digits name a bucket, the rest a field in it
# A shingle the source had in this many of its earlier stories is its template, not a key...
COMMON_IN_STORIES = 3
# ... unless fewer than this many shingles would be left: then all of them are used.
LEDE_MIN_SHINGLES = 6
RANK_MULTIPLIER = 0x9E3779B1  # odd: rank() is a bijection on 32 bits
_MASK32 = 0xFFFFFFFF
_RANK_INVERSE = pow(RANK_MULTIPLIER, -1, 1 << 32)


# Computed each time, not cached: a crc32 of a short word costs about what a cache lookup
# did (~80 ns against 35-60 ns warm, more on a miss), and a cache of words grows with every
# new name and number a service reads.
def word_hash(word: str) -> int:
    return crc32(word.encode()) & 0xFFFF


def word_hashes(words: Iterable[str]) -> list[int]:
    return [crc32(word.encode()) & 0xFFFF for word in words]


def rank(pair: int) -> int:
    """A mixed order of pair hashes for the bottom-k sample (the raw value orders by the first
    word only)."""
    return (pair * RANK_MULTIPLIER) & _MASK32


def bottom_sample(pairs: frozenset[int]) -> frozenset[int]:
    if len(pairs) <= SAMPLE_PAIRS:
        return pairs
    lowest = sorted([(p * RANK_MULTIPLIER) & _MASK32 for p in pairs])[:SAMPLE_PAIRS]
    return frozenset([(r * _RANK_INVERSE) & _MASK32 for r in lowest])


@dataclass(frozen=True, slots=True)
class Kept:
    """An earlier article as verification needs it (see the module docstring)."""

    words: int  # words of content
    pair_count: int  # distinct word pairs of the content
    opening: tuple[int, ...]  # word hashes of the first OPENING_WORDS words
    lede_spans: tuple[tuple[int, int], ...]  # the lede sentences: word positions in `opening`
    sample: frozenset[int]  # bottom-k of the content's pairs by `rank`
    vocabulary: frozenset[int]  # word hashes of the title, the opening and the numbers
    distinctive: tuple[str, ...]  # names and numbers of the opening sentences
    # Derived once, as the same kept article is verified against many: the pairs known to be
    # in the text (the opening's and the sample), the lede sentences' pairs, every word hash.
    known: frozenset[int] = field(init=False, repr=False, compare=False)
    lede: tuple[frozenset[int], ...] = field(init=False, repr=False, compare=False)
    words_known: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pairs = pair_hashes_of(self.opening)  # pair i: words i and i + 1
        lede = tuple(frozenset(pairs[a : b - 1]) for a, b in self.lede_spans)
        object.__setattr__(self, "known", self.sample.union(pairs))
        object.__setattr__(self, "lede", lede)
        object.__setattr__(self, "words_known", self.vocabulary | frozenset(self.opening))

    @property
    def threshold(self) -> int:
        """The largest rank in the sample: a pair ranked at most this is in the sample if it
        is in the text (all pairs when the text has no more than SAMPLE_PAIRS)."""
        if self.pair_count <= len(self.sample):
            return _MASK32
        return max(map(rank, self.sample))

    def encode(self) -> str:
        """Printable (a client may decode replies as UTF-8): base64 of packed ints, then the
        names and numbers as text."""
        head = struct.pack(
            "<IIBBBB", min(self.words, _MASK32), min(self.pair_count, _MASK32),
            len(self.opening), len(self.lede_spans), len(self.sample), len(self.vocabulary),
        )  # fmt: skip
        spans = b"".join(struct.pack("<BB", a, b) for a, b in self.lede_spans)
        body = (
            struct.pack(f"<{len(self.opening)}H", *self.opening)
            + struct.pack(f"<{len(self.sample)}I", *sorted(self.sample))
            + struct.pack(f"<{len(self.vocabulary)}H", *sorted(self.vocabulary))
        )
        packed = base64.b64encode(head + spans + body).decode("ascii")
        return packed + " " + " ".join(self.distinctive)

    @classmethod
    def decode(cls, text: str) -> Kept:
        packed, _space, names = text.partition(" ")
        raw = base64.b64decode(packed)
        words, pair_count, n_open, n_spans, n_sample, n_vocab = struct.unpack_from("<IIBBBB", raw)
        at = struct.calcsize("<IIBBBB")
        spans = struct.unpack_from(f"<{2 * n_spans}B", raw, at)
        at += 2 * n_spans
        opening = struct.unpack_from(f"<{n_open}H", raw, at)
        at += 2 * n_open
        sample = struct.unpack_from(f"<{n_sample}I", raw, at)
        at += 4 * n_sample
        vocabulary = struct.unpack_from(f"<{n_vocab}H", raw, at)
        return cls(
            words, pair_count, opening, tuple(zip(spans[::2], spans[1::2], strict=True)),
            frozenset(sample), frozenset(vocabulary), tuple(names.split()),
        )  # fmt: skip


def pair_hashes_of(hashes: Sequence[int]) -> list[int]:
    """The adjacent word pairs as 32-bit ints, in order, from the words' `word_hashes` (a
    one-word text: its word)."""
    if len(hashes) < 2:
        return list(hashes)
    return [(a << 16) | b for a, b in pairwise(hashes)]


Shingle = tuple[str, str]  # (its key in the source's counts, its LEDE_KEYS min-hash values)


def lede_shingles(words: Sequence[str]) -> list[Shingle]:
    """The 3-word shingles of the first LEDE_WINDOW `words`, each as (key, hash values): the
    key is counted per source, the LEDE_KEYS values of LEDE_HEX hex digits give the lede keys."""
    window = list(words[:LEDE_WINDOW])
    if not window:
        return []
    found = dict.fromkeys(" ".join(window[i : i + 3]) for i in range(max(1, len(window) - 2)))
    size = 8 + LEDE_KEYS * LEDE_HEX // 2
    digests = [
        hashlib.blake2b(s.encode(), digest_size=size, key=b"lede").hexdigest() for s in found
    ]
    return [(d[:16], d[16:]) for d in digests]


def lede_fields(
    shingles: Sequence[Shingle], common: Callable[[str], bool]
) -> tuple[list[str], list[str]]:
    """The lede keys (the key's number, then its min-hash of LEDE_HEX hex digits), from the
    shingles that are not `common` (by key) unless fewer than LEDE_MIN_SHINGLES would be left;
    and the keys of the shingles that gave them, the ones a new story counts (a template's
    shingles are learned a few at a time, as each becomes a minimum). The registry's script
    does the same from the counts it reads."""
    if not shingles:
        return [], []
    chosen = [shingle for shingle in shingles if not common(shingle[0])]
    if len(chosen) < LEDE_MIN_SHINGLES:
        chosen = list(shingles)
    fields: list[str] = []
    keyed: dict[str, None] = {}
    for k in range(LEDE_KEYS):
        key, values = min(chosen, key=lambda shingle: shingle[1][LEDE_HEX * k : LEDE_HEX * (k + 1)])
        fields.append(f"{k}{values[LEDE_HEX * k : LEDE_HEX * (k + 1)]}")
        keyed[key] = None
    return fields, list(keyed)
