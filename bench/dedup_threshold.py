"""Measure SimHash distances between syndicated copies and between different stories.

    .venv/bin/python bench/dedup_threshold.py

Two sources of pairs:
  * tests/normalize/cases/stories/: hand-edited outlet copies of one story, and an independent
    story on the same topic (see expected.yaml there);
  * seeds/*.txt: each seed story against edited copies of itself (the edits syndication makes:
    dateline and credit line changed, a paragraph dropped, a sentence added, copy-edits), and
    against every other seed (several are about ceasefires, so same-topic pairs are included).

The numbers printed are what ingest/normalize/simhash.py cites for NEAR_DUPLICATE_BITS.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.normalize.dateline import parse_dateline  # noqa: E402
from ingest.normalize.simhash import (  # noqa: E402
    CHECK_BITS,
    HASH_BITS,
    NEAR_DUPLICATE_BITS,
    hamming,
    simhash,
    simhash_pair,
)

STORIES = ROOT / "tests" / "normalize" / "cases" / "stories"
SEEDS = ROOT / "seeds"

# Copy-desk edits, as outlets make them to agency copy.
_COPY_EDITS = {
    " on Tuesday": " Tuesday",
    " on Wednesday": " Wednesday",
    "U.S.": "US",
    "defence": "defense",
    "towards": "toward",
    "per cent": "percent",
    "said": "says",
}


def body_of(text: str) -> str:
    return parse_dateline(text)[1]


def story_body(path: Path) -> str:
    """Story fixtures: headline, blank line, then the story."""
    return body_of(path.read_text(encoding="utf-8").split("\n", 2)[2])


def change_credit(text: str) -> str:
    return f"(Wire) - {text}\nCompiled by our foreign desk; additional reporting by agencies."


def drop_paragraph(text: str) -> str:
    paragraphs = text.split("\n")
    del paragraphs[len(paragraphs) // 2]
    return "\n".join(paragraphs)


def add_sentence(text: str) -> str:
    paragraphs = text.split("\n")
    paragraphs.insert(
        2, "The newspaper has asked the government for further comment on the matter."
    )
    return "\n".join(paragraphs)


def copy_edit(text: str) -> str:
    for old, new in _COPY_EDITS.items():
        text = text.replace(old, new)
    return text


def all_edits(text: str) -> str:
    return change_credit(add_sentence(drop_paragraph(copy_edit(text))))


EDITS: dict[str, Callable[[str], str]] = {
    "credit line": change_credit,
    "paragraph dropped": drop_paragraph,
    "sentence added": add_sentence,
    "copy edits": copy_edit,
}
# Every edit at once on one copy: heavier than syndication usually is. Reported, not required.
STRESS: dict[str, Callable[[str], str]] = {"all edits at once": all_edits}
# How many stories a busy deployment holds in its story window (a few thousand a day, 3 days).
WINDOW_STORIES = 10_000


Hasher = Callable[[str], int]


def check_hash(text: str) -> int:
    return simhash_pair(text)[1]


def fixture_pairs(hasher: Hasher) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    expected = yaml.safe_load((STORIES / "expected.yaml").read_text(encoding="utf-8"))
    hashes = {p.name: hasher(story_body(p)) for p in STORIES.glob("*.txt")}
    copies = [
        (f"{a} ~ {b}", hamming(hashes[a], hashes[b]))
        for group in expected["copies"].values()
        for a, b in combinations(group, 2)
    ]
    different = [(f"{a} / {b}", hamming(hashes[a], hashes[b])) for a, b in expected["different"]]
    return copies, different


def seed_bodies() -> dict[str, str]:
    return {p.name: body_of(p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))}


def edited_pairs(edits: dict[str, Callable[[str], str]], hasher: Hasher) -> list[tuple[str, int]]:
    return [
        (f"{name} ~ {label}", hamming(hasher(text), hasher(edit(text))))
        for name, text in seed_bodies().items()
        for label, edit in edits.items()
    ]


def seed_different_pairs(hasher: Hasher) -> list[tuple[str, int]]:
    hashes = {name: hasher(text) for name, text in seed_bodies().items()}
    return [(f"{a} / {b}", hamming(hashes[a], hashes[b])) for a, b in combinations(hashes, 2)]


def random_pair_probability(bits: int) -> float:
    """Chance two unrelated 64-bit hashes fall within `bits` of each other."""
    return sum(math.comb(HASH_BITS, k) for k in range(bits + 1)) / 2**HASH_BITS


def report(title: str, pairs: list[tuple[str, int]]) -> None:
    print(f"\n{title}")
    for label, bits in sorted(pairs, key=lambda pair: pair[1]):
        print(f"  {bits:3d}  {label}")


def check_hash_report() -> int:
    """Distances on the second (check) SimHash; returns the worst copy."""
    fixture_copies, fixture_different = fixture_pairs(check_hash)
    copies = fixture_copies + edited_pairs(EDITS, check_hash)
    different = fixture_different + seed_different_pairs(check_hash)
    worst = max(bits for _label, bits in copies)
    closest = min(bits for _label, bits in different)
    print(f"\ncheck hash: worst copy {worst} bits; closest different stories {closest} bits")
    both = random_pair_probability(NEAR_DUPLICATE_BITS) * random_pair_probability(CHECK_BITS)
    print(f"CHECK_BITS = {CHECK_BITS}: unrelated texts pass both with p = {both:.1e} per pair,")
    print(
        f"  so {both * WINDOW_STORIES:.1e} false merges per article with {WINDOW_STORIES} stories"
    )
    return worst


def main() -> None:
    fixture_copies, fixture_different = fixture_pairs(simhash)
    copies = fixture_copies + edited_pairs(EDITS, simhash)
    stress = edited_pairs(STRESS, simhash)
    different = fixture_different + seed_different_pairs(simhash)
    report("syndicated copies (must be near)", copies)
    report("compound edits (reported only)", stress)
    report("different stories (must be far)", different)
    worst_copy = max(bits for _label, bits in copies)
    closest_different = min(bits for _label, bits in different)
    caught = sum(bits <= NEAR_DUPLICATE_BITS for _label, bits in stress)
    chance = random_pair_probability(NEAR_DUPLICATE_BITS)
    print(f"\nworst copy: {worst_copy} bits; closest different stories: {closest_different} bits")
    print(f"NEAR_DUPLICATE_BITS = {NEAR_DUPLICATE_BITS}")
    print(f"compound edits caught: {caught}/{len(stress)}")
    print(f"unrelated hashes within it: p = {chance:.1e} per pair,")
    print(
        f"  so {chance * WINDOW_STORIES:.1e} false merges per article with {WINDOW_STORIES} stories"
    )
    worst_check = check_hash_report()
    if not worst_copy <= NEAR_DUPLICATE_BITS < closest_different or worst_check > CHECK_BITS:
        print("the threshold does not separate the two sets")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
