"""Folding for matching: the fast path gives what folding one character at a time gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.match.terms import _fold_char, fold

pytestmark = pytest.mark.timeout(120)

_WORDS = st.sampled_from(
    ["Kyiv", "CEASE-FIRE", "Ukraine’s", "café", "ÉCOLE", "“quoted”", "—", "İstanbul", "straße",
     "Зеленський", "北京", "\n", "\t", "`x`", "ﬁnal", "قالـت", "हिन्दी", "Ꭰ", "ǅ", "x\u0301"]
)  # fmt: skip
_TEXTS = st.one_of(st.text(max_size=120), st.lists(_WORDS, max_size=40).map(" ".join))


@settings(max_examples=500, deadline=None)
@given(_TEXTS)
def test_fold_is_each_character_folded(text: str) -> None:
    folded = fold(text)
    expected = [(_fold_char(c), i) for i, c in enumerate(text)]
    assert folded.text == "".join(f for f, _ in expected)
    offsets = [i for f, i in expected for _ in f]
    assert [folded.to_original(k, k + 1)[0] for k in range(len(folded.text))] == offsets
    assert folded.original_length == len(text)
