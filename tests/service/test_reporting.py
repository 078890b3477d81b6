"""What the operator reads: a Redis outage and its end said once each, lag said once each way,
identical warnings held back within a window and then counted."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest

from ingest.delivery.store import RedisHealth
from ingest.fetch.schedule import SourceState
from ingest.models import Source, utcnow
from ingest.service.logs import RepeatFilter
from ingest.service.metrics import Metrics
from ingest.service.reporter import Reporter, SharedSchedule

pytestmark = pytest.mark.timeout(30)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(message: str, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("ingest.x", level, __file__, 1, message, None, None)


def test_identical_warnings_are_held_back_then_counted() -> None:
    clock = Clock()
    repeats = RepeatFilter(window_s=60, clock=clock)
    assert repeats.filter(record("source a failed"))
    passed = []
    for step in range(10):
        clock.now = step + 1
        passed.append(repeats.filter(record("source a failed")))
    assert not any(passed)
    assert repeats.filter(record("source b failed"))  # another message is not held
    assert repeats.filter(record("info lines pass", logging.INFO))
    assert repeats.filter(record("info lines pass", logging.INFO))
    clock.now = 61
    after = record("source a failed")
    assert repeats.filter(after)
    assert after.getMessage() == "source a failed (repeated 10 times in the last 61 s)"


def run_outage(caplog: pytest.LogCaptureFixture, settings) -> list[str]:  # type: ignore[no-untyped-def]
    reporter = Reporter(settings)
    health = RedisHealth()
    with caplog.at_level(logging.INFO, logger="ingest.service"):
        health.answered()
        reporter.redis(health, outbox_depth=0)
        first_sent = time.time()
        for depth in range(1, 20):  # twenty heartbeats with Redis away, alerts piling up
            health.failed("Redis at redis://x failed: Connection refused", time.time())
            reporter.redis(health, outbox_depth=depth)
        time.sleep(0.2)
        health.answered()
        away_s = time.time() - first_sent
        reporter.redis(health, outbox_depth=19)  # back...
        reporter.redis(health, outbox_depth=7, delivered=12)  # delivering...
        reporter.redis(health, outbox_depth=0, delivered=7)  # ...done
        reporter.redis(health, outbox_depth=0, delivered=0)
    assert health.last_outage_s is not None
    assert away_s - 0.05 <= health.last_outage_s <= away_s
    return [r.getMessage() for r in caplog.records]


def test_a_redis_outage_is_one_warning_and_one_line_when_it_ends(caplog, make_settings) -> None:
    lines = run_outage(caplog, make_settings())
    assert len(lines) == 3, lines
    assert "is not answering" in lines[0] and "(1 there now)" in lines[0]
    assert "is back after 0.2 s" in lines[1] and "holds 19 alerts" in lines[1]
    assert lines[2].startswith("19 alerts kept in the outbox")


def test_an_outage_is_measured_from_the_first_failed_call_not_from_its_timeout() -> None:
    health = RedisHealth()
    health.answered()
    answered_at = time.time()
    sent_at = answered_at + 0.1
    time.sleep(0.3)  # the call waits for its socket timeout, then fails
    health.failed("timed out", sent_at)
    assert health.down_since == sent_at
    health.answered()
    assert health.last_outage_s is not None and health.last_outage_s >= 0.2
    # A failing call sent before the last answer: the outage began at that answer.
    health.failed("timed out", health.last_answer_at - 5)  # type: ignore[operator]
    assert health.down_since == health.last_answer_at


def test_lag_is_said_once_when_behind_and_once_when_caught_up(caplog, make_settings) -> None:
    settings = make_settings(min_interval_s=1)
    sources = [
        Source(url=f"https://h/{i}", name=str(i), kind="http", interval_s=10) for i in range(4)
    ]
    reporter = Reporter(settings)
    now = utcnow()
    late = SourceState(next_due_at=now - timedelta(seconds=30))
    on_time = SourceState(next_due_at=now + timedelta(seconds=5))
    behind = {s.key: late if s.name in "01" else on_time for s in sources}
    with caplog.at_level(logging.INFO, logger="ingest.service"):
        for _ in range(5):
            reporter.lag(sources, SharedSchedule(behind, {}, frozenset()), now)
        for _ in range(5):
            reporter.lag(
                sources, SharedSchedule(dict.fromkeys(behind, on_time), {}, frozenset()), now
            )
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("falling behind: 2 of 4 sources") and lines[1].startswith(
        "caught up"
    )


def test_lag_counts_sources_never_polled_from_when_first_listed_and_not_those_being_polled(
    make_settings,
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(min_interval_s=1)
    sources = [
        Source(url=f"https://h/{i}", name=str(i), kind="http", interval_s=10) for i in range(3)
    ]
    metrics = Metrics()
    reporter = Reporter(settings, metrics)
    now = utcnow()
    listed = {s.key: now.timestamp() - 100 for s in sources}  # listed by another worker
    being_polled = SourceState(next_due_at=now - timedelta(seconds=500))
    states = {sources[2].key: being_polled}
    reporter.lag(sources, SharedSchedule(states, listed, frozenset({sources[2].key})), now)
    assert metrics.overdue._value.get() == 2
    assert 99 <= metrics.worst_lag._value.get() <= 101
