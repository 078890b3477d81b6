"""Short items by their words (flashes.flash_key), from tests/stories/tables/flashes.yaml."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.stories.flashes import FLASH_MIN_WORDS, flash_key, strip_markers

pytestmark = pytest.mark.timeout(30)

TABLE = yaml.safe_load((Path(__file__).parent / "tables" / "flashes.yaml").read_text("utf-8"))


@pytest.mark.parametrize("group", TABLE["same"], ids=lambda g: g[0][0][:30])
def test_one_flash_dressed_by_each_outlet_has_one_key(group: list[list[str]]) -> None:
    keys = [flash_key(*item) for item in group]
    assert keys[0] is not None
    for (a, key_a), (b, key_b) in pairwise(zip(group, keys, strict=True)):
        assert key_a == key_b, (a, b)


@pytest.mark.parametrize("pair", TABLE["different"], ids=lambda p: p[0][0][:30])
def test_different_flashes_on_one_topic_have_different_keys(pair: list[list[str]]) -> None:
    first, second = (flash_key(*item) for item in pair)
    assert first is not None and second is not None and first != second


@pytest.mark.parametrize("item", TABLE["unkeyed"], ids=lambda i: i[0][:30] or "empty")
def test_too_few_words_are_not_keyed(item: list[str]) -> None:
    assert flash_key(*item) is None


_WORDS = st.lists(
    st.sampled_from(
        ["fed", "ecb", "raises", "cuts", "rates", "by", "25", "50", "point", "talks", "port"]
    )
)


@settings(max_examples=200, deadline=None)
@given(_WORDS, _WORDS)
def test_two_keyed_flashes_share_a_key_only_with_the_same_words(a: list[str], b: list[str]) -> None:
    key_a, key_b = flash_key(" ".join(a), "", "X"), flash_key(" ".join(b), "", "Y")
    if key_a is not None and key_b is not None:
        assert (key_a == key_b) == (a == b)
    assert (key_a is None) == (len(a) < FLASH_MIN_WORDS)


def test_markers_are_taken_off_both_ends() -> None:
    assert strip_markers("BREAKING: Talks resume (Reuters)") == "Talks resume"
    assert strip_markers("URGENT - Talks resume - Daily Herald", "Daily Herald") == "Talks resume"
    assert strip_markers("Breaking news without a separator") == "Breaking news without a separator"
