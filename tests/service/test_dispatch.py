"""The dispatcher's choice of sources, from tests/service/cases/dispatch.yaml, and its
fairness as a property: when it cannot keep up, no source starves."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.fetch.schedule import SourceState
from ingest.models import Source
from ingest.service.dispatch import due_order, host_of, measure_lag, pick, seconds_to_next_due

pytestmark = pytest.mark.timeout(60)

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CASES = yaml.safe_load((Path(__file__).parent / "cases" / "dispatch.yaml").read_text())["cases"]


def source(name: str, host: str) -> Source:
    if host == "local":
        return Source(url=f"/spool/{name}", name=name, kind="spool", interval_s=10)
    return Source(url=f"https://{host}/{name}.xml", name=name, kind="http", interval_s=10)


def states(table: dict[str, list[Any]]) -> dict[str, SourceState]:
    return {
        name: SourceState(next_due_at=None if due is None else NOW + timedelta(seconds=due))
        for name, (_host, due) in table.items()
    }


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_dispatch_cases(case: dict[str, Any]) -> None:
    listed = [source(n, h) for n, (h, _due) in case["sources"].items()]
    extra = {n: source(n, h) for n, (h, _due) in case.get("extra", {}).items()}
    known = states(case["sources"])
    by_name = {s.name: s for s in [*listed, *extra.values()]}
    busy = {by_name[n].key for n in case.get("busy", []) + case.get("fetching", [])}
    poked = {by_name[n].key for n in case.get("poked", [])}
    ordered = due_order(listed, lambda s: known[s.name], NOW, busy, poked)
    fetching = [by_name[n] for n in case.get("fetching", [])]
    chosen = pick(ordered, fetching, case["room"], case["per_host"])
    assert [s.name for s in chosen] == case["expect"]


def test_host_of() -> None:
    assert host_of(source("a", "Wire.Example")) == "wire.example"
    assert host_of(source("a", "local")) is None


def test_seconds_to_next_due_skips_busy_sources() -> None:
    listed = [source("a", "h1"), source("b", "h2")]
    known = {"a": SourceState(next_due_at=NOW + timedelta(seconds=3)), "b": SourceState()}
    assert seconds_to_next_due(listed, lambda s: known[s.name], NOW, set()) == 0.0
    busy = {listed[1].key}
    assert seconds_to_next_due(listed, lambda s: known[s.name], NOW, busy) == 3.0
    assert (
        seconds_to_next_due(listed, lambda s: known[s.name], NOW, {s.key for s in listed}) is None
    )


def test_lag_counts_sources_overdue_by_more_than_their_interval(make_settings) -> None:
    listed = [source(n, "h") for n in "abc"]
    known = {
        "a": SourceState(next_due_at=NOW - timedelta(seconds=25)),  # 2.5 intervals
        "b": SourceState(next_due_at=NOW - timedelta(seconds=5)),
        "c": SourceState(),  # never polled, due since the start 12 s ago
    }
    lag = measure_lag(
        listed,
        lambda s: known[s.name],
        NOW,
        make_settings(min_interval_s=1),
        NOW - timedelta(seconds=12),
    )
    assert (lag.overdue, lag.worst_s) == (2, 25.0)


@settings(max_examples=40, deadline=None)
@given(
    feeds=st.integers(min_value=5, max_value=120),
    slots=st.integers(min_value=1, max_value=8),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_when_it_cannot_keep_up_every_source_still_gets_its_turn(
    feeds: int, slots: int, seed: int
) -> None:
    """Simulated: every source is due every 10 s, each poll takes 1 s, and there are far fewer
    slots than sources. Over a long run, the least-polled source gets at least half the mean."""
    rng = random.Random(seed)
    hosts = [f"h{i}" for i in range(rng.randint(1, 7))]
    listed = [source(f"f{i}", rng.choice(hosts)) for i in range(feeds)]
    known = {s.key: SourceState() for s in listed}
    polls = dict.fromkeys(known, 0)
    running: dict[str, float] = {}  # key -> finishes at
    for tick in range(600):
        now = NOW + timedelta(seconds=tick)
        for key in [k for k, end in running.items() if end <= tick]:
            del running[key]
            known[key] = SourceState(next_due_at=now + timedelta(seconds=10))
        ordered = due_order(listed, lambda s: known[s.key], now, set(running), set())
        in_flight = [s for s in listed if s.key in running]
        for chosen in pick(ordered, in_flight, slots - len(running), per_host=2):
            running[chosen.key] = tick + 1
            polls[chosen.key] += 1
    mean = sum(polls.values()) / len(polls)
    assert min(polls.values()) >= mean / 2, (min(polls.values()), mean)
