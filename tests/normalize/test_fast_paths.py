"""The fast paths of the normalize stage give what their plain definitions give.

Each reference below is the definition written the slow, obvious way (the code these fast
paths replaced); the product code must agree with it on any text.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.normalize.simhash import HASH_BITS, shingles, simhash, simhash_pair

pytestmark = pytest.mark.timeout(120)

_WORDS = st.sampled_from(
    ["Kyiv", "ceasefire", "Ukraine's", "café", "ÉCOLE", "“quoted”", "—", "İstanbul", "straße",
     "Зеленський", "北京", "a", "the", "talks", "\n", "  ", "x1", "ﬁnal", "𝕬"]
)  # fmt: skip
_TEXTS = st.one_of(st.text(max_size=200), st.lists(_WORDS, max_size=80).map(" ".join))


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
