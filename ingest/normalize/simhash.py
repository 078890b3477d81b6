"""Near-duplicate detection for syndicated copies: 64-bit SimHash over word shingles, LSH bands.

The same wire story reaches us from many outlets, each lightly edited: a new headline, its own
credit line, a sentence trimmed. SimHash maps such copies to hashes a few bits apart, while
different stories, even on the same topic, land about half the bits apart. `bands` turns the
"within k bits" test into exact key lookups, so a store can find candidates without a scan.
"""

from __future__ import annotations

import hashlib
import re
from functools import partial
from operator import methodcaller

import numpy as np

from ingest.normalize.textnorm import fold_for_dedup

HASH_BITS = 64
SHINGLE_WORDS = 3
# Chosen with bench/dedup_threshold.py (3-word shingles over folded text), which measured:
#   outlet copies of one story (tests/normalize/cases/stories/: re-titled, dateline and credit
#   line changed, paragraphs dropped, a sentence added, US spelling): 5, 6 and 11 bits apart
#   (11 is two outlets' edits compared with each other);
#   single syndication edits of each seed story: 0-10 bits;
#   all those edits at once on one 300-500 word story: 5-15 bits (12 catches 4 of 6);
#   different stories: 29-39 bits, same-topic ceasefire stories among them 32-38.
# A false merge costs an alert (the story is treated as already seen) while a missed merge
# only repeats one, so the threshold sits just above every realistic copy and no higher:
# two unrelated hashes fall within 12 bits with p = 2.3e-7, about one false merge per 430
# articles with 10,000 stories in the window (at 16 it would be one per 2.6 articles).
NEAR_DUPLICATE_BITS = 12
# The 12-bit test alone would merge unrelated stories now and then in a busy window (above), and
# a false merge loses an alert. So a candidate must also be near on a second, independent
# SimHash (same shingles, keyed feature hash): copies measured above move together on both
# hashes (bench/dedup_threshold.py: copies at most 12 bits apart on it, different stories 26+),
# while two unrelated texts pass both tests with p = 8.8e-12 per pair (9e-8 per article with
# 10,000 stories in the window).
CHECK_BITS = 16
# Candidates are found through LSH bands: BAND_COUNT slices of the 64 bits, looked up exactly.
# Copies within GUARANTEED_BITS always share a band (pigeonhole). 13 bands would guarantee the
# full 12 bits, but 4-5-bit bands are each shared by 1/16-1/32 of the window, so one lookup read
# ~80% of it (bench/bench_stories.py: 18 ms per article in Redis with 10,000 stories). With 8
# bands of 8 bits a lookup reads ~3% of the window, and copies further apart still share a band
# most of the time (simulated over random flips: 99.7% at 8 bits, 96% at 10, 86% at 12); a copy
# missed that way costs one repeated alert, never a lost one.
BAND_COUNT = 8
GUARANTEED_BITS = BAND_COUNT - 1
_CHECK_KEY = b"wirewatch-simhash-check"

_WORD = re.compile(r"\w+")
_MASK = (1 << HASH_BITS) - 1


def shingles(text: str, size: int = SHINGLE_WORDS) -> list[str]:
    """Overlapping runs of `size` folded words; a text shorter than that is one shingle."""
    words = _WORD.findall(fold_for_dedup(text))
    if len(words) <= size:
        return [" ".join(words)] if words else []
    return list(map(" ".join, zip(*(words[i:] for i in range(size)), strict=False)))


_DIGEST = methodcaller("digest")


def _feature_hashes(found: list[str], *keys: bytes) -> list[bytes]:
    """Per key, each shingle's 64-bit feature hash (8 big-endian bytes apiece) in shingle order."""
    # blake2b, not hash(): the value must be the same in every process and on every machine.
    # map() over C callables: no Python bytecode runs per shingle.
    encoded = list(map(str.encode, found))
    return [
        b"".join(map(_DIGEST, map(partial(hashlib.blake2b, digest_size=8, key=key), encoded)))
        for key in keys
    ]


def simhash(text: str) -> int:
    """64-bit SimHash of `text`; 0 for a text without words."""
    (primary,) = _feature_hashes(shingles(text), b"")
    return _combine(primary)


def simhash_pair(text: str) -> tuple[int, int]:
    """The SimHash of `text` and its independent check hash (see CHECK_BITS), shingled once."""
    primary, check = _feature_hashes(shingles(text), b"", _CHECK_KEY)
    return _combine(primary), _combine(check)


def is_near(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Two (simhash, check) pairs belong to copies of one story."""
    return hamming(a[0], b[0]) <= NEAR_DUPLICATE_BITS and hamming(a[1], b[1]) <= CHECK_BITS


def _combine(digests: bytes) -> int:
    """Bit i of the SimHash is set when most shingles' hashes set it."""
    count = len(digests) // 8
    if not count:
        return 0
    # One row of 64 bits per shingle, most significant bit first (the digests are big-endian),
    # so the per-bit counts of all shingles are one column sum instead of a loop over 64 bits.
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(count, 8), axis=1)
    majority = bits.sum(axis=0, dtype=np.int64) * 2 > count
    return int.from_bytes(np.packbits(majority).tobytes(), "big")


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes."""
    return ((a ^ b) & _MASK).bit_count()


def bands(h: int, bits: int = GUARANTEED_BITS) -> list[str]:
    """`bits + 1` labelled slices of `h`: two hashes within `bits` bits share at least one.

    Pigeonhole: `bits` differing positions can touch at most `bits` of the `bits + 1` slices.
    """
    count = bits + 1
    if not 1 <= count <= HASH_BITS:
        raise ValueError(f"bits must be between 0 and {HASH_BITS - 1}, got {bits}")
    width, extra = divmod(HASH_BITS, count)
    labels = []
    start = 0
    for index in range(count):
        size = width + (1 if index < extra else 0)
        piece = (h >> start) & ((1 << size) - 1)
        labels.append(f"{count}.{index}:{piece:x}")
        start += size
    return labels
