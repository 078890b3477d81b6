"""Pure HTTP helpers: header values and bounded decompression."""

from __future__ import annotations

import gzip
import zlib

import pytest

from ingest.errors import FetchError, TooLarge
from ingest.fetch.httpparts import Inflater, parse_max_age_s, parse_retry_after_s

pytestmark = pytest.mark.timeout(10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 0 ", 0.0),
        ("-5", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: now
    ],
)
def test_retry_after(value, expected) -> None:
    assert parse_retry_after_s(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("max-age=600", 600.0),
        ("public, max-age=60, must-revalidate", 60.0),
        ('max-age="30"', 30.0),
        ("s-maxage=100", None),
        ("no-store, max-age=600", None),
        ("no-cache", None),
    ],
)
def test_max_age(value, expected) -> None:
    assert parse_max_age_s(value) == expected


def test_multi_member_gzip() -> None:
    body = gzip.compress(b"first ", mtime=0) + gzip.compress(b"second", mtime=0)
    inflater = Inflater("gzip", 100)
    assert inflater.feed(body[:7]) + inflater.feed(body[7:]) + inflater.flush() == b"first second"


@pytest.mark.parametrize("chunk_bytes", [1, 7, 4096, 10**6])
def test_cap_counts_decoded_bytes_in_any_chunking(chunk_bytes: int) -> None:
    bomb = zlib.compress(b"a" * 50_000)
    inflater = Inflater("deflate", 10_000)
    with pytest.raises(TooLarge):
        for start in range(0, len(bomb), chunk_bytes):
            inflater.feed(bomb[start : start + chunk_bytes])
        inflater.flush()


def test_exactly_at_cap_is_fine() -> None:
    inflater = Inflater("gzip", 1000)
    assert len(inflater.feed(gzip.compress(b"x" * 1000)) + inflater.flush()) == 1000


def test_unknown_coding() -> None:
    with pytest.raises(FetchError, match="unsupported"):
        Inflater("zstd", 10)
