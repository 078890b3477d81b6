"""Delivery you can trust, against real Redis servers and real `wirewatch run` processes:
Redis away for 30 s, a worker killed with SIGKILL, two workers sharing sources."""

from __future__ import annotations

import random
import signal
import time
import uuid
from pathlib import Path

import pytest

from tests.service.conftest import PrivateRedis, Workers
from tests.service.feedserver import serve
from tests.service.workload import (
    alert_counts,
    assert_each_alerted_once,
    consecutive,
    feed_workers,
    publish_feeds,
    wait_for,
    wait_for_first_entry,
)


@pytest.mark.timeout(180)
def test_redis_away_for_30s_loses_and_doubles_nothing(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:outage:{uuid.uuid4().hex[:6]}"
    with serve() as server:
        feed_workers(server, workers, tmp_path, private_redis.url, channel, {0: [0, 1], 1: [2]})
        workers.start()
        wait_for(
            lambda: len(alert_counts(private_redis, channel)) == 3, 60, "first alerts", workers
        )
        private_redis.stop()
        publish_feeds(server, {0: [0, 1, 3, 4], 1: [2, 5]})  # news arrives while Redis is away
        time.sleep(30)
        kept = list((tmp_path / "outbox").glob("*.json"))
        assert kept, f"alerts were not kept in the outbox\n{workers.logs()}"
        private_redis.start()
        assert_each_alerted_once(private_redis, channel, 6, workers, timeout_s=60)
    assert not list((tmp_path / "outbox").glob("*.json"))
    # The outage is told in a handful of lines, not one per alert, poll or feed state.
    warnings = [line for line in workers.logs().splitlines() if " WARNING " in line]
    assert len(warnings) <= 3, "\n".join(warnings)
    assert workers.logs().count("is back after") == 1, workers.logs()


@pytest.mark.timeout(240)
def test_kill_9_mid_batch_then_restart(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:kill:{uuid.uuid4().hex[:6]}"
    feeds, per_feed = 30, 20
    total = feeds * per_feed
    with serve() as server:
        feed_workers(
            server, workers, tmp_path, private_redis.url, channel, consecutive(feeds, per_feed)
        )
        first = workers.start()
        wait_for_first_entry(private_redis, channel, 120)
        first.send_signal(signal.SIGKILL)  # while it is publishing the batch
        first.wait(timeout=10)
        published_before_kill = len(alert_counts(private_redis, channel))
        workers.start()
        assert_each_alerted_once(private_redis, channel, total, workers, timeout_s=120)
    assert 0 < published_before_kill < total, f"the kill landed after {published_before_kill}"


@pytest.mark.timeout(180)
def test_two_workers_split_100_sources(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:pair:{uuid.uuid4().hex[:6]}"
    feeds = 100
    with serve() as server:
        # Both workers are running before any feed has a story; then every feed gets its story.
        # Which worker polls which feed is not fixed: the first to tick after the feeds are due
        # may take them all (CI at load ~4 saw one worker poll all 100 in under 2 s), so the
        # test asks what is promised, each story alerted exactly once with both competing.
        feed_workers(
            server, workers, tmp_path, private_redis.url, channel, {f: [] for f in range(feeds)}
        )
        workers.start()
        workers.start()
        wait_for(
            lambda: workers.logs().count(" running: ") == 2, 60, "both workers running", workers
        )
        publish_feeds(server, {f: [f] for f in range(feeds)})
        assert_each_alerted_once(private_redis, channel, feeds, workers, timeout_s=90)
    workers.stop_all()
    assert workers.logs().count("stopped ") == 2, workers.logs()  # both ran until the end


@pytest.mark.timeout(240)
def test_fetch_and_match_roles_split_the_work(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:roles:{uuid.uuid4().hex[:6]}"
    feeds, per_feed = 20, 10
    with serve() as server:
        feed_workers(
            server, workers, tmp_path, private_redis.url, channel, consecutive(feeds, per_feed)
        )
        workers.start("--role", "fetch")
        matcher = workers.start("--role", "match")
        wait_for_first_entry(private_redis, channel, 120)
        matcher.send_signal(signal.SIGKILL)  # its unacknowledged articles go to the next one
        matcher.wait(timeout=10)
        workers.start("--role", "match")
        assert_each_alerted_once(private_redis, channel, feeds * per_feed, workers, timeout_s=120)
    assert "matching from" in workers.logs()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("seed", [11])
def test_kill_9_at_random_points_then_restart(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers, seed: int
) -> None:
    channel = f"alerts:kills:{uuid.uuid4().hex[:6]}"
    feeds, per_feed = 30, 20
    rng = random.Random(seed)
    with serve() as server:
        feed_workers(
            server, workers, tmp_path, private_redis.url, channel, consecutive(feeds, per_feed)
        )
        for _ in range(4):  # start-up, fetching, NER, publishing, state writes: wherever it lands
            victim = workers.start()
            time.sleep(rng.uniform(0.5, 5.0))
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
        workers.start()
        assert_each_alerted_once(private_redis, channel, feeds * per_feed, workers, timeout_s=150)
