"""`wirewatch feeds` rows: the interval in force and why, the lag, and STALE for a source that
was never polled for longer than its stale time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ingest.fetch.schedule import SourceState
from ingest.models import Source, utcnow
from ingest.service.report import format_row, interval_text

pytestmark = pytest.mark.timeout(30)

HTTP = Source(url="https://wire.example/rss", name="wire", kind="http", interval_s=300)
FAST = Source(url="https://wire.example/fast", name="fast", kind="http", interval_s=10)
SPOOL = Source(url="/srv/inbox", name="inbox", kind="spool", interval_s=5)


@pytest.mark.parametrize(
    ("source", "adapted_s", "expected"),
    [
        (HTTP, None, "300s"),
        (HTTP, 450.0, "450s (asked 300s: quiet feed, polled less often)"),
        (HTTP, 225.0, "225s (asked 300s: busy feed, polled more often)"),
        (FAST, None, "60s (asked 10s: the http(s) floor)"),
        (SPOOL, None, "5s"),
    ],
)
def test_interval_in_force_and_why(make_settings, source, adapted_s, expected) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(min_interval_s=60)
    assert interval_text(source, SourceState(interval_s=adapted_s), settings) == expected


def test_lag_and_stale_when_never_polled(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(stale_after_s=3600)
    now = utcnow()
    listed_long_ago = (now - timedelta(hours=2)).timestamp()
    row = format_row(HTTP, SourceState(), now, settings, listed_long_ago)
    assert row[2].startswith("STALE") and row[4] == "2.0h"
    fresh = format_row(
        HTTP, SourceState(), now, settings, (now - timedelta(seconds=30)).timestamp()
    )
    assert fresh[2] == "-" and fresh[4] == "30s"
    overdue = SourceState(last_success_at=now, next_due_at=now - timedelta(seconds=90))
    assert format_row(HTTP, overdue, now, settings)[4] == "90s"
