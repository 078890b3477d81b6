"""Property tests: the normalize stage takes any text or HTML a feed can send and never raises."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.models import RawEntry
from ingest.normalize.article import normalize
from ingest.normalize.dateline import parse_dateline
from ingest.normalize.simhash import GUARANTEED_BITS, bands, hamming, simhash
from ingest.normalize.textnorm import clean_text, fold_for_dedup, html_to_text
from ingest.normalize.urls import canonical_url

# Text that looks like markup and wire copy, not only random code points.
_FRAGMENTS = st.sampled_from(
    [
        "<p>", "</p>", "<br>", "<script>", "</script>", "<b>", "&amp;", "&#8212;", "&bogus;",
        "<!--", "-->", "<![CDATA[", "<!DOCTYPE", "<a href='", "'>", " (Reuters) - ",
        "WASHINGTON, March 17 ", "(AP) — ", "--", ": ", "\n", "\u00a0", "\u200b", "“", "’",
    ]
)  # fmt: skip
_MARKUP = st.lists(st.one_of(st.text(max_size=20), _FRAGMENTS), max_size=30).map("".join)
_TIMES = st.none() | st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(_MARKUP)
def test_html_to_text_never_raises_and_is_clean(html: str) -> None:
    text = html_to_text(html)
    assert clean_text(text) == text


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(st.text())
def test_clean_text_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
    assert "\n\n" not in once


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(_MARKUP, _TIMES)
def test_parse_dateline_only_removes_a_prefix(text: str, published: datetime | None) -> None:
    dateline, rest = parse_dateline(text, published)
    assert text.endswith(rest)
    if dateline is None:
        assert rest == text


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(st.text() | st.from_regex(r"https?://[^\s]{0,40}", fullmatch=True))
def test_canonical_url_never_raises_and_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@pytest.mark.timeout(60)
@settings(max_examples=200, deadline=None)
@given(st.text())
def test_fold_for_dedup_is_idempotent(text: str) -> None:
    once = fold_for_dedup(text)
    assert fold_for_dedup(once) == once


@pytest.mark.timeout(60)
@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**64 - 1),
    st.lists(st.integers(0, 63), max_size=GUARANTEED_BITS, unique=True),
)
def test_hashes_within_the_guarantee_share_a_band(h: int, flipped: list[int]) -> None:
    other = h
    for bit in flipped:
        other ^= 1 << bit
    assert hamming(h, other) == len(flipped)
    assert set(bands(h)) & set(bands(other))


@pytest.mark.timeout(60)
@settings(max_examples=200, deadline=None)
@given(st.text())
def test_simhash_is_64_bits(text: str) -> None:
    assert 0 <= simhash(text) < 2**64


@pytest.mark.timeout(60)
@settings(max_examples=200, deadline=None)
@given(_MARKUP, _MARKUP, st.booleans(), st.none() | st.text(max_size=8), _TIMES)
def test_normalize_never_raises(
    title: str, content: str, is_html: bool, language: str | None, published: datetime | None
) -> None:
    entry = RawEntry(
        source_name="Fuzz",
        source_url="https://wire.example/rss.xml",
        title=title,
        content=content,
        content_is_html=is_html,
        link=None,
        summary=content,
        published=published,
        language=language,
    )
    article = normalize(entry)
    assert article.body == clean_text(article.body)
    assert len(article.language) in (2, 3)
