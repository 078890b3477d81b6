"""SourceState survives its trip through JSON (Redis) unchanged, whatever it holds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.fetch.schedule import SourceState

moments = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
texts = st.none() | st.text(max_size=40)


@pytest.mark.timeout(60)
@given(
    etag=texts,
    last_error=texts,
    error_count=st.integers(0, 1000),
    items_seen=st.integers(0, 10**9),
    interval_s=st.none() | st.floats(1, 1e6),
    spool_seen=st.lists(
        st.tuples(st.text(min_size=1, max_size=20), st.integers(0, 10**9), st.integers(0, 2**62)),
        max_size=5,
    ).map(tuple),
    recent_polls=st.lists(
        st.tuples(st.integers(0, 2**40), st.sampled_from(["ok", "not_modified", "error"])),
        max_size=5,
    ).map(tuple),
    times=st.fixed_dictionaries(
        {f.name: moments for f in dataclasses.fields(SourceState) if "datetime" in str(f.type)}
    ),
)
def test_state_json_roundtrip(
    etag: str | None,
    last_error: str | None,
    error_count: int,
    items_seen: int,
    interval_s: float | None,
    spool_seen: tuple[tuple[str, int, int], ...],
    recent_polls: tuple[tuple[int, str], ...],
    times: dict[str, datetime | None],
) -> None:
    state = SourceState(
        etag=etag,
        last_error=last_error,
        error_count=error_count,
        items_seen=items_seen,
        interval_s=interval_s,
        spool_seen=spool_seen,
        recent_polls=recent_polls,
        **times,
    )
    assert SourceState.from_json(state.to_json()) == state
