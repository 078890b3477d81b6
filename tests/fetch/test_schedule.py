"""Scheduling tables: adaptive intervals, server hints, backoff, staleness, state JSON."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from ingest.errors import FetchError, HttpStatusError, ParseError
from ingest.fetch.schedule import (
    RECENT_POLLS_MAX,
    PollOutcome,
    SourceState,
    backoff_s,
    is_due,
    is_stale,
    next_state,
)
from ingest.models import Document, FetchResult, Source
from tests.fetch.helpers import MidRandom

pytestmark = pytest.mark.timeout(30)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SOURCE = Source(url="https://wire.example/rss", name="w", kind="http", interval_s=300)


def result(**fields: object) -> FetchResult:
    return FetchResult(source=SOURCE, documents=(), status=200, **fields)  # type: ignore[arg-type]


def delay_s(state: SourceState) -> float:
    assert state.next_due_at is not None
    return (state.next_due_at - NOW).total_seconds()


@pytest.mark.parametrize(
    ("interval_s", "new_items", "expected_s"),
    [
        (None, 3, 225.0),  # news: sooner
        (None, 0, 450.0),  # nothing: later
        (100.0, 5, 75.0),  # floor: a quarter of 300
        (80.0, 5, 75.0),
        (2000.0, 0, 2400.0),  # ceiling: eight times 300
        (2400.0, 0, 2400.0),
    ],
)
def test_adaptive_interval(make_settings, interval_s, new_items, expected_s) -> None:
    settings = make_settings(min_interval_s=60)
    state = SourceState(interval_s=interval_s)
    after = next_state(
        state, PollOutcome.success(result(), new_items), NOW, SOURCE, settings, MidRandom()
    )
    assert after.interval_s == expected_s
    assert delay_s(after) == pytest.approx(expected_s)


@pytest.mark.parametrize(
    ("min_s", "max_s", "interval_s", "new_items", "expected_s"),
    [
        (120, 21600, 75.0, 5, 120.0),  # settings.min_interval_s wins over a quarter
        (60, 500, 450.0, 0, 500.0),  # settings.max_interval_s wins over eight times
    ],
)
def test_interval_within_settings(
    make_settings, min_s, max_s, interval_s, new_items, expected_s
) -> None:
    settings = make_settings(min_interval_s=min_s, max_interval_s=max_s)
    after = next_state(
        SourceState(interval_s=interval_s),
        PollOutcome.success(result(), new_items),
        NOW,
        SOURCE,
        settings,
        MidRandom(),
    )
    assert after.interval_s == expected_s


@pytest.mark.parametrize(
    ("fields", "ttl_s", "expected_s"),
    [
        ({"retry_after_s": 3000.0}, None, 3000.0),
        ({"max_age_s": 1200.0}, None, 1200.0),
        ({}, 3600.0, 3600.0),
        ({"max_age_s": 10.0}, None, 450.0),  # a hint below the interval changes nothing
        ({"max_age_s": 10 * 86400.0}, None, 6 * 3600.0),  # capped: never stop polling
        ({"max_age_s": 600.0, "retry_after_s": 900.0}, 700.0, 900.0),
    ],
)
def test_server_hints_are_lower_bounds(make_settings, fields, ttl_s, expected_s) -> None:
    outcome = PollOutcome.success(result(**fields), 0, ttl_s)
    after = next_state(SourceState(), outcome, NOW, SOURCE, make_settings(), MidRandom())
    assert delay_s(after) == pytest.approx(expected_s)


def test_success_records_validators_and_counts(make_settings) -> None:
    before = SourceState(
        etag='"old"', error_count=3, failing_since=NOW - timedelta(hours=1), items_seen=7
    )
    fetched = result(etag='"new"', last_modified=None, permanent_url="https://moved.example/rss")
    after = next_state(
        before, PollOutcome.success(fetched, 2), NOW, SOURCE, make_settings(), MidRandom()
    )
    assert (after.etag, after.last_modified, after.permanent_url) == (
        '"new"',
        None,
        "https://moved.example/rss",
    )
    assert (after.error_count, after.failing_since, after.items_seen) == (0, None, 9)
    assert after.last_success_at == NOW and after.last_new_item_at == NOW


@pytest.mark.parametrize(
    ("errors_before", "expected_s"),
    [
        (0, 300 * 0.75),  # 1st error: half fixed + half random (mid) of 300
        (1, 600 * 0.75),
        (2, 1200 * 0.75),
        (5, 9600 * 0.75),
        (7, 21600 * 0.75),  # capped at max_backoff_s
        (500, 21600 * 0.75),  # and stays there: polling never stops
    ],
)
def test_error_backoff(make_settings, errors_before, expected_s) -> None:
    state = SourceState(error_count=errors_before)
    failure = PollOutcome.failure(FetchError("boom"))
    after = next_state(state, failure, NOW, SOURCE, make_settings(), MidRandom())
    assert delay_s(after) == pytest.approx(expected_s)
    assert after.error_count == errors_before + 1
    assert after.last_error == "FetchError: boom"
    assert after.failing_since == NOW


def test_error_keeps_first_failure_time_and_honours_retry_after(make_settings) -> None:
    since = NOW - timedelta(days=1)
    state = SourceState(error_count=1, failing_since=since)
    failure = PollOutcome.failure(HttpStatusError(429, "HTTP 429", retry_after_s=5000.0))
    after = next_state(state, failure, NOW, SOURCE, make_settings(), MidRandom())
    assert after.failing_since == since
    assert delay_s(after) == pytest.approx(5000.0)


@given(errors=st.integers(min_value=1, max_value=10_000), seed=st.integers(0, 2**32))
@hyp_settings(max_examples=200, deadline=None)
def test_backoff_bounds(errors: int, seed: int) -> None:
    from ingest.settings import Settings

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    value = backoff_s(errors, 300.0, settings, random.Random(seed))
    full = min(300.0 * 2 ** min(errors - 1, 32), settings.max_backoff_s)
    assert full / 2 <= value <= full


@pytest.mark.parametrize(
    ("state", "stale"),
    [
        (SourceState(), False),
        (
            SourceState(
                last_success_at=NOW - timedelta(hours=1), last_new_item_at=NOW - timedelta(hours=1)
            ),
            False,
        ),
        (
            SourceState(
                last_success_at=NOW - timedelta(minutes=5), last_new_item_at=NOW - timedelta(days=3)
            ),
            True,
        ),
        (SourceState(last_success_at=NOW - timedelta(days=3)), True),
        (SourceState(failing_since=NOW - timedelta(days=2, seconds=1), error_count=40), True),
        (
            SourceState(
                failing_since=NOW - timedelta(hours=2), last_new_item_at=NOW - timedelta(hours=3)
            ),
            False,
        ),
    ],
)
def test_is_stale(make_settings, state, stale) -> None:
    assert is_stale(state, NOW, make_settings()) is stale


def test_is_due() -> None:
    assert is_due(SourceState(), NOW)
    assert is_due(SourceState(next_due_at=NOW), NOW)
    assert not is_due(SourceState(next_due_at=NOW + timedelta(seconds=1)), NOW)


def test_spool_documents_are_remembered(make_settings) -> None:
    spool = Source(url="file:///spool", name="s", kind="spool", interval_s=60)
    docs = tuple(
        Document(
            url=f"file:///spool/{n}.txt",
            body=b"x",
            headers=(("content-length", "1"), ("x-file-mtime-ns", str(n))),
        )
        for n in (5, 7)
    )
    fetched = FetchResult(source=spool, documents=docs)
    state = SourceState(spool_seen=(("3.txt", 1, 3),))
    after = next_state(
        state, PollOutcome.success(fetched, 2), NOW, spool, make_settings(), MidRandom()
    )
    assert after.spool_seen == (("3.txt", 1, 3), ("5.txt", 1, 5), ("7.txt", 1, 7))


text_or_none = st.none() | st.text(max_size=20)
moments = st.none() | st.datetimes(timezones=st.just(UTC))


@given(
    etag=text_or_none,
    when=moments,
    errors=st.integers(0, 1000),
    interval=st.none() | st.floats(1, 1e6),
    seen=st.lists(
        st.tuples(st.text(min_size=1, max_size=10), st.integers(0, 2**40), st.integers(0, 2**62)),
        max_size=5,
    ),
)
@hyp_settings(max_examples=100, deadline=None)
def test_state_json_round_trip(etag, when, errors, interval, seen) -> None:
    import json

    state = SourceState(
        etag=etag,
        last_success_at=when,
        next_due_at=when,
        error_count=errors,
        interval_s=interval,
        spool_seen=tuple(seen),
    )
    assert SourceState.from_json(json.loads(json.dumps(state.to_json()))) == state


def test_state_json_ignores_unknown_keys() -> None:
    assert SourceState.from_json({"etag": "x", "from_the_future": 1}) == SourceState(etag="x")


def test_spool_files_that_failed_to_parse_count_as_processed(make_settings) -> None:
    spool = Source(url="file:///spool", name="s", kind="spool", interval_s=60)
    doc = Document(
        url="file:///spool/junk.bin",
        body=b"\0",
        headers=(("content-length", "1"), ("x-file-mtime-ns", "9")),
    )
    fetched = FetchResult(source=spool, documents=(doc,))
    failure = PollOutcome.failure(ParseError("binary data"), fetched)
    after = next_state(SourceState(), failure, NOW, spool, make_settings(), MidRandom())
    assert after.error_count == 1 and after.last_error == "ParseError: binary data"
    assert after.spool_seen == (("junk.bin", 1, 9),)


def test_recent_polls_are_kept_bounded_oldest_first(make_settings) -> None:
    settings, rng = make_settings(), random.Random(1)
    state = SourceState()
    outcomes = [
        PollOutcome.success(result(), 1),
        PollOutcome.success(result(not_modified=True), 0),
        PollOutcome.failure(FetchError("refused")),
    ] * 20
    for i, outcome in enumerate(outcomes):
        state = next_state(state, outcome, NOW + timedelta(seconds=i), SOURCE, settings, rng)
    assert len(state.recent_polls) == RECENT_POLLS_MAX
    kinds = [kind for _, kind in state.recent_polls]
    expected = ["ok", "not_modified", "error"] * 20
    assert kinds == expected[-RECENT_POLLS_MAX:]
    times = [t for t, _ in state.recent_polls]
    assert times == sorted(times) and times[-1] == int((NOW + timedelta(seconds=59)).timestamp())


def test_a_state_stored_before_recent_polls_still_loads() -> None:
    old = SourceState(items_seen=3).to_json()
    del old["recent_polls"]
    loaded = SourceState.from_json(old)
    assert loaded.items_seen == 3 and loaded.recent_polls == ()
    marked = SourceState(recent_polls=((1_700_000_000, "ok"), (1_700_000_060, "error")))
    assert SourceState.from_json(marked.to_json()) == marked
