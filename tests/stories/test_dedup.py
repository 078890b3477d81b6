"""SimHash on real syndication: copies of one story are near, different stories are far."""

from __future__ import annotations

import random
from itertools import combinations
from pathlib import Path

import pytest

from ingest.normalize.dateline import parse_dateline
from ingest.normalize.simhash import (
    GUARANTEED_BITS,
    NEAR_DUPLICATE_BITS,
    bands,
    hamming,
    shingles,
    simhash,
    simhash_pair,
)
from tests.normalize.casefiles import CASES, load

STORIES = CASES / "stories"
EXPECTED = load("stories/expected.yaml")
COPY_PAIRS = [pair for group in EXPECTED["copies"].values() for pair in combinations(group, 2)]


def story_hash(name: str) -> int:
    text = (STORIES / name).read_text(encoding="utf-8").split("\n", 2)[2]
    return simhash(parse_dateline(text)[1])


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("a", "b"), COPY_PAIRS)
def test_syndicated_copies_are_near(a: str, b: str) -> None:
    assert hamming(story_hash(a), story_hash(b)) <= NEAR_DUPLICATE_BITS


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("a", "b"), [tuple(pair) for pair in EXPECTED["different"]])
def test_different_stories_on_one_topic_are_far(a: str, b: str) -> None:
    # Far past the threshold, not just over it: a margin of ten bits.
    assert hamming(story_hash(a), story_hash(b)) > NEAR_DUPLICATE_BITS + 10


@pytest.mark.timeout(10)
def test_every_story_file_is_in_the_table() -> None:
    listed = {name for pair in COPY_PAIRS for name in pair}
    listed |= {name for pair in EXPECTED["different"] for name in pair}
    assert listed == {path.name for path in Path(STORIES).glob("*.txt")}


@pytest.mark.timeout(10)
def test_simhash_is_stable_across_processes() -> None:
    # A fixed value: Python's hash() is salted per process and would change this every run.
    assert simhash("Russia and Ukraine agreed on Tuesday to stop attacks") == 0xDEA63D8DE8D32345
    assert simhash("") == 0


@pytest.mark.timeout(10)
def test_shingles_are_three_folded_words() -> None:
    assert shingles("One TWO") == ["one two"]
    assert shingles("a b c d") == ["a b c", "b c d"]
    assert shingles("") == []


@pytest.mark.timeout(10)
def test_simhash_ignores_case_accents_and_quote_style() -> None:
    assert simhash("Zelenskiy said: “We will not back down” — café") == simhash(
        'zelenskiy said: "we will not back down" - cafe'
    )


@pytest.mark.timeout(10)
def test_bands_split_64_bits_into_guarantee_plus_one_pieces() -> None:
    labels = bands(2**64 - 1)
    assert len(labels) == GUARANTEED_BITS + 1
    widths = [int(label.split(":")[1], 16).bit_length() for label in labels]
    assert sum(widths) == 64
    assert bands(0, bits=0) == ["1.0:0"]
    with pytest.raises(ValueError):
        bands(0, bits=64)


@pytest.mark.timeout(10)
def test_hashes_one_bit_past_the_threshold_can_share_no_band() -> None:
    # Flip the lowest bit of every band: the guarantee is exactly as strong as documented.
    h = 0
    other = h
    start = 0
    count = GUARANTEED_BITS + 1
    width, extra = divmod(64, count)
    for index in range(count):
        other |= 1 << start
        start += width + (1 if index < extra else 0)
    assert hamming(h, other) == GUARANTEED_BITS + 1
    assert not set(bands(h)) & set(bands(other))


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("flipped", "at_least"), [(8, 0.99), (10, 0.93), (NEAR_DUPLICATE_BITS, 0.8)]
)
def test_copies_past_the_guarantee_still_mostly_share_a_band(flipped: int, at_least: float) -> None:
    # The recall the comment on BAND_COUNT promises, on random hashes with random flips.
    rng = random.Random(flipped)
    trials = 4000
    found = 0
    for _ in range(trials):
        h = rng.getrandbits(64)
        other = h
        for bit in rng.sample(range(64), flipped):
            other ^= 1 << bit
        found += bool(set(bands(h)) & set(bands(other)))
    assert found / trials >= at_least


def test_pair_is_the_simhash_and_an_independent_check() -> None:
    text = "Russia and Ukraine agreed on Tuesday to stop attacks on energy sites"
    primary, check = simhash_pair(text)
    assert primary == simhash(text) and check not in (0, primary)
